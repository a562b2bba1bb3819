"""Simulator figures: start-up of the default and a 200-host farm, executor calls per second.

    .venv/bin/python bench/sim_throughput.py [--seconds 5]

Executor calls go through the real transports (pypsrp, pywinrm) over NTLM with message encryption,
one open shell / runspace pool per host reused for every call, from 8 client threads spread over
the default farm's hosts; each call is one `vip_status` request.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from vipctl.sim.farm import load_farm, scaled_farm
from vipctl.sim.front_door import SimServer
from vipctl.sim.relocate import block_for_this_process, relocate_farm
from vipctl.tasks.vip_status import run_vip_status
from vipctl.transport import ConnectionSettings, open_transport


def start_time(build: Callable[[], Any], https: bool) -> float:
    """From nothing to every listener accepting: building the farm model included."""
    sim = SimServer()
    started = time.perf_counter()
    sim.start(build(), https=https, state_dir=tempfile.mkdtemp())
    elapsed = time.perf_counter() - started
    sim.stop()
    return elapsed


def calls_per_second(connection: str, seconds: float) -> tuple[float, int]:
    farm = relocate_farm(load_farm(None), block_for_this_process())
    sim = SimServer()
    sim.start(farm, state_dir=tempfile.mkdtemp())
    count = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(host_name: str) -> None:
        nonlocal count
        host = sim.host(host_name)
        address, port, scheme = sim.endpoint(host_name)
        settings = ConnectionSettings(
            host=address,
            port=port,
            scheme=scheme,
            username=host.winrm.username,
            password=host.winrm.password,
            auth="ntlm",
            connection=connection,
        )
        with open_transport(settings) as transport:
            while time.monotonic() < deadline:
                run_vip_status({}, check=False, runner=transport.run)
                with lock:
                    count += 1

    hosts = list(sim.host_names) * 2
    threads = [threading.Thread(target=worker, args=(name,)) for name in hosts[:8]]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    sim.stop()
    return count / elapsed, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    block = block_for_this_process()
    farms: dict[str, Callable[[], Any]] = {
        "default farm": lambda: relocate_farm(load_farm(None), block),
        "200 hosts": lambda: relocate_farm(scaled_farm(200), block),
    }
    for label, build in farms.items():
        for https in (False, True):
            listeners = "HTTP+HTTPS" if https else "HTTP"
            print(f"start-up, {label}, {listeners}: {start_time(build, https):.3f} s")
    for connection in ("winrm", "psrp"):
        rate, count = calls_per_second(connection, args.seconds)
        print(f"executor calls per second via {connection}: {rate:.0f} ({count} calls)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
