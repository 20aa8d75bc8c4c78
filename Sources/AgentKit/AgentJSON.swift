/// Fields every JSON document of the agent starts with.
public enum AgentJSON {
    public static let schema = "cloudbench-agent/1"

    public static func header(_ test: TestKind) -> [(String, JSON)] {
        [("schema", .string(schema)), ("test", .string(test.rawValue)), ("agent_version", .string(AgentVersion.version))]
    }
}
