"""Benchmark: `vipctl status` over a scaled simulated farm, with latency added to every request.

The simulator runs in its own process (as a farm would be elsewhere), the CLI in another, so
neither steals the other's interpreter lock. For each run it prints the wall time, the CLI's CPU
time (user + sys, its worker processes included), the simulator's CPU time, WinRM requests per
host, request and response bytes per host and per executor call, and the ratio of the wall time
to the physical limit (hosts x requests per host x latency / forks): the time the requests would
take if the client and the simulator cost nothing.

Usage:
    .venv/bin/python bench/status_fleet.py --hosts 1000 --latency-ms 10 --forks 20
    .venv/bin/python bench/status_fleet.py --hosts 200 --https        # Basic over HTTPS
    .venv/bin/python bench/status_fleet.py --hosts 200 --py-spy /tmp/status.txt  # thread profile
Another checkout's code runs with PYTHONPATH=<checkout>/python/src in front (before/after).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from fleet_sim import ServedFarm, admin_counters, load, process_cpu_seconds, served_farm, spread, spread_text

# The CLI as the console script runs it, but through this interpreter so PYTHONPATH applies.
CLI = [sys.executable, "-c", "import sys; from vipctl.cli import main; sys.exit(main())"]


def _profiler(pid: int, output: str) -> subprocess.Popen[bytes]:
    """py-spy attached by process id (worker processes and threads included), sampling at 100 Hz."""
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    record = ["record", "--pid", str(pid), "--subprocesses", "--threads", "--nonblocking"]
    return subprocess.Popen(
        [py_spy, *record, "-r", "100", "-f", "raw", "-o", output],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def measure(args: argparse.Namespace, farm: ServedFarm) -> dict[str, Any]:
    command = [*CLI, "status", "-i", str(farm.inventory), "--forks", str(args.forks), "--json"]
    load_before = load()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sim_cpu_before = process_cpu_seconds(farm.pid)
    start = time.monotonic()
    cli = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    profiler = _profiler(cli.pid, args.py_spy) if args.py_spy else None
    stdout, stderr = cli.communicate()
    wall = time.monotonic() - start
    # Read before the profiler is reaped, so its own CPU time is not counted as the CLI's.
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    sim_cpu = process_cpu_seconds(farm.pid) - sim_cpu_before
    if profiler is not None:
        profiler.wait(60)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    try:
        document = json.loads(stdout)
    except ValueError:
        raise SystemExit(f"vipctl printed no JSON (exit {cli.returncode}): {stderr[-2000:]}") from None
    calls = sum(record["requests"] for record in document["hosts"])
    counters = admin_counters(farm)
    requests = [float(c["requests"]) for c in counters]
    sent = [float(c["request_bytes"]) for c in counters]
    received = [float(c["response_bytes"]) for c in counters]
    limit = args.hosts * statistics.median(requests) * args.latency_ms / 1000 / args.forks
    return {
        "command": " ".join(command),
        "exit_code": cli.returncode,
        "hosts": args.hosts,
        "hosts_ok": document["summary"]["ok"],
        "forks": args.forks,
        "latency_ms": args.latency_ms,
        "transport": f"{args.connection}, {'Basic/HTTPS' if args.https else 'NTLM/HTTP'}",
        "wall_s": round(wall, 2),
        "client_cpu_s": round(cpu, 2),
        "client_cpu_ms_per_host": round(cpu * 1000 / args.hosts, 1),
        "simulator_cpu_s": round(sim_cpu, 2),
        "executor_calls": calls,
        "requests_per_host": spread(requests),
        "request_bytes_per_host": spread(sent),
        "response_bytes_per_host": spread(received),
        "bytes_per_call": round((sum(sent) + sum(received)) / max(calls, 1)),
        "physical_limit_s": round(limit, 2),
        "ratio_to_limit": round(wall / limit, 2) if limit else None,
        "load_before": load_before,
        "load_after": load(),
    }


def report(result: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"command: {result['command']}",
            f"transport: {result['transport']}; latency {result['latency_ms']} ms per request",
            f"exit code {result['exit_code']}; {result['hosts_ok']}/{result['hosts']} hosts ok",
            f"wall time: {result['wall_s']:.2f} s; physical limit {result['physical_limit_s']:.2f} s;"
            f" ratio {result['ratio_to_limit']}",
            f"client CPU (user+sys): {result['client_cpu_s']:.2f} s,"
            f" {result['client_cpu_ms_per_host']:.1f} ms per host",
            f"simulator CPU: {result['simulator_cpu_s']:.2f} s (same 2 cores)",
            f"WinRM requests per host: {spread_text(result['requests_per_host'])}",
            f"request bytes per host: {spread_text(result['request_bytes_per_host'])}",
            f"response bytes per host: {spread_text(result['response_bytes_per_host'])}",
            f"bytes per executor call (both ways, auth and shell included): {result['bytes_per_call']}",
            f"load (1/5/15 min) before: {result['load_before']}, after: {result['load_after']}",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=10)
    parser.add_argument("--forks", type=int, default=20)
    parser.add_argument("--https", action="store_true", help="Basic over HTTPS instead of NTLM over HTTP")
    parser.add_argument("--connection", choices=("winrm", "psrp"), default="winrm")
    parser.add_argument("--max-seconds", type=float, default=None, help="exit 1 when slower than this")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document")
    parser.add_argument("--py-spy", metavar="FILE", help="profile the CLI with py-spy (raw samples)")
    args = parser.parse_args()
    with served_farm(
        args.hosts, latency_ms=args.latency_ms, https=args.https, connection=args.connection
    ) as farm:
        result = measure(args, farm)
    print(json.dumps(result, indent=2) if args.json else report(result))
    ok = result["exit_code"] == 0 and result["hosts_ok"] == args.hosts
    if args.max_seconds is not None and result["wall_s"] > args.max_seconds:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
