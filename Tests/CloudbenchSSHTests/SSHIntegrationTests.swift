import CloudbenchTestSupport
import Foundation
import Testing

/// Every test that runs sshd in namespaces lives in this one serialized suite (spread over
/// files as extensions), so that timing assertions never compete with another lab.
@Suite("SSH against OpenSSH in network namespaces", .enabled(if: getuid() == 0), .serialized)
struct SSHIntegrationTests {}
