import AgentKit
