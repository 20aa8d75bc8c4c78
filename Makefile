# cloudbench: `make demo` runs the main job on the built-in default, `make test` runs the tests.
# Both install what they need first (Debian packages, only when missing).

SWIFT        ?= swift
CONFIG       ?= release
BUILD_FLAGS  ?=
BIN          := $(shell $(SWIFT) build -c $(CONFIG) --show-bin-path 2>/dev/null)

# Debian packages the build, the tests and the lab need.
APT_PACKAGES := libssh2-1-dev libcurl4-openssl-dev libssl-dev pkg-config \
                openssh-server openssh-client iproute2 iputils-ping qperf iperf3 sockperf python3 python3-venv \
                nftables sudo podman runc busybox-static

# moto's EC2 in server mode for the provisioning tests (docs/provision.md), from PyPI, in a
# virtual environment of the repository (git-ignored); installed only when missing.
MOTO_VENV    := .venv-moto

.PHONY: setup build agent test demo reference bench bench-report bench-agent bench-compare bench-scale clean

## setup: install the Debian packages that are missing (idempotent).
setup:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then echo "setup: run as root (or sudo make setup) to install:$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@if [ ! -x $(MOTO_VENV)/bin/moto_server ]; then \
	  echo "installing moto[server] into $(MOTO_VENV)/"; \
	  python3 -m venv $(MOTO_VENV) && $(MOTO_VENV)/bin/pip install -q 'moto[server]>=5,<6'; \
	fi

## build: the cloudbench CLI and the agent (static Swift standard library).
build: setup
	$(SWIFT) build -c $(CONFIG) --product cloudbench $(BUILD_FLAGS)
	$(SWIFT) build -c $(CONFIG) --product cloudbench-agent --static-swift-stdlib $(BUILD_FLAGS)

## test: every test; network tests use namespaces they create and remove.
test: setup
	$(SWIFT) build -c $(CONFIG) --product cloudbench-agent --static-swift-stdlib
	$(SWIFT) build -c $(CONFIG) --product cloudbench
	CLOUDBENCH_BIN="$(BIN)" $(SWIFT) test --no-parallel

## demo: the main job on the built-in lab: emulated instances, real SSH, real measurements (root).
demo: build
	scripts/demo.sh "$(BIN)"

## reference: the 2015 study's published figures, imported and rendered as cloudbench reports them.
reference: build
	@mkdir -p results reports
	@rm -f results/reference-2015.jsonl
	"$(BIN)/cloudbench" import reference-csv ../shared/reference/reference-study-2015.csv --out results/reference-2015.jsonl --region azure=westeurope --region aws=us-east-1 --region digitalocean=ams3
	"$(BIN)/cloudbench" report results/reference-2015.jsonl --inventory inventories/reference-2015.yaml --out reports/reference-2015.md --svg reports/reference-2015.svg --csv reports/reference-2015.csv

## bench: speed targets (not timed tests).
bench: bench-report

## bench-report: `report`'s load, statistics and rendering on BENCH_RECORDS synthetic records (target: < 1 s
## for 100,000); `make bench-report BENCH_RECORDS=1000000` for a million. docs/report.md.
BENCH_RECORDS ?= 100000
bench-report: build
	"$(BIN)/cloudbench" bench-report --records $(BENCH_RECORDS)

clean:
	rm -rf .build

# --- lab (docs/lab.md): the emulated cloud, for trying cloudbench by hand --------------------
.PHONY: lab-up lab-check lab-status lab-down

## lab-up: bring up the reference-2015 lab (24 emulated instances); LAB_PROFILE=small for a quick one.
LAB_PROFILE ?= reference-2015
lab-up: build
	"$(BIN)/cloudbench" lab up --profile $(LAB_PROFILE)

## lab-check: measure every lab link against the goodput it emulates (iperf3).
lab-check: build
	"$(BIN)/cloudbench" lab check

lab-status: build
	"$(BIN)/cloudbench" lab status

## lab-down: remove the lab, also after a crash.
lab-down: build
	"$(BIN)/cloudbench" lab down

## bench-compare: compare's orchestration overhead on a lab of its own (root): 2 pairs × host and vxlan ×
## tcp_bw and tcp_lat × 3 repetitions of 1 s + 3 s; prints `run summary: ideal …, wall …, overhead …`.
## BENCH_LOG=FILE keeps the --verbose log (every remote command with its duration).
bench-compare: build
	scripts/bench-compare.sh "$(BIN)"

## bench-scale: compare --parallel 120 over 120 lab pairs (240 instances, tcp_lat cells of 2 s), root;
## prints wall, peak RSS, peak threads and peak fds of cloudbench (targets: < 45 s, < 300 MB, <= 200).
bench-scale: build
	scripts/bench-scale.sh "$(BIN)"

## bench-agent: the agent beside iperf3, qperf and sockperf on namespace links (root; not a timed test),
## with every run's error at 4.72, 12 and 100 Mbit/s. Prints markdown tables and whether each target is
## met; see docs/benchmarks.md. BENCH_AGENT_FLAGS="--low-only" runs the low-rate comparison alone.
bench-agent: setup
	$(SWIFT) build -c $(CONFIG) --product cloudbench-agent --static-swift-stdlib
	python3 scripts/bench-agent.py --agent "$(BIN)/cloudbench-agent" $(BENCH_AGENT_FLAGS)

## --- prices (issue 7) ---
.PHONY: bench-prices
## bench-prices: time and peak memory of `prices refresh --provider aws` on a synthetic 300 MB offer file (loopback only).
bench-prices: build
	Tests/CloudbenchPricingTests/Fixtures/bench_offer_file.sh "$(BIN)/cloudbench" 300
