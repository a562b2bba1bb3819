"""Integration fixtures for the simulator: a running SimServer on a farm.

The model's default farm, moved to an address block of this test worker's own so that parallel
workers never collide; a tiny fake farm is available for front-door tests that need odd hosts.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# tools/ holds the simulated-farm harness shared with `make demo`.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from sim_farms import load_test_farm

from vipctl.executor import script_text
from vipctl.sim.errors import ScriptRejected
from vipctl.sim.server import SimServer


@dataclass
class FakeEndpoint:
    address: str
    http_port: int
    https_port: int
    username: str
    password: str
    allow_unencrypted: bool = False
    basic: bool = True
    ntlm: bool = True


@dataclass
class FakeHost:
    name: str
    winrm: FakeEndpoint
    groups: list[str] = field(default_factory=lambda: ["rdsh"])
    calls: int = 0

    def run_executor(self, script_text_: str, request_json: str) -> tuple[str, int]:
        if script_text_ != script_text():
            raise ScriptRejected(script_text_.splitlines()[0])
        self.calls += 1
        ops = json.loads(request_json)["ops"]
        return json.dumps({"v": 1, "results": [{"op": o["op"], "ok": True, "data": {}} for o in ops]}), 0

    def snapshot(self) -> dict[str, Any]:
        return {"name": self.name, "executor_calls": self.calls}

    def is_up(self) -> bool:
        return True

    def clear_faults(self) -> None:
        pass


@dataclass
class FakeFarm:
    hosts: dict[str, FakeHost]


def _free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def fake_farm() -> FakeFarm:
    hosts = {}
    for index, (name, unencrypted) in enumerate([("VDA01", True), ("RDSH01", False)], start=1):
        address = f"127.77.0.{index}"
        endpoint = FakeEndpoint(
            address, _free_port(address), _free_port(address), f"admin{index}", f"Pw-{index}!", unencrypted
        )
        hosts[name] = FakeHost(name, endpoint)
    return FakeFarm(hosts)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    server = SimServer(max_receive_wait_s=0.2)
    server.start(load_test_farm(), https=True, state_dir=tmp_path_factory.mktemp("sim"))
    yield server
    server.stop()


@pytest.fixture
def make_fake_farm() -> Any:
    return fake_farm


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path
