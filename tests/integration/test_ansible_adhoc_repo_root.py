"""The README's ad-hoc check, literally: `ansible all -i inventory/sim.yml -m vip_status` from the root."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vipctl.sim.farm import load_farm
from vipctl.sim.front_door import SimServer

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# The committed inventory names the default farm's fixed addresses, so this test alone serves them,
# and serves them once: both connections are checked in this one test, never on two workers at once.


def _port_free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        # As the simulator's own listeners do: connections of an earlier test in TIME_WAIT on the
        # same address and port must not count as "busy".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


@pytest.fixture
def default_farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    farm = load_farm(None)
    busy = [
        h.winrm.address for h in farm.hosts.values() if not _port_free(h.winrm.address, h.winrm.http_port)
    ]
    if busy:
        pytest.skip(f"another simulator already serves the default farm's addresses {busy}")
    sim = SimServer(max_receive_wait_s=0.5)
    sim.start(farm, state_dir=tmp_path_factory.mktemp("default-farm"))
    yield sim
    sim.stop()


def test_ad_hoc_vip_status_with_the_short_name_over_winrm_and_psrp(default_farm: SimServer) -> None:
    for connection in ("winrm", "psrp"):
        _ad_hoc(default_farm, connection)


def _ad_hoc(default_farm: SimServer, connection: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        [
            str(BIN / "ansible"),
            "all",
            "-i",
            "inventory/sim.yml",
            "-m",
            "vip_status",
            "-e",
            f"ansible_connection={connection}",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for host in default_farm.host_names:
        assert f"{host} | SUCCESS" in proc.stdout
    assert "Windows 10 Enterprise multi-session" in proc.stdout
    assert "Sim-Farm-Passw0rd!" not in proc.stdout
