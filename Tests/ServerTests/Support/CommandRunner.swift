import Foundation

/// Runs a program found on PATH (through /usr/bin/env) off the cooperative pool, and returns its exit
/// status with its standard output and error together: the Python checkers the server tests drive.
func runCommand(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await blocking {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
