"""A dry run of the whole farm: site.yml --check --diff on a fresh default farm, over winrm and psrp.

Every supported session host is previewed with its diff (PreferLoopback included: its guard counts
the RD IP Virtualization an earlier task of the same run would enable), the unsupported host is
reported and left out, and the simulator's ground truth is the same before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sim_farms import load_test_farm
from simfarm import SimFarm, running_farm

from vipctl import registry_map as rm

pytestmark = pytest.mark.parametrize("connection", ["winrm", "psrp"])

DESIRED_STATE = "@inventory/sim-desired-state.yml"
SUPPORTED_SESSION_HOSTS = ("vda2016-01", "vda2019-01", "vda2022-01")


@pytest.fixture
def farm(tmp_path: Path, connection: str) -> Iterator[SimFarm]:
    with running_farm(tmp_path, connection, farm=load_test_farm()) as running:
        yield running


def ground_truth(farm: SimFarm) -> dict[str, Any]:
    # Everything the host holds; `executor_runs` only counts the requests the dry run sent.
    return {
        host: {k: v for k, v in farm.snapshot(host).items() if k != "executor_runs"}
        for host in farm.admin.hosts()
    }


def test_site_check_diff_previews_every_supported_session_host_and_writes_nothing(farm: SimFarm) -> None:
    before = ground_truth(farm)
    record = farm.playbook("site.yml", "-e", DESIRED_STATE, "--check", "--diff", name="dry-run")
    assert record.rc == 0, record.stdout[-6000:] + record.stderr[-3000:]
    assert record.failed() == []
    rds = record.results("rds_ip_virtualization : Configure RD IP Virtualization")
    prefer = record.results("citrix_prefer_loopback : Set or remove PreferLoopback")
    for host in SUPPORTED_SESSION_HOSTS:
        assert rds[host]["changed"] is True, rds[host]
        assert rds[host]["reboot_required"] is True
        # PreferLoopback is previewed, not refused: the earlier task would enable RD IP Virtualization.
        assert prefer[host]["_status"] == "changed", prefer[host]
        assert [c["name"] for c in prefer[host]["changes"]] == ["PreferLoopback", "PreferLoopbackProcesses"]
        assert any("counted as enabled" in w for w in prefer[host].get("warnings", [])), prefer[host]
    # The diffs are printed: RD IP Virtualization's values and the PreferLoopback values.
    assert record.stdout.count(f"{rm.RDS_POLICY_KEY}") >= len(SUPPORTED_SESSION_HOSTS)
    assert record.stdout.count("PreferLoopbackProcesses") >= len(SUPPORTED_SESSION_HOSTS)
    # The controller's policy is previewed too; the unsupported host is reported and left out.
    policy = [
        e["result"]
        for e in record.entries
        if e["task"] == "citrix_virtual_loopback : Manage the Citrix virtual loopback policy"
        and e["status"] != "skipped"
    ]
    assert [p["changed"] for p in policy] == [True]
    assert "w10ms-01" not in rds
    assert "w10ms-01 left out" in record.stdout
    after = ground_truth(farm)
    assert after == before
