"""Unsupported hosts and impossible adapters through Ansible, over winrm and psrp."""

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


def test_an_adapter_matching_no_address_is_refused_before_writing(farm: SimFarm) -> None:
    before = farm.snapshot("vda2019-01")["registry"]
    args = {"mode": "per_program", "programs": ["softphone.exe"], "adapter": "10.9.0.0/16"}
    record = farm.play([{"name": "rds", "rds_ip_virtualization": args}], "vda2019-01")
    result = record.results("rds")["vda2019-01"]
    assert result["_status"] == "failed"
    assert "adapter 10.9.0.0/16 matches no IPv4 address of this host" in result["msg"]
    assert farm.snapshot("vda2019-01")["registry"] == before


def test_unsupported_hosts_get_no_recommendation_and_are_never_verified(farm: SimFarm) -> None:
    audit = farm.playbook("playbooks/audit.yml", name="audit")
    assert audit.rc == 0, audit.stdout[-3000:]
    results = audit.results("Look at who binds 0.0.0.0, 127.0.0.1 or the server address")
    assert results["w10ms-01"]["recommendations"] == []
    assert results["w10ms-01"]["msg"].startswith("unsupported: ")
    assert results["vda2019-01"]["recommendations"]
    verify = farm.playbook("playbooks/verify.yml", "-e", "@inventory/sim-desired-state.yml", name="verify")
    assert "w10ms-01: unsupported, not verified" in verify.stdout
    assert "Verify" not in {e["task"] for e in verify.entries if e["host"] == "w10ms-01"}
