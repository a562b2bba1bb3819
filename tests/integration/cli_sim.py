"""Helpers for the CLI's simulator tests: a farm on free ports, its inventory, running `vipctl`."""

from __future__ import annotations

import io
import socket
from pathlib import Path
from typing import Any

from vipctl.cli import main
from vipctl.sim.front_door import SimServer
from vipctl.sim.inventory import write_inventory


def free_ports(farm: Any) -> Any:
    """Move every host to free ports on its own address, so parallel test runs never collide."""
    for host in farm.hosts.values():
        for attr in ("http_port", "https_port"):
            with socket.socket() as probe:
                probe.bind((host.winrm.address, 0))
                setattr(host.winrm, attr, probe.getsockname()[1])
    return farm


def start_sim(farm: Any, state_dir: Path) -> tuple[SimServer, Path]:
    server = SimServer(max_receive_wait_s=0.2)
    server.start(free_ports(farm), state_dir=state_dir)
    return server, write_inventory(server, state_dir / "inventory.yml", "winrm")


def vipctl(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()
