/// How long what cloudbench starts or creates on a host outlives an orchestrator that stopped
/// renewing it (killed, or cut off): the one place both sides read the lease's period from.
///
/// The orchestrator renews each host's lease file (`touch`) once per `period`; the agent's
/// server and tunnel, and the host's watchdog, give up after `missedPeriods` periods without a
/// renewal: the processes exit, the watchdog removes the devices and files (docs/security.md).
public enum LeaseTerms {
    /// Seconds between renewals; short enough that a killed run is gone in seconds.
    public static let period: Double = 3
    /// Renewals that may be missed before the lease has run out.
    public static let missedPeriods = 3
    /// Seconds without a renewal after which a lease has run out.
    public static var expiry: Double { period * Double(missedPeriods) }
}
