"""Failures a person can read, through Ansible over winrm and psrp: a one-line `msg` with the reason
and the fix, the details under named keys, and a compact per-instance table for a failed check."""

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


def test_a_failed_verification_is_one_line_and_a_compact_table(farm: SimFarm) -> None:
    record = farm.playbook(
        "playbooks/verify.yml", "-e", "@inventory/sim-desired-state.yml", "-l", "vda2019-01", name="verify"
    )
    assert record.rc != 0
    (failure,) = record.failed()
    msg = failure["result"]["msg"]
    assert "\n" not in msg and "do not bind their expected address; fix: " in msg, msg
    table = record.results(
        "vip_verify : Show the per-instance table (only the failing instances when some fail)"
    )
    lines = table["vda2019-01"]["msg"]
    assert all("\n" not in line for line in lines), lines  # one table row per printed line
    assert lines[1].split() == ["program", "pid", "session", "port", "expected", "actual", "verdict"]
    # Only the failing instances: the first session's instances bind fine before the rollout.
    rows = [line.split() for line in lines[2:] if line.strip()]
    assert rows and all(row[-1] != "ok" for row in rows), lines
    assert {row[0] for row in rows} <= {"crmclient.exe", "softphone.exe", "licclient.exe"}


def test_module_failures_have_a_one_line_msg_with_the_details_apart(farm: SimFarm) -> None:
    args = {"mode": "per_program", "programs": ["softphone.exe"], "adapter": "10.9.0.0/16"}
    record = farm.play([{"name": "rds", "rds_ip_virtualization": args}], "vda2022-01")
    result = record.results("rds")["vda2022-01"]
    assert result["_status"] == "failed"
    assert "\n" not in result["msg"] and result["msg"].startswith("refused: adapter 10.9.0.0/16")
    assert result["error"]["kind"] == "precondition_failed"
