"""Benchmark: `vipctl status` over 200 simulated hosts with 10 ms latency added to every request.

The simulator runs in its own process (as it would be a separate farm), the CLI in another, so
neither steals the other's interpreter lock. Prints wall time and WinRM requests per host.
Usage: .venv/bin/python bench/status_200.py [--forks N]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOSTS = 200
LATENCY_MS = 10


def _serve(
    state_dir: str, ready: multiprocessing.synchronize.Event, stop: multiprocessing.synchronize.Event
) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
    from cli_sim import start_sim

    from vipctl.sim.admin import AdminApi
    from vipctl.sim.farm import scaled_farm

    sim, _ = start_sim(scaled_farm(HOSTS), Path(state_dir))
    admin = AdminApi(sim)
    admin.start()
    for name in sim.host_names:
        sim.set_faults(name, {"latency_ms": LATENCY_MS})
    Path(state_dir, "sim.json").write_text(json.dumps({"admin_url": admin.url, "token": admin.token}))
    ready.set()
    stop.wait()
    admin.stop()
    sim.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forks", type=int, default=50)
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="vipctl-bench-")
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(state, ready, stop), daemon=True)
    server.start()
    try:
        if not ready.wait(120):
            raise SystemExit("the simulator did not start")
        from vipctl.sim.admin_client import AdminClient

        admin = AdminClient.from_state_dir(state)
        command = [
            str(Path(sys.executable).with_name("vipctl")),
            "status",
            "-i",
            f"{state}/inventory.yml",
            "--forks",
            str(args.forks),
            "--json",
        ]
        start = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - start
        summary = json.loads(done.stdout)["summary"]
        requests = [admin.counters(name)["requests"] for name in admin.hosts()]
        print(f"command: {' '.join(command)}")
        print(f"exit code {done.returncode}; {summary['ok']}/{summary['hosts']} hosts ok")
        print(f"wall time: {elapsed:.2f} s for {HOSTS} hosts, {LATENCY_MS} ms latency per request")
        print(
            f"WinRM requests per host: min {min(requests)}, "
            f"median {statistics.median(requests)}, max {max(requests)}"
        )
        return 0 if done.returncode == 0 and elapsed < 10 else 1
    finally:
        stop.set()
        server.join(30)


if __name__ == "__main__":
    raise SystemExit(main())
