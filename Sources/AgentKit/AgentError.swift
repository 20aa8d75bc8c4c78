/// An error the agent reports as one line on stderr.
///
/// `usage` is the caller's mistake (bad flag, bad address: exit status 2); `failed` is a test
/// that could not run or finish (unreachable server, refused token: exit status 1).
public enum AgentError: Error, CustomStringConvertible, Sendable {
    case usage(String)
    case failed(String)

    public var description: String {
        switch self {
        case .usage(let m), .failed(let m): return m
        }
    }

    public var exitStatus: Int32 {
        switch self {
        case .usage: return 2
        case .failed: return 1
        }
    }
}
