"""inventory/sim.yml must describe the embedded farm exactly as `vipctl sim serve` serves it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from vipctl.sim.farm import load_farm
from vipctl.sim.front_door import SimServer
from vipctl.sim.inventory import build_inventory
from vipctl.sim.relocate import block_for_this_process, relocate_farm

REPO = Path(__file__).resolve().parents[2]


def test_committed_sim_inventory_matches_the_default_farm() -> None:
    committed = yaml.safe_load((REPO / "inventory" / "sim.yml").read_text(encoding="utf-8"))
    farm = load_farm(None)
    expected_addresses = {name: host.winrm.address for name, host in farm.hosts.items()}
    # Serve a relocated copy (the default addresses may be busy) and map the addresses back.
    served = relocate_farm(load_farm(None), block_for_this_process())
    sim = SimServer()
    sim.start(served, state_dir=tempfile.mkdtemp())
    try:
        generated = build_inventory(sim, "winrm")
    finally:
        sim.stop()
    for name, host_vars in generated["all"]["hosts"].items():
        host_vars["ansible_host"] = expected_addresses[name]
    assert committed == generated
