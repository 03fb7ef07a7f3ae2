import NIOCore

/// Closes a connection as soon as its request cannot be parsed — e.g. a header beyond the
/// decoder's 80 KiB limit. Hummingbird answers 400 and then waits for the client to hang up, but
/// a client still sending a megabyte header never reads that answer and the server has stopped
/// reading: both would wait forever. Closing ends it at once (the client sees a reset).
final class CloseOnParseError: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any  // passed through untouched (the default channelRead forwards it)

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }
}
