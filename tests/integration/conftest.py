"""Integration fixtures for the simulator: a running SimServer on the embedded default farm.

The farm is moved to an address block of this test worker's own, so parallel workers never collide.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tools/ holds the simulated-farm harness shared with `make demo`; tests/powershell holds the
# contract vectors' loader and comparisons, which the over-the-wire vector run shares.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "powershell"))

from sim_farms import load_test_farm

from vipctl.sim.front_door import SimServer


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    server = SimServer(max_receive_wait_s=0.2)
    server.start(load_test_farm(), https=True, state_dir=tmp_path_factory.mktemp("sim"))
    yield server
    server.stop()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path
