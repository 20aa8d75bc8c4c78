import AgentContract
import CloudbenchSSH
import Foundation

/// The lock a run holds on a host: its lease (`HostLease`, `RemoteLayout.leaseFile`).
///
/// Two runs may name one host (two inventories, two people). Each run's cleanup kills every agent
/// cloudbench started there, so the second run must not clean up or measure while the first one
/// runs. A host is held while a lease of another run is live, that is renewed less than its
/// expiry ago (`LeaseTerms.missedPeriods` of the period that run wrote beside its lease). A run
/// that finds a host held does not wait: it leaves that host (and its pairs) out of the run and
/// says which run holds it. A run that was killed lets go once its lease
/// runs out; `--resume` with the same run id takes its own lease over.
public struct HostLock: Sendable {
    public var layout: RemoteLayout
    public init(layout: RemoteLayout) { self.layout = layout }

    /// The exit status of `refuseIfHeld` on a held host (EX_TEMPFAIL).
    public static let heldStatus: Int32 = 75

    /// A shell condition, true when a live lease of a run other than `runID` is on the host (of
    /// any run when `runID` is nil). It leaves the holder's period in `cbp`.
    func held(otherThan runID: String?) -> String {
        let f = layout.leaseFile
        // The holder's expiry from the period it wrote beside its lease (`LeaseTerms.periodFile`):
        // a whole number of seconds in range, else the shortest period.
        let p = LeaseTerms.periodFile(of: f), base = Int(LeaseTerms.period)
        var condition = "{ cbp=; { read -r cbp < \(p); } 2>/dev/null; case \"$cbp\" in ''|*[!0-9]*) cbp=\(base) ;; esac; "
            + "{ [ \"$cbp\" -ge 1 ] && [ \"$cbp\" -le \(LeaseTerms.longestPeriod) ]; } || cbp=\(base); true; } && "
            + "[ -s \(f) ] && [ $(( $(date +%s) - $(stat -c %Y \(f) 2>/dev/null || echo 0) )) -lt $(( cbp * \(LeaseTerms.missedPeriods) )) ]"
        if let runID { condition += " && [ \"$(head -c 200 \(f))\" != \(shellQuote(runID)) ]" }
        return condition
    }

    /// Ends the command with `heldStatus`, printing `held=RUN`, `age=SECONDS` and the holder's
    /// `expiry=SECONDS`, when another run holds the host; nothing otherwise. Ends in `; `, to go
    /// before the command it guards.
    public func refuseIfHeld(by runID: String) -> String {
        let f = layout.leaseFile
        return "if \(held(otherThan: runID)); then echo \"held=$(head -c 200 \(f))\"; "
            + "echo \"age=$(( $(date +%s) - $(stat -c %Y \(f) 2>/dev/null || echo 0) ))\"; "
            + "echo \"expiry=$(( cbp * \(LeaseTerms.missedPeriods) ))\"; exit \(Self.heldStatus); fi; "
    }

    /// `script`, unless another run than `runID` holds the host (then nothing); the check and the
    /// script are one step for every cloudbench command on the host (`serialized`).
    public func unlessHeld(_ script: String, runID: String?) -> String {
        serialized("if \(held(otherThan: runID)); then true; else \(script); fi")
    }

    /// Seconds a command waits for the host's lock; the commands that hold it run for milliseconds.
    public static let lockWait = 10

    /// `script` in a subshell that holds the host's lock (`flock` on `RemoteLayout.lockFile`), so
    /// that one run's check of the lease and what it does about it (write its own lease, clean up)
    /// cannot interleave with another run's: two runs started at the same moment cannot both take
    /// a host. The kernel lets go of the lock when the subshell ends, so a command killed half-way
    /// leaves no stale lock. The file is made by whoever comes first (the login user, or root at a
    /// deploy's cleanup through sudo) and given to the folder's owner; opened read-only, so either
    /// may lock it. Unlocked, as before, when the host has no `flock` (util-linux; busybox has it
    /// too) or no cloudbench folder yet (then there is no lease to race for: `HostLease.create`
    /// makes the folder first). Its exit status is the script's.
    public func serialized(_ script: String) -> String {
        let l = shellQuote(layout.lockFile)
        let parent = shellQuote((layout.lockFile as NSString).deletingLastPathComponent)
        return "if [ -d \(parent) ] && command -v flock >/dev/null 2>&1 "
            + "&& { [ -e \(l) ] || { : >> \(l) && chown \"$(stat -c %u:%g \(parent))\" \(l); }; } 2>/dev/null; then "
            + "( flock -w \(Self.lockWait) 9 || { echo \"another cloudbench command held \(layout.lockFile) for \(Self.lockWait) s\" >&2; exit 1; }; "
            + "\(script) ) 9< \(l); else ( \(script) ); fi"
    }

    /// Another run holds the host: which one, and what to do.
    public struct Held: Error, CustomStringConvertible {
        public var host: String
        public var runID: String
        public var age: Int?
        /// Seconds the holder's lease lasts without a renewal (its own period's expiry).
        public var expiry: Int

        /// From `refuseIfHeld`'s output (outside input: the run id is cut to 100 printable
        /// characters, age and expiry are read within their ranges).
        public init(host: String, said: String) {
            self.host = host
            var id = "", age: Int?, expiry: Int?
            let longest = Int(LeaseTerms.expiry(period: Double(LeaseTerms.longestPeriod)))
            for line in said.split(separator: "\n").prefix(4) {
                if line.hasPrefix("held=") { id = String(line.dropFirst(5).prefix(100).filter { $0.isASCII && !$0.isWhitespace && $0.asciiValue! >= 33 }) }
                if line.hasPrefix("age="), let n = Int(line.dropFirst(4)), (0...86_400).contains(n) { age = n }
                if line.hasPrefix("expiry="), let n = Int(line.dropFirst(7)), (1...longest).contains(n) { expiry = n }
            }
            runID = id.isEmpty ? "(unnamed)" : id
            self.age = age
            self.expiry = expiry ?? Int(LeaseTerms.expiry)
        }

        public var description: String {
            "in use by cloudbench run \(runID) (its lease renewed \(age.map { "\($0) s" } ?? "moments") ago); "
                + "not run here: wait for that run to end and run again (a killed run lets go within \(expiry) s)"
        }
    }
}
