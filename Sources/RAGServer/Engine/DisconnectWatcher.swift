import NIOCore

/// Notices a client that went away while its request waits for a slot or for a whole answer.
/// Hummingbird allows remote half-closure, so a client's close arrives as `inputClosed` rather
/// than closing the channel; either sets the request's cancel flag.
final class DisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    private weak var flag: CancelFlag?

    init(flag: CancelFlag) { self.flag = flag }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { flag?.set(.disconnected) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        flag?.set(.disconnected)
        context.fireChannelInactive()
    }
}
