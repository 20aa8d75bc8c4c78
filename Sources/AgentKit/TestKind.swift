// The agent's tests, and the platforms it runs on, are declared once in AgentContract, which the
// orchestrator shares.
@_exported import AgentContract
