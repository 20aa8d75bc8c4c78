import AgentContract
import CloudbenchSSH
import Foundation

/// The lease everything cloudbench starts or creates on a host holds during a run.
///
/// At the start, each host gets a lease file (`RemoteLayout.leaseFile`, holding the run id), the
/// run's period beside it (`LeaseTerms.periodFile`: 3 s, longer for runs over more than 60 hosts)
/// and a watchdog: a small shell loop that checks once per period whether the file was
/// renewed. The orchestrator renews it (`renewal`, one `touch` per host per period); the agent's
/// server and tunnel watch it too (`--lease`) and exit once it runs out. When it goes
/// `LeaseTerms.missedPeriods` periods without a renewal (a killed or cut-off orchestrator), the
/// watchdog runs the host's cleanup: it stops what is left, removes the VXLAN and TUN devices,
/// the pid files, logs and the lease, then ends. It ends by itself too once the run's own
/// cleanup has removed the lease (and that cleanup stops it by its pid file).
public struct HostLease: Sendable {
    public var layout: RemoteLayout
    /// Seconds between renewals, whole (`LeaseTerms.period(hosts:)`).
    public var period: Double
    public init(layout: RemoteLayout, period: Double = LeaseTerms.period) {
        self.layout = layout
        self.period = period
    }

    /// The period as the shell and the agent read it: whole seconds within `LeaseTerms`' range.
    var wholePeriod: Int { min(LeaseTerms.longestPeriod, max(1, Int(period.rounded(.up)))) }

    var watchdogPidFile: String { "\(layout.runDirectory)/watchdog.pid" }

    /// The lease file with the run id, made by the login user (so that it renews it without
    /// sudo). Stands alone (`|| exit`): chained with `&&` to the watchdog's start, the whole list
    /// would go to the background and hold the session's output open.
    ///
    /// The lease is also the host's lock: while another run's lease is live (renewed less than
    /// its own period's expiry ago), this one is not made and the command exits with `heldStatus`,
    /// printing that run's id (`HostLock`). The check and the write are one step under the host's
    /// lock (`HostLock.serialized`).
    public func create(runID: String) -> String {
        let lock = HostLock(layout: layout)
        return "mkdir -p \(layout.runDirectory) || exit 1; "
            + lock.serialized(lock.refuseIfHeld(by: runID) + "echo \(wholePeriod) > \(LeaseTerms.periodFile(of: layout.leaseFile)) "
                              + "&& echo \(shellQuote(runID)) > \(layout.leaseFile) || exit 1") + " || exit $?"
    }

    /// Starts the watchdog in the background (as root when the host allows it, so that it can
    /// remove devices). Its command line names cloudbench-agent, so cleanup finds it by its pid file.
    public func startWatchdog() -> String {
        let d = layout.runDirectory, f = layout.leaseFile, seen = "\(d)/lease.seen"
        let period = wholePeriod
        let script = ": cloudbench-agent lease watchdog; f=\(f); m=\(seen); touch \"$m\"; n=0; "
            + "while [ -e \"$f\" ]; do sleep \(period); "
            + "if [ \"$f\" -nt \"$m\" ]; then touch \"$m\"; n=0; "
            + "else n=$((n + 1)); if [ $n -ge \(LeaseTerms.missedPeriods) ]; then \(layout.cleanupScript); exit 0; fi; fi; done; "
            + "rm -f \"$m\""
        return "nohup sh -c \(shellQuote(script)) > /dev/null 2>&1 < /dev/null & echo $! > \(watchdogPidFile)"
    }

    /// One renewal: touches the lease if it is still there (a lease the run's cleanup removed
    /// stays removed).
    public var renew: String { "touch -c \(layout.leaseFile)" }

    /// Creates the lease and starts its watchdog on `host`: one command, or two when the watchdog
    /// needs sudo and the lease must stay the login user's.
    public static func begin(on host: RemoteHost, runID: String, period: Double = LeaseTerms.period) async throws {
        let lease = HostLease(layout: host.layout, period: period)
        do {
            if host.isRoot || !host.hasRoot {
                try await host.check(lease.create(runID: runID) + "; " + lease.startWatchdog(), what: "start the host's lease", timeout: 20)
            } else {
                try await host.check(lease.create(runID: runID), what: "create the host's lease", timeout: 20)
                try await host.check(lease.startWatchdog(), what: "start the lease watchdog", timeout: 20, privileged: true)
            }
        } catch RemoteError.failed(_, _, let out) where out.status == HostLock.heldStatus {
            throw HostLock.Held(host: host.label, said: out.stdout)
        }
    }
}

/// Renews the leases of a run's hosts, once per `period` each (the run's, `LeaseTerms.period(hosts:)`), until `stop`.
///
/// Each host on its own schedule (a slow host does not hold up the others' renewals); a failed
/// renewal is not an error here: a lost host is noticed by its cells, and its lease runs out.
/// A host whose SSH session is busy is skipped that period: its session runs one command at a
/// time, and the long one, the agent client, renews the lease itself while it runs (`--lease`).
/// So is a host whose lease was renewed less than a period ago (`RemoteHost.leaseRenewed`): by
/// the agents of a cell that just ended. Hosts that measure back to back then cost no SSH
/// command for their leases (a run over hundreds of hosts would otherwise spend a command per
/// host every period).
public final class LeaseRenewal: Sendable {
    private let task: Task<Void, Never>

    public init(hosts: [RemoteHost], period: Double = LeaseTerms.period) {
        task = Task {
            await withTaskGroup(of: Void.self) { group in
                for host in hosts {
                    group.addTask {
                        let command = HostLease(layout: host.layout).renew
                        var next = Date().addingTimeInterval(period)
                        while !Task.isCancelled {
                            let wait = next.timeIntervalSinceNow
                            if wait > 0 { try? await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
                            if Task.isCancelled { return }
                            if !host.isBusy && !host.leaseRenewed(within: period),
                               let out = try? await host.run(command, timeout: period * 2), out.status == 0 {
                                host.leaseRenewed()
                            }
                            // A fixed rate: a slow renewal does not push the next one back.
                            next = max(next.addingTimeInterval(period), Date())
                        }
                    }
                }
            }
        }
    }

    /// Stops renewing (before the run's cleanup removes the leases).
    public func stop() { task.cancel() }

    /// Stops renewing and waits for a renewal in flight (at most its timeout): no SSH call of it
    /// outlives the run.
    public func finish() async {
        task.cancel()
        await task.value
    }
}
