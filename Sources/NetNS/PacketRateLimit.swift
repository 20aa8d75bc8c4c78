/// A packet-rate cap on what a namespace sends out of one device: nftables'
/// `limit rate over N/second` with a counter, in a table of its own (`cloudbench_pps`), the
/// lab's stand-in for a cloud's packet-per-second allowance (this kernel has nftables limits
/// but no tc policers). Packets over the rate are dropped and counted; the table goes with the
/// namespace.
///
/// Values and argument lists only: the caller runs them in the namespace (`ip netns exec NS …`).
public struct PacketRateLimit: Hashable, Sendable {
    /// The nftables table the cap lives in; nothing else is ever put in it.
    public static let table = "cloudbench_pps"
    /// Packets per second a cap may allow (nftables counts them in 64 bits; 100 M is far above any NIC's allowance).
    public static let range: ClosedRange<Int> = 1...100_000_000

    public var packetsPerSecond: Int
    /// The device whose egress is capped, inside the namespace.
    public var device: String

    public init(packetsPerSecond: Int, device: String) {
        self.packetsPerSecond = packetsPerSecond
        self.device = device
    }

    /// Packets the cap lets through at once above the rate: 10 ms of them (at least nftables'
    /// default of 5), so a paced sender that wakes a little late is not dropped below the rate.
    public var burstPackets: Int { max(5, packetsPerSecond / 100) }

    /// The nft script that (re)creates the table with the one rule: locally sent packets out of
    /// `device` over the rate (and its burst) are counted and dropped.
    public var script: String {
        "table inet \(Self.table) {}\n"
            + "delete table inet \(Self.table)\n"
            + "table inet \(Self.table) {\n"
            + "  chain egress {\n"
            + "    type filter hook output priority 0; policy accept;\n"
            + "    oifname \"\(device)\" limit rate over \(packetsPerSecond)/second burst \(burstPackets) packets counter drop\n"
            + "  }\n"
            + "}\n"
    }

    /// `nft -f FILE` with `script` written to FILE, run in the namespace.
    public static func applyArguments(namespace: String, scriptFile: String) -> [String] {
        ["ip", "netns", "exec", namespace, "nft", "-f", scriptFile]
    }

    /// The packets dropped so far, from `nft list table inet cloudbench_pps`'s output
    /// (`… limit rate over N/second counter packets 123 bytes 456 drop`); nil when there is no such rule.
    public static func dropped(nftListing text: String) -> Int? {
        for line in text.split(separator: "\n").prefix(1000) where line.contains("limit rate over") {
            // `burst 200 packets` comes first: the count is the word after `counter packets`.
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let at = words.firstIndex(of: "counter"), at + 2 < words.count, words[at + 1] == "packets",
                  let n = Int(words[at + 2]), n >= 0 else { return nil }
            return n
        }
        return nil
    }

    /// A stand-in `ethtool` for a host with this cap: a shell script that prints ENA-shaped
    /// counters (`ethtool -S`, `driver: ena` for `-i`) where `pps_allowance_exceeded` is the cap's
    /// drop counter and the other allowances stay 0. It is NOT a NIC's counter: it stands in for
    /// one so that collecting, recording and reporting an allowance can be tested end to end.
    /// `nft` is the program to ask (found on the host's PATH, or a full path).
    public static func standInEthtool(nft: String = "nft") -> String {
        """
        #!/bin/sh
        # cloudbench lab stand-in for ethtool (NOT a real NIC's counters): ENA-shaped output whose
        # pps_allowance_exceeded is the packets dropped by the lab's nftables packet-rate limit
        # (table inet \(table)). See docs/lab.md.
        case "$1" in
        -i) echo 'driver: ena'; echo 'version: cloudbench-lab-stand-in' ;;
        -S)
            n=$(\(nft) list table inet \(table) 2>/dev/null | sed -n 's/.*limit rate over.* counter packets \\([0-9][0-9]*\\) .*/\\1/p' | head -n 1)
            echo 'NIC statistics:'
            echo '     bw_in_allowance_exceeded: 0'
            echo '     bw_out_allowance_exceeded: 0'
            echo "     pps_allowance_exceeded: ${n:-0}"
            echo '     conntrack_allowance_exceeded: 0'
            echo '     linklocal_allowance_exceeded: 0' ;;
        *) echo "cloudbench lab stand-in ethtool: only -i and -S" >&2; exit 1 ;;
        esac

        """
    }
}
