# shellcheck shell=bash
# Sourced by the scripts that run on a lab of their own (demo.sh, bench-compare.sh, bench-scale.sh):
# the root check, lab up, `compare` from the lab's controller, and a trap that always takes the
# lab down (and removes the script's scratch folder): on exit, on failure, on Ctrl-C, SIGTERM, SIGHUP.
# The sourcing script sets BIN (the folder holding `cloudbench`) first.

# lab_begin TOOL NAME: exits 2 unless root; names the lab NAME and sets the trap. TOOL is the make
# target, for messages and the scratch folder's name.
lab_begin() {
  LAB_TOOL=$1
  LAB=$2
  if [ "$(id -u)" -ne 0 ]; then
    echo "make $LAB_TOOL: the lab needs root (network namespaces); run it with sudo" >&2
    exit 2
  fi
  trap lab_down EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

# lab_scratch: OUT, a fresh folder under /tmp that lab_down removes.
lab_scratch() {
  OUT=$(mktemp -d "/tmp/cloudbench-$LAB_TOOL.XXXXXX")
}

# lab_up PROFILE [LAB UP OPTIONS...]
lab_up() {
  "$BIN/cloudbench" lab up --name "$LAB" --profile "$@"
}

# lab_compare [COMPARE OPTIONS...]: `cloudbench compare` on the lab's inventory, from its controller.
lab_compare() {
  "$BIN/cloudbench" lab exec --name "$LAB" -- "$BIN/cloudbench" compare "/run/cloudbench-lab/$LAB/inventory.yaml" "$@"
}

# lab_down: takes the lab down whatever state it is in (quietly) and removes OUT; safe to call twice.
lab_down() {
  "$BIN/cloudbench" lab down --name "$LAB" >/dev/null 2>&1 || true
  if [ -n "${OUT:-}" ]; then rm -rf "$OUT"; fi
}
