import Foundation
import NetNS

/// The programs the lab drives, checked before anything is built so a missing one costs one clear line.
enum Prerequisites {
    /// Program and the Debian package that ships it.
    static let forUp: [(program: String, package: String)] = [
        ("ip", "iproute2"), ("tc", "iproute2"), ("bridge", "iproute2"),
        ("sshd", "openssh-server"), ("ssh-keygen", "openssh-client"),
    ]

    static func check(_ needed: [(program: String, package: String)]) throws {
        let missing = needed.filter { (try? ProcessRunner.resolve($0.program)) == nil }
        guard !missing.isEmpty else { return }
        let programs = missing.map(\.program).joined(separator: ", ")
        let packages = Array(Set(missing.map(\.package))).sorted().joined(separator: " ")
        throw LabError("the lab needs \(programs); install it with `make setup` or `apt-get install \(packages)`")
    }
}
