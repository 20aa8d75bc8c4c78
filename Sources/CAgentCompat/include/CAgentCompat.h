// Keeps the agent's glibc floor at 2.34 (Ubuntu 22.04, Amazon Linux 2023); see docs/agent.md.
#pragma once
int cagent_compat_linked(void);
