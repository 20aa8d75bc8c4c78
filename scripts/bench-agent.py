#!/usr/bin/env python3
"""make bench-agent: cloudbench-agent beside iperf3, qperf and sockperf on the same links.

Two network namespaces joined by one veth pair (10.231.30.0/24, neither namespace has a
default route); every server runs in `srv`, every client in `cli`. Four parts:

  1. throughput, unshaped: agent vs iperf3, 1 and 4 streams (median of --reps runs, interleaved)
  2. latency, unshaped: agent tcp_lat vs qperf tcp_lat vs sockperf ping-pong (median of --reps)
  3. accuracy: tbf on the sender's egress at three rates; each tool's error against the
     expected goodput R x 1448/1514
  4. low rates (issue 23): tbf at 4.72, 12 and 100 Mbit/s, --low-runs runs of each tool,
     interleaved; every single run's error and each tool's spread (max - min)

Not a timed test: figures depend on the machine. Removes everything it creates, on failure too.
"""
import argparse, json, os, re, signal, statistics, subprocess, sys, time

SUBNET = "10.231.30"
SRV_IP, CLI_IP = f"{SUBNET}.2", f"{SUBNET}.1"
PORTS = {"agent": 5201, "iperf3": 5202, "qperf": 19766, "sockperf": 11111}


