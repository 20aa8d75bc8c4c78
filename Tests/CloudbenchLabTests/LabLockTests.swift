import Foundation
import Testing
@testable import CloudbenchLab

@Suite("Lab lock")
struct LabLockTests {
    @Test("a second lab up or down of the same lab is refused while the first holds the lock")
    func secondCommandIsRefused() throws {
        var config = TestSupport.configuration("l", third: 120)
        config.stateDirectory = NSTemporaryDirectory() + "cbl-test-\(config.name)"  // no root needed
        let lab = Lab(configuration: config)
        let (profile, text) = try TestSupport.loadProfile("small")
        let held = try LabLock(files: lab.files, name: config.name)
        let expected = LabError("another `cloudbench lab` command is bringing lab '\(config.name)' up or down (it holds \(held.path)); wait for it")
        #expect(throws: expected) { try lab.up(profile: profile, profileText: text) }
        #expect(throws: expected) { try lab.down() }
        held.release(removeFile: true)
        #expect(!FileManager.default.fileExists(atPath: held.path))
        // Released, the lock is free again; a down of a lab that never existed removes nothing.
        #expect(try lab.down().removedNothing)
        #expect(TestSupport.leftovers(of: config, pids: []) == [])
    }
}
