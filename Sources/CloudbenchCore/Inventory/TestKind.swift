// A run's tests are the agent's tests: `TestKind` is declared once, in AgentContract.
@_exported import AgentContract
