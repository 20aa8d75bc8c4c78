/// How long what cloudbench starts or creates on a host outlives an orchestrator that stopped
/// renewing it (killed, or cut off): the one place both sides read the lease's period from.
///
/// The orchestrator renews each host's lease file (`touch`) once per `period`; the agent's
/// server and tunnel, and the host's watchdog, give up after `missedPeriods` periods without a
/// renewal: the processes exit, the watchdog removes the devices and files (docs/security.md).
public enum LeaseTerms {
    /// Seconds between renewals. Each is one SSH command per host: at 3 s, 240 hosts asked for 80
    /// a second, and a controller under load fell behind (`make bench-scale` at load 69: agent
    /// servers ran out of lease in the middle of the run).
    public static let period: Double = 5
    /// Renewals that may be missed before the lease has run out: 30 s, so a link down for 10 s, or
    /// a controller that stalls for a few periods, does not end a run's servers, while a killed
    /// run is still gone within about half a minute.
    public static let missedPeriods = 6
    /// Seconds without a renewal after which a lease has run out.
    public static var expiry: Double { period * Double(missedPeriods) }
}
