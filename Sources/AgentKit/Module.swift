// AgentKit: built by its own issue; see docs/ARCHITECTURE.md.
