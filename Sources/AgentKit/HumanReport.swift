/// The human-readable rendering of a result (what `run` prints without `--json`).
public enum HumanReport {
    public static func render(_ j: JSON) -> String {
        func d(_ k: String, _ o: JSON? = nil) -> Double { (o ?? j)[k]?.doubleValue ?? .nan }
        func mb(_ v: Double) -> String { format("%.2f MB/s (%.1f Mbit/s)", v / 1e6, v * 8 / 1e6) }
        func pct(_ o: JSON?) -> String {
            guard let o else { return "" }
            return format("p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f", d("p50", o), d("p90", o), d("p99", o), d("p999", o), d("max", o))
        }
        var lines: [String] = []
        switch j["test"] {
        case .string("tcp_bw"):
            if case .array(let items)? = j["intervals"] {
                for i in items {
                    lines.append(format("%6.2f-%6.2f s  %12.0f bytes  ", d("start_s", i), d("end_s", i), d("bytes", i)) + mb(d("bytes_per_second", i)))
                }
            }
            let streams = d("streams") == 1 ? "1 stream" : format("%.0f streams", d("streams"))
            lines.append("throughput  " + mb(d("receiver_bytes_per_second")) + "  (\(streams), counted on the receiver)")
            if let back = j["reverse"] {
                lines.append("reverse     " + mb(d("receiver_bytes_per_second", back)) + "  (server to client, at the same time)")
                lines.append(format("tcp back    %.0f retransmits, rtt %.0f us", d("retransmits", back), d("rtt_us", back)))
            }
            lines.append(format("bytes       sender %.0f, receiver %.0f in the window", d("sender_bytes"), d("receiver_bytes")))
            lines.append(format("window      %.3f s from the first to the last byte counted, after %.2f s of warm-up; writes of %.0f bytes",
                                d("measured_s"), d("warmup_taken_s"), d("message_size")))
            lines.append(format("tcp         %.0f retransmits, rtt %.0f us, mss %.0f, path mtu %.0f", d("retransmits"), d("rtt_us"), d("mss"), d("mtu")))
            if let cpu = j["cpu"], let c = cpu["client"], let s = cpu["server"] {
                lines.append(format("cpu         client %.0f %%, server %.0f %% of one core", d("percent", c), d("percent", s)))
            }
        case .string("tcp_lat"):
            lines.append(format("latency     %.2f us (mean round trip / 2, as qperf)", d("latency_us")))
            lines.append("round trip  " + pct(j["rtt_us"]) + " us")
            lines.append(format("            %.0f round trips of %.0f bytes", d("round_trips"), d("message_size")))
        case .string("udp_bw"):
            lines.append("received    " + mb(d("receiver_bytes_per_second")) + "  (target " + mb(d("target_bytes_per_second")) + ")")
            lines.append(format("loss        %.3f %% (%.0f of %.0f datagrams arrived)", d("loss_percent"), d("received_datagrams"), d("sent_datagrams")))
        case .string("tcp_crr"):
            lines.append(format("rate        %.0f connections/s (connect, %.0f-byte request and response, close)",
                                d("connections_per_second"), d("message_size")))
            lines.append("transaction " + pct(j["transaction_us"]) + " us")
        case .string("udp_pps"):
            lines.append(format("received    %.0f datagrams/s of %.0f bytes  (target %.0f/s)",
                                d("receiver_packets_per_second"), d("message_size"), d("target_packets_per_second")))
            lines.append(format("loss        %.3f %% (%.0f of %.0f datagrams arrived)", d("loss_percent"), d("received_datagrams"), d("sent_datagrams")))
            if let cpu = j["cpu"], let c = cpu["client"], let s = cpu["server"] {
                lines.append(format("host cpu    client %.2f s, server %.2f s in a %.1f s window", d("host_cpu_s", c), d("host_cpu_s", s), d("window_s", c)))
            }
        case .string("http"):
            lines.append(format("object      %.0f bytes, %.0f fetches per mode", d("size"), d("count")))
            for mode in ["reuse", "new_connection"] {
                guard let m = j[mode] else { continue }
                lines.append("\(mode):")
                lines.append("  connect    " + pct(m["connect_us"]) + " us")
                lines.append("  first byte " + pct(m["first_byte_us"]) + " us")
                lines.append("  total      " + pct(m["total_us"]) + " us")
            }
        case .string("conf"):
            if let k = j["kernel"], case .string(let rel)? = k["release"] { lines.append("kernel      \(rel)") }
            if let c = j["cpu"], case .string(let m)? = c["model"] { lines.append("cpu         \(m), \(Int(d("cores", c))) cores") }
            lines.append(format("memory      %.1f GiB", d("memory_bytes") / 1073741824))
            if case .string(let g)? = j["glibc"] { lines.append("glibc       \(g)") }
            if case .array(let ifs)? = j["interfaces"] {
                for i in ifs {
                    if case .string(let n)? = i["name"] { lines.append("interface   \(n) mtu \(Int(d("mtu", i)))") }
                }
            }
        default:
            lines.append(j.serialized())
        }
        return lines.filter { !$0.isEmpty }.joined(separator: "\n")
    }
}
