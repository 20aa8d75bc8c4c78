#!/usr/bin/env bash
# make demo: the main job on the built-in lab. Brings up the reference-2015 lab (24 emulated
# instances with real sshd on shaped links), runs `cloudbench compare` against it from the lab's
# controller namespace, writes reports/demo.md (with its charts beside it as demo-KIND.svg) and
# prints it, and takes the lab down, also when something fails or on Ctrl-C.
# The time budget (under 5 minutes after the build on 2 cores) is set in data: the profile's run:
# section (3 repetitions of 1 s cells, udp_bw and http on two pairs, udp_pps and tcp_crr on one) and --parallel 3 here (pairs with most cells listed first in the profile);
# `cloudbench plan` on the lab's inventory estimates it (docs/report.md).
set -euo pipefail
BIN=${1:?usage: demo.sh BIN_DIR}
cd "$(dirname "$0")/.."
. scripts/lib-lab.sh
lab_begin demo demo
start=$(date +%s)
lab_up reference-2015
up=$(date +%s)
mkdir -p results reports
status=0
lab_compare --results-dir results --report reports/demo.md --parallel 3 --sustained || status=$?
measured=$(date +%s)
lab_down
trap - EXIT
end=$(date +%s)
echo
cat reports/demo.md
echo
echo "demo: lab up $((up - start)) s, compare $((measured - up)) s, lab down $((end - measured)) s; report in reports/demo.md"
exit $status
