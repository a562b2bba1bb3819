"""A policy name that is a path ('..') is refused by the module before the controller is contacted,
over winrm and psrp; every policy on the controller stays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sim_farms import load_test_farm
from simfarm import SimFarm, running_farm

pytestmark = pytest.mark.parametrize("connection", ["winrm", "psrp"])


@pytest.fixture
def farm(tmp_path: Path, connection: str) -> Iterator[SimFarm]:
    with running_farm(tmp_path, connection, farm=load_test_farm()) as running:
        yield running


def test_dot_dot_as_a_policy_name_is_refused_before_contact(farm: SimFarm) -> None:
    before = farm.snapshot("ddc01")["citrix"]["controller"]
    requests = farm.admin.counters("ddc01")["requests"]
    tasks = [
        {"name": "remove", "citrix_virtual_loopback": {"policy_name": "..", "state": "absent"}},
        {
            "name": "filter",
            "citrix_virtual_loopback": {
                "programs": ["crmclient.exe"],
                "filters": [{"type": "DesktopGroup", "name": "..\\..\\x", "value": "Office"}],
            },
            "ignore_errors": True,
        },
    ]
    record = farm.play([{**tasks[0], "ignore_errors": True}, tasks[1]], "ddc01", name="names")
    removed, filtered = record.results("remove")["ddc01"], record.results("filter")["ddc01"]
    assert removed["_status"] == "failed" and removed["msg"].startswith("policy_name: "), removed
    assert filtered["_status"] == "failed" and filtered["msg"].startswith("filters[0].name: "), filtered
    assert "Traceback" not in record.stdout + record.stderr
    assert farm.admin.counters("ddc01")["requests"] == requests
    assert farm.snapshot("ddc01")["citrix"]["controller"] == before
