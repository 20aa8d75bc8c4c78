import Foundation
import Testing
@testable import CloudbenchLab

@Suite("Lab profiles")
struct LabProfileTests {
    @Test("the small test profile has two pairs at 10 and 50 MB/s with the labnet overlay")
    func smallProfile() throws {
        let (profile, _) = try TestSupport.loadProfile("small")
        #expect(profile.pairs.map(\.goodput.bytesPerSecond) == [10e6, 50e6])
        #expect(profile.overlay?.name == "labnet")
        #expect(profile.overlay?.vni == 4242)
        #expect(profile.paths(for: profile.pairs[0]) == ["host", "labnet"])
    }

    @Test("reference-2015 emulates the study's instance types at the throughput it measured")
    func referenceMatchesStudy() throws {
        let csv = TestSupport.packageRoot.appendingPathComponent("../shared/reference/reference-study-2015.csv").path
        let (profile, _) = try TestSupport.loadProfile("reference-2015")
        let expected: Set<String> = ["azure/A0", "azure/A1", "azure/A2", "azure/A3", "azure/A4", "azure/D1", "azure/D2",
                                     "aws/t2.micro", "aws/m4.large", "aws/m4.xlarge", "digitalocean/512mb"]
        // Every pair but the emulated burstable one is a figure of the study.
        let studied = profile.pairs.filter { $0.burst == nil }
        #expect(Set(studied.map { "\($0.provider)/\($0.type)" }) == expected)
        let burstable = profile.pairs.filter { $0.burst != nil }
        #expect(burstable.map { "\($0.name) \($0.type) \($0.goodput) \($0.burst!.peak) \($0.burst!.creditBytes)" }
                == ["aws-t2-small t2.small 8 MB/s 126 MB/s 430000000"])
        #expect(profile.run.sustainedAfter == "7s")
        guard let text = try? String(contentsOfFile: csv, encoding: .utf8) else {
            Issue.record("reference data \(csv) is missing")
            return
        }
        // The study's host-network figure for each type: same region (Azure, DO) or same AZ (AWS).
        var study: [String: Double] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 6, f[2] == "host", f[3] == "same-region" || f[3] == "same-az",
                  let g = Goodput(parsing: "\(f[4]) \(f[5])") else { continue }
            study["\(f[0])/\(f[1])"] = g.bytesPerSecond
        }
        for pair in studied {
            #expect(study["\(pair.provider)/\(pair.type)"] == pair.goodput.bytesPerSecond, "\(pair.name)")
        }
    }

    @Test("mistakes are reported with their line and column", arguments: [
        ("name: x\npairs:\n  - { name: a, provider: p, type: t, goodput: fast }\n",
         "p.yaml:3:47: goodput 'fast' is not a rate like '24.8 MB/s', '590 KB/s' or '200 Mbit/s' from 1 B/s to 100 GB/s"),
        ("name: x\npairs:\n  - { name: a, provider: p, type: t, goodput: 1e300 GB/s }\n",
         "p.yaml:3:47: goodput '1e300 GB/s' is not a rate like '24.8 MB/s', '590 KB/s' or '200 Mbit/s' from 1 B/s to 100 GB/s"),
        ("name: x\nrun: { duration: 99999999999999999s }\npairs:\n  - { name: a, provider: p, type: t, goodput: 1 MB/s }\n",
         "p.yaml:2:18: duration must be from 0.001 to 3600 seconds, not '99999999999999999s'"),
        ("name: x\nrun: { repetitions: 99999999999999999999 }\npairs:\n  - { name: a, provider: p, type: t, goodput: 1 MB/s }\n",
         "p.yaml:2:21: repetitions must be a whole number from 1 to 1000"),
        ("name: x\npairs: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n",
         "p.yaml:2:71: the YAML nests deeper than 64 levels here; cloudbench's files need a handful"),
        ("name: x\nspeed: 3\npairs: []\n",
         "p.yaml:2:1: unknown key 'speed' in the profile; expected one of: description, groups, name, overlay, pairs, run"),
        ("name: x\npairs:\n  - { name: a, provider: p, type: t, goodput: 1 MB/s }\n  - { name: a, provider: p, type: t, goodput: 1 MB/s }\n",
         "p.yaml:4:13: pair name 'a' appears twice"),
        ("name: x\noverlay: { name: vxlan }\npairs:\n  - { name: a, provider: p, type: t, goodput: 1 MB/s }\n",
         "p.yaml:2:18: overlay name 'vxlan' is a built-in path; choose another, e.g. 'labnet'"),
        ("name: x\npairs:\n  - { name: a, provider: p, goodput: 1 MB/s }\n",
         "p.yaml:3:5: missing key 'type'"),
        ("name: x\nrun: { repetitions: 0 }\npairs:\n  - { name: a, provider: p, type: t, goodput: 1 MB/s }\n",
         "p.yaml:2:21: repetitions must be a whole number from 1 to 1000"),
        ("name: x\n", "p.yaml:1:1: the profile needs a non-empty list `pairs`"),
        ("name: x\nrun: { http_count: 0 }\npairs:\n  - { name: a, provider: p, type: t, goodput: 1 MB/s }\n",
         "p.yaml:2:20: http_count must be a whole number from 1 to 1000000"),
        ("name: x\npairs:\n  - { name: a, provider: p, type: t, goodput: 8 MB/s, burst: { rate: 5 MB/s, bytes: 100 MB } }\n",
         "p.yaml:3:70: burst rate 5 MB/s must be above the pair's goodput 8 MB/s"),
        ("name: x\npairs:\n  - { name: a, provider: p, type: t, goodput: 8 MB/s, burst: { rate: 126 MB/s, bytes: lots } }\n",
         "p.yaml:3:87: burst bytes 'lots' must be a size from 1 MB to 4 GB, like '575 MB'"),
        ("name: x\npairs:\n  - { name: a, provider: p, type: t, goodput: 1 MB/s, burst: { rate: 126 MB/s, bytes: 4 GB } }\n",
         "p.yaml:3:87: burst bytes '4 GB' take more than 250 s to refill at 1 MB/s; tbf cannot hold that"),
    ])
    func reportsMistakes(yaml: String, message: String) {
        #expect(throws: LabError.usage(message)) { try LabProfileParser.parse(yaml, source: "p.yaml") }
    }

    @Test("a profile is found by name in lab/profiles, and an unknown name lists the known ones")
    func locator() throws {
        let dir = TestSupport.packageRoot.appendingPathComponent("lab/profiles").path
        #expect(try LabProfileLocator.locate("small", in: [dir]) == dir + "/small.yaml")
        #expect(throws: LabError.self) { try LabProfileLocator.locate("nope", in: [dir]) }
        do {
            _ = try LabProfileLocator.locate("nope", in: [dir])
        } catch let error as LabError {
            #expect(error.message == "no lab profile named 'nope'; known profiles: bench-compare, bench-scale, reference-2015, small")
        }
    }
}

extension LabError: Equatable {
    public static func == (a: LabError, b: LabError) -> Bool { a.message == b.message && a.isUsage == b.isUsage }
}
