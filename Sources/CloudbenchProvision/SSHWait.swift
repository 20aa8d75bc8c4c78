import CloudbenchSSH
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Waits until every address answers on TCP port 22, each within one deadline.
///
/// A refused or silent port is tried again (the instance is still booting); "no route" ends the
/// wait at once, since waiting cannot make a route appear (that is what the moto tests meet, inside
/// a namespace without a default route).
public enum SSHWait {
    public static func untilAnswering(_ addresses: [String], port: UInt16 = 22, deadline seconds: Double,
                                      cancelled: () -> Bool) throws {
        let end = Date().addingTimeInterval(seconds)
        for address in addresses {
            var last = "no answer"
            while true {
                if cancelled() { throw ProvisionError("stopped by a signal", status: 130) }
                let left = end.timeIntervalSinceNow
                if left <= 0 {
                    throw ProvisionError("SSH on \(address):\(port) did not answer within \(Int(seconds)) s (\(last)); check --ssh-from is this machine's public address")
                }
                do {
                    let fd = try TCPConnector.connect(address, port, min(10, left))
                    close(fd)
                    break
                } catch {
                    last = "\(error)"
                    let lower = last.lowercased()
                    if lower.contains("unreachable") {
                        throw ProvisionError("SSH on \(address):\(port) cannot be reached: \(last); this machine has no route to the instance")
                    }
                    Thread.sleep(forTimeInterval: min(3, max(0, end.timeIntervalSinceNow)))
                }
            }
        }
    }
}
