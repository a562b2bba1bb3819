"""The simulated farm the fleet benchmarks run against, served from its own process, and figures.

Imported by status_fleet.py and site_fleet.py (run from this folder, not installed).
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.synchronize
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ServedFarm:
    state_dir: Path
    inventory: Path
    pid: int


def _serve(
    options: dict[str, Any],
    state_dir: str,
    ready: multiprocessing.synchronize.Event,
    stop: multiprocessing.synchronize.Event,
) -> None:
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    from cli_sim import free_ports

    from vipctl.sim.admin import AdminApi
    from vipctl.sim.farm import scaled_farm
    from vipctl.sim.front_door import SimServer
    from vipctl.sim.inventory import write_inventory

    sim = SimServer(max_receive_wait_s=0.2)
    sim.start(free_ports(scaled_farm(options["hosts"])), https=options["https"], state_dir=state_dir)
    write_inventory(sim, Path(state_dir) / "inventory.yml", options["connection"])
    admin = AdminApi(sim)
    admin.start()
    if options["latency_ms"]:
        for name in sim.host_names:
            sim.set_faults(name, {"latency_ms": options["latency_ms"]})
    Path(state_dir, "sim.json").write_text(json.dumps({"admin_url": admin.url, "token": admin.token}))
    ready.set()
    stop.wait()
    admin.stop()
    sim.stop()


@contextmanager
def served_farm(
    hosts: int, *, latency_ms: int = 0, https: bool = False, connection: str = "winrm"
) -> Iterator[ServedFarm]:
    """`scaled_farm(hosts)` served by a simulator process of its own until the block ends."""
    state = tempfile.mkdtemp(prefix="vipctl-bench-")
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    options = {"hosts": hosts, "https": https, "connection": connection, "latency_ms": latency_ms}
    server = multiprocessing.Process(target=_serve, args=(options, state, ready, stop), daemon=True)
    server.start()
    try:
        # Waited for in steps, so a simulator process that died on start-up ends the run at once.
        deadline = time.monotonic() + 300
        while not ready.wait(0.5):
            if not server.is_alive():
                raise SystemExit(f"the simulator process ended on start-up (exit code {server.exitcode})")
            if time.monotonic() > deadline:
                raise SystemExit("the simulator did not start within 300 s")
        yield ServedFarm(Path(state), Path(state) / "inventory.yml", server.pid or 0)
    finally:
        stop.set()
        server.join(30)
        if server.is_alive():
            server.terminate()


def admin_counters(farm: ServedFarm) -> list[dict[str, Any]]:
    from vipctl.sim.admin_client import AdminClient

    admin = AdminClient.from_state_dir(farm.state_dir)
    return [admin.counters(name) for name in admin.hosts()]


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (the simulator), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def spread_text(item: dict[str, float]) -> str:
    return f"median {item['median']:g} (min {item['min']:g}, max {item['max']:g})"
