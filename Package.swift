// swift-tools-version:6.0
import PackageDescription

// One target per concern; the tree says what the program does (docs/ARCHITECTURE.md).
let package = Package(
    name: "cloudbench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cloudbench", targets: ["cloudbench"]),
        .executable(name: "cloudbench-agent", targets: ["cloudbench-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.5.0"),
    ],
    targets: [
        // Inventory, catalogs, money, plan, result records, statistics: values, no network.
        .target(name: "CloudbenchCore", dependencies: ["AgentContract", .product(name: "Yams", package: "Yams")]),
        // Markdown / CSV / SVG renderers: pure functions of records and catalogs.
        .target(name: "CloudbenchReport", dependencies: ["CloudbenchCore"]),

        // libssh2 and the safe wrapper over it.
        .systemLibrary(name: "CSSH2", pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),
        // libcrypto for SHA-256 (upload checks, fingerprints) and HMAC-SHA1 (hashed known_hosts).
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "CloudbenchSSH", dependencies: ["CSSH2", "COpenSSL", "Syscall", "CloudbenchProcess"]),

        // libcurl, a C shim for its variadic calls, and the price fetchers.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CCurlShim", dependencies: ["CCurl"]),
        .target(name: "CloudbenchPricing", dependencies: ["CCurlShim", "CloudbenchCore"]),
        // Provisioning: fleets become instances and an inventory; AWS over the EC2 Query API (libcurl, SigV4).
        .target(name: "CloudbenchProvision", dependencies: ["CloudbenchCore", "CloudbenchPricing", "CloudbenchSSH", "CloudbenchLab"]),

        // What the agent and the orchestrator must agree on (the tests by name, the platform rule,
        // the agent's limits, read by the agent and by the inventory loader); no imports at all.
        .target(name: "AgentContract"),
        // The syscall door (typed wrappers, EINTR retried, errors that name the call), the
        // monotonic clock and deadlines: Glibc only, shared by the agent and the SSH connector.
        .target(name: "Syscall"),
        // The measurement engine: Glibc only, so the agent runs on a stock cloud image.
        .target(name: "AgentKit", dependencies: ["AgentContract", "Syscall"]),
        // Static libstdc++/libgcc and a glibc-2.34 floor: the agent needs nothing but glibc (docs/agent.md).
        .target(name: "CAgentCompat"),
        .executableTarget(
            name: "cloudbench-agent", dependencies: ["AgentKit", "CAgentCompat"],
            linkerSettings: [.unsafeFlags(["-L", Context.packageDirectory + "/Sources/CAgentCompat/static-link",
                                           "-Xclang-linker", "-static-libgcc"], .when(platforms: [.linux]))]
        ),

        // Running a local program with a deadline, and a lock box for the threads that read its pipes.
        .target(name: "CloudbenchProcess", dependencies: ["Syscall"]),
        // Network namespaces, veth, bridges and tc through iproute2 (lab and tests).
        .target(name: "NetNS", dependencies: ["CloudbenchProcess"]),
        .target(name: "CloudbenchLab", dependencies: ["NetNS", "CloudbenchCore", "AgentKit", .product(name: "Yams", package: "Yams")]),
        // compare: builds the agent's command line from AgentKit's own request type.
        .target(name: "CloudbenchOrchestrator", dependencies: ["CloudbenchCore", "CloudbenchSSH", "CloudbenchReport", "AgentKit",
                                                               .product(name: "Logging", package: "swift-log")]),

        .executableTarget(
            name: "cloudbench",
            dependencies: [
                "CloudbenchCore", "CloudbenchReport", "CloudbenchSSH", "CloudbenchPricing",
                "CloudbenchLab", "CloudbenchOrchestrator", "CloudbenchProvision",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "CloudbenchCoreTests", dependencies: ["CloudbenchCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CloudbenchReportTests", dependencies: ["CloudbenchReport", "CloudbenchCore", "CloudbenchProcess"], resources: [.copy("Golden"), .copy("Fixtures")]),
        // What the tests that start processes share: the SSH lab of sshd namespaces, fake sudo, helpers.
        .target(name: "CloudbenchTestSupport", dependencies: ["CloudbenchSSH", "NetNS"], path: "Tests/CloudbenchTestSupport"),
        .testTarget(name: "CloudbenchSSHTests", dependencies: ["CloudbenchSSH", "NetNS", "CloudbenchTestSupport"]),
        .testTarget(name: "CloudbenchPricingTests", dependencies: ["CloudbenchPricing", "CloudbenchCore", "CloudbenchProcess"], exclude: ["Fixtures"]),
        .testTarget(name: "AgentKitTests", dependencies: ["AgentKit", "Syscall", "NetNS"], exclude: ["Fixtures"]),
        .testTarget(name: "NetNSTests", dependencies: ["NetNS"]),
        .testTarget(name: "CloudbenchLabTests", dependencies: ["CloudbenchLab", "NetNS", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "CloudbenchOrchestratorTests",
                    dependencies: ["CloudbenchOrchestrator", "CloudbenchCore", "CloudbenchSSH", "CloudbenchProcess", "AgentKit", "NetNS",
                                   "CloudbenchTestSupport", .product(name: "Logging", package: "swift-log")],
                    exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["CloudbenchProcess"]),
        .testTarget(name: "CloudbenchProcessTests", dependencies: ["CloudbenchProcess"]),
        .testTarget(name: "CloudbenchProvisionTests", dependencies: ["CloudbenchProvision", "CloudbenchCore", "NetNS"], resources: [.copy("Fixtures")]),
        // Mutated inputs through every reader of outside input, in process (make test runs it).
        .testTarget(name: "FuzzTests", dependencies: ["CloudbenchCore", "CloudbenchReport", "CloudbenchLab", "AgentKit", "AgentContract"]),
    ],
    swiftLanguageModes: [.v6]
)
