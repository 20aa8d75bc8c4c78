@testable import CloudbenchProvision
import CloudbenchPricing
import Foundation
import XCTest

/// The EC2 client against a loopback fixture server (the pricing tests' `fixture_server.py`), which
/// checks the SigV4 signature as AWS would and answers in sequence: throttling retried with
/// backoff, EC2's error codes read from the body, secrets never in a message.
final class EC2ClientTests: XCTestCase {
    var server: Process?
    var dir = ""

    override func tearDown() {
        if let server, server.isRunning {
            kill(server.processIdentifier, SIGTERM)
            server.waitUntilExit()
        }
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
        super.tearDown()
    }

    static func error(_ code: String) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>\(code)</Code><Message>said by the test</Message></Error></Errors><RequestID>r</RequestID></Response>"
    }

    func start(_ routes: [[String: Any]]) throws -> String {
        dir = NSTemporaryDirectory() + "cb-ec2-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: ["routes": routes]).write(to: URL(fileURLWithPath: "\(dir)/scenario.json"))
        FileManager.default.createFile(atPath: "\(dir)/log.jsonl", contents: Data())
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "\(Repo.root)/Tests/CloudbenchPricingTests/Fixtures/fixture_server.py",
                       "\(dir)/scenario.json", "\(dir)/log.jsonl", "\(dir)/port"]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        server = p
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let t = try? String(contentsOfFile: "\(dir)/port", encoding: .utf8), let port = Int(t) { return "http://127.0.0.1:\(port)/" }
            usleep(20_000)
        }
        throw XCTSkip("the fixture server did not start")
    }

    func route(_ action: String, _ responses: [[String: Any]]) -> [String: Any] {
        ["method": "POST", "path": "/", "body_contains": ["Action=\(action)"],
         "verify_sigv4": ["access_key": "AKIDEXAMPLE", "secret": "wJalrXUtnFEMI-test-secret", "region": "eu-west-1", "service": "ec2"],
         "responses": responses]
    }

    func testThrottlingIsRetriedAndErrorCodesAreRead() throws {
        let throttled: [String: Any] = ["status": 503, "body": Self.error("RequestLimitExceeded")]
        let url = try start([
            route("DescribeInstances", [throttled, throttled, ["status": 200, "body": "<DescribeInstancesResponse><reservationSet/></DescribeInstancesResponse>"]]),
            route("DeleteSecurityGroup", [["status": 400, "body": Self.error("InvalidGroup.NotFound")]]),
            route("DescribeVolumes", [throttled]),
        ])
        let client = try EC2Client(region: "eu-west-1",
                                   credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI-test-secret"),
                                   environment: ["CLOUDBENCH_AWS_EC2_URL": url])
        client.retry = RetryPolicy(maxAttempts: 8, baseDelay: 0.01, maxDelay: 0.05)
        client.throttleAttempts = 4

        let answer = try client.call("DescribeInstances", EC2Client.filters([("tag:cloudbench-run", ["R 1/x"])]))
        XCTAssertEqual(answer.name, "DescribeInstancesResponse")
        XCTAssertEqual(client.calls["DescribeInstances"], 3, "two throttled answers, then the real one")

        XCTAssertThrowsError(try client.call("DeleteSecurityGroup", [("GroupId", "sg-1")])) { error in
            let e = error as? EC2Error
            XCTAssertEqual(e?.code, "InvalidGroup.NotFound")
            XCTAssertEqual(e?.isNotFound, true)
        }
        XCTAssertThrowsError(try client.call("DescribeVolumes")) { error in
            XCTAssertEqual((error as? EC2Error)?.code, "RequestLimitExceeded")
            XCTAssertFalse("\(error)".contains("wJalrXUtnFEMI"))
        }
        XCTAssertEqual(client.calls["DescribeVolumes"], 4, "throttling is given up after throttleAttempts")
        // A signature the server refuses (wrong secret) is an error the user is told to fix.
        let wrong = try EC2Client(region: "eu-west-1", credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "nope"),
                                  environment: ["CLOUDBENCH_AWS_EC2_URL": url])
        XCTAssertThrowsError(try wrong.call("DescribeInstances")) { error in
            XCTAssertFalse("\(error)".contains("nope"))
        }
        let log = try String(contentsOfFile: "\(dir)/log.jsonl", encoding: .utf8)
        XCTAssertTrue(log.contains("Filter.1.Value.1=R%201%2Fx"), "values are percent-encoded in the form body")
        XCTAssertFalse(log.contains("wJalrXUtnFEMI"), "the secret never goes over the wire")
    }
}
