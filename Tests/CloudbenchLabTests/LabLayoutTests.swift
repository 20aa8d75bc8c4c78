import Foundation
import Testing
import Yams
@testable import CloudbenchLab

@Suite("Lab layout and generated inventory")
struct LabLayoutTests {
    @Test("instances get short device names, distinct addresses and namespaces under the lab prefix")
    func layout() throws {
        let (profile, _) = try TestSupport.loadProfile("reference-2015")
        let layout = try LabLayout(configuration: LabConfiguration(), profile: profile)
        #expect(layout.instances.count == 24)
        #expect(layout.controllerNamespace == "cbl-lab-ctl")
        #expect(layout.controllerAddress == "10.240.0.1")
        #expect(layout.instances.first?.address == "10.240.0.10")
        #expect(layout.instances.first?.overlayAddress == "10.241.0.10")
        #expect(layout.instances.last?.address == "10.240.0.33")
        #expect(Set(layout.instances.map(\.address)).count == 24)
        #expect(Set(layout.namespaces).count == 26)
        #expect(layout.namespaces.allSatisfy { $0.hasPrefix("cbl-lab-") })
        #expect(layout.instances.allSatisfy { $0.fabricDevice.utf8.count <= 15 })
        #expect(layout.instances(of: "azure-a2")?.server.namespace == "cbl-lab-azure-a2-s")
    }

    @Test("lab names and subnets that could collide or break are refused", arguments: [
        LabConfiguration(name: "a-b"), LabConfiguration(name: "Lab"), LabConfiguration(name: "waytoolongname"),
        LabConfiguration(name: "lab", hostSubnet: "10.240"), LabConfiguration(name: "lab", hostSubnet: "10.240.300"),
        LabConfiguration(name: "lab", hostSubnet: "10.9.9", overlaySubnet: "10.9.9"),
        LabConfiguration(name: "lab", stateDirectory: "relative/dir"),
    ])
    func refusesBadConfiguration(config: LabConfiguration) {
        #expect(throws: LabError.self) { try config.validate() }
    }

    @Test("the inventory is schema 1 with the lab's key, known_hosts and overlay addresses")
    func inventory() throws {
        let (profile, _) = try TestSupport.loadProfile("small")
        let config = LabConfiguration(name: "lab", stateDirectory: "/run/cloudbench-lab/lab")
        let layout = try LabLayout(configuration: config, profile: profile)
        let files = LabFiles(directory: config.stateDirectory)
        let yaml = LabInventory.yaml(layout: layout, files: files)
        let doc = try #require(try Yams.load(yaml: yaml) as? [String: Any])
        #expect(doc["version"] as? Int == 1)
        #expect(doc["name"] as? String == "lab-small")
        #expect(doc["currency"] as? String == "USD")
        let ssh = try #require(doc["ssh"] as? [String: Any])
        #expect(ssh["user"] as? String == "root")
        #expect(ssh["port"] as? Int == 22)
        #expect(ssh["identity"] as? String == "/run/cloudbench-lab/lab/id_ed25519")
        #expect(ssh["known_hosts"] as? String == "/run/cloudbench-lab/lab/known_hosts")
        #expect(ssh["sudo"] as? Bool == false)
        let run = try #require(doc["run"] as? [String: Any])
        #expect(run["tests"] as? [String] == ["tcp_bw", "tcp_lat"])
        #expect(run["duration"] as? String == "2s")
        #expect(run["repetitions"] as? Int == 1)
        let pairs = try #require(doc["pairs"] as? [[String: Any]])
        #expect(pairs.map { $0["name"] as? String } == ["slow", "fast"])
        let fast = pairs[1]
        #expect(fast["provider"] as? String == "digitalocean")
        #expect(fast["type"] as? String == "512mb")
        #expect(fast["region"] as? String == "ams3")
        #expect(pairs[0]["region"] as? String == "eastus")
        #expect(fast["paths"] as? [String] == ["host", "labnet"])
        let server = try #require(fast["server"] as? [String: Any])
        #expect(server["address"] as? String == "10.240.0.12")
        #expect(server["test_ip"] as? String == "10.240.0.12")
        #expect((server["overlays"] as? [String: Any])?["labnet"] as? String == "10.241.0.12")
    }

    @Test("the demo profile's run knobs and per-pair tests reach the inventory: udp_bw and http on two pairs, 3 repetitions")
    func demoInventory() throws {
        let (profile, _) = try TestSupport.loadProfile("reference-2015")
        let config = LabConfiguration(name: "lab", stateDirectory: "/run/cloudbench-lab/lab")
        let layout = try LabLayout(configuration: config, profile: profile)
        let yaml = LabInventory.yaml(layout: layout, files: LabFiles(directory: config.stateDirectory))
        let doc = try #require(try Yams.load(yaml: yaml) as? [String: Any])
        let run = try #require(doc["run"] as? [String: Any])
        #expect(run["repetitions"] as? Int ?? 0 >= 3)
        #expect(run["udp_rate"] as? Int == profile.run.udpRate && run["udp_rate"] != nil)
        #expect(run["http_size"] as? Int == 200_000 && run["http_count"] as? Int == profile.run.httpCount)
        let pairs = try #require(doc["pairs"] as? [[String: Any]])
        let both = pairs.filter { (($0["tests"] as? [String]) ?? []).contains("udp_bw") && (($0["tests"] as? [String]) ?? []).contains("http") }
        #expect(both.count >= 2)
        // A pair without its own tests runs the run's.
        #expect(pairs.contains { $0["tests"] == nil })
    }

    @Test("scalars that YAML would read as numbers, booleans or flow syntax are quoted")
    func quoting() throws {
        for s in ["1.5", "yes", "no", "null", "a, b", "x: y", "{a}", "0.1207 EUR/h", "512", "A2", "t2.micro", "/a/b-c"] {
            let doc = try Yams.load(yaml: "k: \(LabInventory.scalar(s))\n") as? [String: Any]
            #expect(doc?["k"] as? String == s, "\(s)")
        }
    }

    @Test("instances get a private home and /tmp unless the state directory lies inside them", arguments: [
        ("/run/cloudbench-lab/lab", ["/root", "/tmp"]),
        ("/tmp/cbl-x", ["/root"]),
        ("/root/labs/x", ["/tmp"]),
        ("/rootless/x", ["/root", "/tmp"]),
        ("/tmp", ["/root"]),
    ])
    func privateDirectories(stateDirectory: String, expected: [String]) {
        #expect(SSHServerLaunch.privateDirectories(stateDirectory: stateDirectory, home: "/root") == expected)
    }
}
