"""Run the simulator as a process: front door, admin API, inventory and sim.json, until a signal."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from vipctl.sim.admin import AdminApi
from vipctl.sim.front_door import SimServer
from vipctl.sim.inventory import write_inventory


def _load(farm_file: str | Path | None) -> Any:
    from vipctl.sim.farm import load_farm  # the model's loader; None = the embedded default farm

    return load_farm(farm_file)


def serve(
    farm_file: str | Path | None,
    https: bool = False,
    state_dir: str | Path = ".vipctl-sim",
    connection: str = "winrm",
    admin_port: int = 0,
) -> None:
    """Start everything, write `<state_dir>/inventory.yml` and `<state_dir>/sim.json`, run until
    SIGTERM or SIGINT."""
    state = Path(state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    sim = SimServer()
    sim.start(_load(farm_file), https=https, state_dir=state)
    admin = AdminApi(sim, port=admin_port)
    admin.start()
    inventory = write_inventory(sim, state / "inventory.yml", connection)
    info = {
        "admin_url": admin.url,
        "token": admin.token,
        "pid": os.getpid(),
        "ca_file": str(sim.ca_file) if sim.ca_file else None,
        "inventory": str(inventory),
        "hosts": len(sim.host_names),
    }
    sim_json = state / "sim.json"
    sim_json.write_text(json.dumps(info, indent=2), encoding="utf-8")
    sim_json.chmod(0o600)  # holds the admin token
    elapsed = time.monotonic() - started
    print(f"vipctl simulator: {len(sim.host_names)} hosts up in {elapsed:.2f}s", flush=True)
    print(f"  inventory: {inventory}\n  sim.json:  {sim_json}\n  admin API: {admin.url}", flush=True)
    if sim.ca_file:
        print(f"  CA file:   {sim.ca_file}", flush=True)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        admin.stop()
        sim.stop()