def sh(*argv, check=True, capture=True, timeout=120):
    r = subprocess.run(argv, capture_output=capture, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


class Lab:
    def __init__(self):
        tag = os.getpid()
        self.srv, self.cli = f"cbb-{tag}-srv", f"cbb-{tag}-cli"
        self.dev_srv, self.dev_cli = f"cbb{tag % 100000}s", f"cbb{tag % 100000}c"
        self.procs = []

    def __enter__(self):
        for ns in (self.srv, self.cli):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", self.dev_cli, "type", "veth", "peer", "name", self.dev_srv)
        sh("ip", "link", "set", self.dev_cli, "netns", self.cli)
        sh("ip", "link", "set", self.dev_srv, "netns", self.srv)
        for ns, dev, ip in ((self.cli, self.dev_cli, CLI_IP), (self.srv, self.dev_srv, SRV_IP)):
            sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "mtu", "1500", "up")
        for ns in (self.srv, self.cli):
            assert sh("ip", "-n", ns, "route", "show", "default").strip() == "", "a default route exists"
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(3)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for ns in (self.srv, self.cli):
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)

    def server(self, *argv, env=None):
        p = subprocess.Popen(["ip", "netns", "exec", self.srv, *argv], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env)
        self.procs.append(p)
        return p

    def client(self, *argv, timeout=120):
        return sh("ip", "netns", "exec", self.cli, *argv, timeout=timeout)

    def shape(self, wire_rate):
        burst = max(32 * 1024, wire_rate // 250)  # the same bucket as NetNS Link.shape
        sh("ip", "netns", "exec", self.cli, "tc", "qdisc", "replace", "dev", self.dev_cli, "root", "tbf",
           "rate", f"{wire_rate * 8}bit", "burst", str(burst), "latency", "50ms")

    def unshape(self):
        subprocess.run(["ip", "netns", "exec", self.cli, "tc", "qdisc", "del", "dev", self.dev_cli, "root"],
                       capture_output=True)


UNITS = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


class Tools:
    def __init__(self, lab, agent, duration, warmup):
        self.lab, self.agent, self.duration, self.warmup = lab, agent, duration, warmup
        self.token = os.urandom(16).hex()

    def start_servers(self):
        env = dict(os.environ, CLOUDBENCH_AGENT_TOKEN=self.token)
        self.lab.server(self.agent, "serve", "--listen", f"{SRV_IP}:{PORTS['agent']}", "--deadline", "3600", env=env)
        self.lab.server("iperf3", "-s", "-B", SRV_IP, "-p", str(PORTS["iperf3"]))
        self.lab.server("qperf", "-lp", str(PORTS["qperf"]))
        self.lab.server("sockperf", "server", "--tcp", "-i", SRV_IP, "-p", str(PORTS["sockperf"]))
        time.sleep(1)

    def agent_run(self, *args):
        out = self.lab.client(self.agent, "run", "--server", f"{SRV_IP}:{PORTS['agent']}", "--token", self.token,
                              "--json", *args)
        return json.loads(out)

    # Each returns bytes/s (throughput) or microseconds (latency).
    def agent_bw(self, streams, cpu=None, detail=None):
        j = self.agent_run("--test", "tcp_bw", "--streams", str(streams), "--duration", str(self.duration),
                           "--warmup", str(self.warmup))
        if cpu is not None:
            cpu.append((j["cpu"]["client"]["percent"], j["cpu"]["server"]["percent"]))
        if detail is not None:
            detail.append((j["warmup_taken_s"], j["message_size"], j["measured_s"]))
        return j["receiver_bytes_per_second"]

    def iperf3_bw(self, streams, cpu=None):
        out = self.lab.client("iperf3", "-c", SRV_IP, "-p", str(PORTS["iperf3"]), "-P", str(streams),
                              "-t", str(self.duration), "-O", str(self.warmup), "-J")
        j = json.loads(out)
        if cpu is not None:
            u = j["end"]["cpu_utilization_percent"]
            cpu.append((u["host_total"], u["remote_total"]))
        return j["end"]["sum_received"]["bits_per_second"] / 8

    def qperf_bw(self):
        # qperf has no warm-up option: its figure includes slow start and the tbf burst.
        out = self.lab.client("qperf", "-lp", str(PORTS["qperf"]), SRV_IP, "-t", str(self.duration + self.warmup),
                              "tcp_bw")
        m = re.search(r"bw\s*=\s*([\d.]+)\s*([KMGT]?)B/sec", out)
        return float(m.group(1)) * UNITS[m.group(2)]

    def agent_lat(self):
        return self.agent_run("--test", "tcp_lat", "--duration", str(self.duration),
                              "--warmup", str(self.warmup))["latency_us"]

    def qperf_lat(self):
        out = self.lab.client("qperf", "-lp", str(PORTS["qperf"]), SRV_IP, "-t", str(self.duration + self.warmup),
                              "tcp_lat")
        m = re.search(r"latency\s*=\s*([\d.]+)\s*(ns|us|ms|sec)", out)
        return float(m.group(1)) * {"ns": 1e-3, "us": 1, "ms": 1e3, "sec": 1e6}[m.group(2)]

    def sockperf_lat(self):
        out = self.lab.client("sockperf", "ping-pong", "--tcp", "-i", SRV_IP, "-p", str(PORTS["sockperf"]),
                              "-t", str(self.duration + self.warmup))
        # sockperf reports half the round trip, like qperf; its smallest message is 14 bytes.
        return float(re.search(r"avg-latency=([\d.]+)", out).group(1))


def median_of(reps, fns):
    """Runs each function `reps` times, interleaved so drift hits every tool alike."""
    samples = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            samples[k].append(f())
    return {k: statistics.median(v) for k, v in samples.items()}, samples


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agent", required=True, help="path of the cloudbench-agent to measure")
    ap.add_argument("--reps", type=int, default=3, help="runs per tool for accuracy")
    ap.add_argument("--bw-reps", type=int, default=7, help="runs per tool for unshaped throughput (noisier)")
    ap.add_argument("--lat-reps", type=int, default=7, help="runs per tool for latency (noisier)")
    ap.add_argument("--lat-duration", type=float, default=3, help="seconds per latency run")
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--rates", default="2000000,25000000,150000000", help="tbf wire rates, bytes/s")
    ap.add_argument("--low-rates", default="4.72,12,100", help="tbf wire rates for part 4, Mbit/s")
    ap.add_argument("--low-runs", type=int, default=10, help="runs per tool and rate in part 4")
    ap.add_argument("--low-only", action="store_true", help="run part 4 only")
    args = ap.parse_args()
    if os.getuid() != 0:
        sys.exit("bench-agent: needs root for network namespaces (run as root)")
    for tool in ("iperf3", "qperf", "sockperf"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            sys.exit(f"bench-agent: {tool} is not installed; run `make setup`")
    version = sh(args.agent, "--version").strip()
    print(f"# cloudbench-agent benchmark  ({version}; iperf3, qperf, sockperf from Debian)")
    print(f"# {os.uname().release}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; "
          f"veth between namespaces; interleaved runs of {args.duration:g} s (+{args.warmup:g} s warm-up), medians "
          f"({args.bw_reps} runs per tool for throughput, {args.lat_reps} of {args.lat_duration:g} s for latency, "
          f"{args.reps} for accuracy; {args.low_runs} single runs per tool at low rates)\n")
    verdicts = []
    with Lab() as lab:
        t = Tools(lab, args.agent, args.duration, args.warmup)
        t.start_servers()
        if not args.low_only:
            high_rates(args, lab, t, verdicts)
        low_rates(args, lab, t, verdicts)

    print(f"\n## Targets (load average at the end {os.getloadavg()[0]:.1f})\n")
    for what, ok, figure in verdicts:
        print(f"- {'met' if ok else 'MISSED'}: {what} ({figure})")


def low_rates(args, lab, t, verdicts):
    """Part 4: every single run's error at low rates, where a tool's write size and the window's
    edges decide its figure; the spread (max - min of the errors) is what a user comparing cheap
    instance types would see from run to run."""
    print("\n## Low rates: every run's error against R x 1448/1514 (tbf, 1 stream)\n")
    print(f"{args.low_runs} runs per tool, interleaved (agent, iperf3, qperf, agent, ...); agent and iperf3 "
          f"{args.duration:g} s after {args.warmup:g} s of warm-up (the agent's lasts until the rate settles, "
          f"at most {warmup_limit(args.warmup):g} s), qperf {args.duration + args.warmup:g} s "
          "(it has no warm-up).\n")
    notes = []
    print("| wire rate R | expected goodput | tool | min | median | max | spread (points) | every run (%) |")
    print("|---:|---:|---|---:|---:|---:|---:|---|")
    for mbit in (float(r) for r in args.low_rates.split(",")):
        rate = round(mbit * 1e6 / 8)
        lab.shape(rate)
        expected = rate * 1448 / 1514
        detail = []
        try:
            _, samples = median_of(args.low_runs, {"agent": lambda: t.agent_bw(1, detail=detail),
                                                   "iperf3": lambda: t.iperf3_bw(1), "qperf": t.qperf_bw})
        finally:
            lab.unshape()
        for k in ("agent", "iperf3", "qperf"):
            errs = [(v / expected - 1) * 100 for v in samples[k]]
            print(f"| {mbit:g} Mbit/s | {expected / 1e6:.4f} MB/s | {k} | {min(errs):+.2f} % | "
                  f"{statistics.median(errs):+.2f} % | {max(errs):+.2f} % | {max(errs) - min(errs):.2f} | "
                  + " ".join(f"{e:+.2f}" for e in errs) + " |")
        worst = max(abs(v / expected - 1) * 100 for v in samples["agent"])
        warm = [w for w, _, _ in detail]
        sizes = sorted({m for _, m, _ in detail})
        notes.append(f"{mbit:g} Mbit/s: the agent's warm-up took {min(warm):.2f}-{max(warm):.2f} s, writes of "
                     + " or ".join(str(m) for m in sizes) + " bytes")
        verdicts.append((f"low rate {mbit:g} Mbit/s: every agent run within 1 %", worst <= 1.0, f"worst {worst:.2f} %"))
    print("\n" + "; ".join(notes) + ".")


def warmup_limit(w):
    """Window.warmupLimit in AgentKit: the warm-up and as long again, at least 3 s and at most 10 s more."""
    return 0 if w == 0 else w + min(max(3, w), 10)


def high_rates(args, lab, t, verdicts):
    """Parts 1-3."""
    print("## Throughput, unshaped veth (MB/s, receiver side)\n")
    print("| streams | agent | iperf3 | agent / iperf3 | agent CPU client / server | iperf3 CPU client / server | runs agent ; iperf3 |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for n in (1, 4):
        cpu = {"agent": [], "iperf3": []}
        med, samples = median_of(args.bw_reps, {"agent": lambda: t.agent_bw(n, cpu["agent"]),
                                                "iperf3": lambda: t.iperf3_bw(n, cpu["iperf3"])})
        ratio = med["agent"] / med["iperf3"]
        c = {k: (statistics.median(x for x, _ in v), statistics.median(y for _, y in v)) for k, v in cpu.items()}
        runs = " ; ".join(" ".join(f"{x / 1e6:.0f}" for x in samples[k]) for k in ("agent", "iperf3"))
        print(f"| {n} | {med['agent'] / 1e6:.0f} | {med['iperf3'] / 1e6:.0f} | {ratio:.3f} | "
              f"{c['agent'][0]:.0f} % / {c['agent'][1]:.0f} % | {c['iperf3'][0]:.0f} % / {c['iperf3'][1]:.0f} % | {runs} |")
        verdicts.append((f"throughput {n} stream(s): agent >= 1.0 x iperf3", ratio >= 1.0, f"{ratio:.3f}"))

    print("\n## Latency, unshaped veth (us, mean round trip / 2)\n")
    t.duration = args.lat_duration
    med, samples = median_of(args.lat_reps, {"agent": t.agent_lat, "qperf": t.qperf_lat, "sockperf": t.sockperf_lat})
    t.duration = args.duration
    print("| agent tcp_lat (1 B) | qperf tcp_lat (1 B) | sockperf ping-pong (14 B) | agent / qperf |")
    print("|---:|---:|---:|---:|")
    ratio = med["agent"] / med["qperf"]
    print(f"| {med['agent']:.2f} | {med['qperf']:.2f} | {med['sockperf']:.2f} | {ratio:.3f} |")
    print("\nruns: " + "; ".join(f"{k} " + ", ".join(f"{v:.2f}" for v in vs) for k, vs in samples.items()))
    verdicts.append(("latency: agent <= 1.05 x qperf", ratio <= 1.05, f"{ratio:.3f}"))

    print("\n## Accuracy on tbf-shaped links (error of the median run against R x 1448/1514)\n")
    print("| wire rate R | expected goodput | agent | iperf3 | qperf |")
    print("|---:|---:|---:|---:|---:|")
    for rate in (int(r) for r in args.rates.split(",")):
        lab.shape(rate)
        expected = rate * 1448 / 1514
        try:
            med, _ = median_of(args.reps, {"agent": lambda: t.agent_bw(1), "iperf3": lambda: t.iperf3_bw(1),
                                           "qperf": t.qperf_bw})
        finally:
            lab.unshape()
        errs = {k: (v / expected - 1) * 100 for k, v in med.items()}
        print(f"| {rate / 1e6:g} MB/s | {expected / 1e6:.3f} MB/s | "
              + " | ".join(f"{errs[k]:+.2f} %" for k in ("agent", "iperf3", "qperf")) + " |")
        best_peer = min(abs(errs["iperf3"]), abs(errs["qperf"]))
        verdicts.append((f"accuracy at {rate / 1e6:g} MB/s: |agent error| <= best peer's",
                         abs(errs["agent"]) <= best_peer, f"{errs['agent']:+.2f} % vs {best_peer:.2f} %"))


if __name__ == "__main__":
    main()
