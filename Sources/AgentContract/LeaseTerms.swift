/// How long what cloudbench starts or creates on a host outlives an orchestrator that stopped
/// renewing it (killed, or cut off): the one place both sides read the lease's period from.
///
/// The orchestrator renews each host's lease file (`touch`) once per period; the agent's server
/// and tunnel, and the host's watchdog, give up after `missedPeriods` periods without a renewal:
/// the processes exit, the watchdog removes the devices and files (docs/security.md).
///
/// The period is `period` for a run over up to `renewalsPerSecond × period` hosts and longer for
/// more (`period(hosts:)`), so that renewing every host once per period never costs more than
/// `renewalsPerSecond` SSH commands a second: over 240 hosts at 3 s, the renewals (80 a second)
/// fell behind on a loaded controller and agent servers ended themselves before their first
/// test. A run writes its period beside the lease (`periodFile(of:)`, whole seconds); the agent,
/// the watchdog and another run's host lock read it from there.
public enum LeaseTerms {
    /// Seconds between renewals for a run over few hosts; short enough that a killed run is gone in seconds.
    public static let period: Double = 3
    /// Renewals that may be missed before the lease has run out.
    public static let missedPeriods = 3
    /// Seconds without a renewal after which a lease of `period` has run out.
    public static var expiry: Double { expiry(period: period) }
    /// Seconds without a renewal after which a lease of period `p` has run out.
    public static func expiry(period p: Double) -> Double { p * Double(missedPeriods) }

    /// Renewal commands a second a run may spend over all its hosts.
    public static let renewalsPerSecond = 20
    /// The longest period, in seconds: a period file stating more (or anything but a whole number
    /// from 1) is read as `period`.
    public static let longestPeriod = 60

    /// The period for a run over `hosts` hosts, whole seconds: `period` up to 60 hosts, then one
    /// second more per 20 hosts (12 s for 240), at most `longestPeriod`.
    public static func period(hosts: Int) -> Double {
        let spread = (max(0, hosts) + renewalsPerSecond - 1) / renewalsPerSecond
        return Double(min(longestPeriod, max(Int(period), spread)))
    }

    /// The file beside the lease `lease` that holds the run's period.
    public static func periodFile(of lease: String) -> String { lease + ".period" }

    /// The period a period file's text states: a whole number of seconds from 1 to
    /// `longestPeriod`, or `period` when the text is missing or anything else.
    public static func period(stated text: String?) -> Double {
        // As `echo N >` writes it: the digits and a newline.
        guard let text, text.utf8.count <= 16, let n = Int(text.hasSuffix("\n") ? text.dropLast() : Substring(text)),
              (1...longestPeriod).contains(n) else {
            return period
        }
        return Double(n)
    }
}
