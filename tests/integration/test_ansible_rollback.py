"""Roll a farm out with site.yml, then back with playbooks/rollback.yml, over winrm and psrp.

Ground truth is the simulator's admin API: the registry and the controller's Citrix policy store
must be exactly what they were before the rollout. Only files (the backups themselves) may differ.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sim_farms import load_test_farm
from simfarm import REPO, SimFarm, running_farm

from vipctl import registry_map as rm

pytestmark = pytest.mark.parametrize("connection", ["winrm", "psrp"])

DESIRED = "@" + str(REPO / "inventory" / "sim-desired-state.yml")
SUPPORTED_HOSTS = ("ddc01", "vda2016-01", "vda2019-01", "vda2022-01")
# w10ms-01 is refused by the rollout (unsupported OS): it must stay untouched throughout.
HOSTS = (*SUPPORTED_HOSTS, "w10ms-01")


@pytest.fixture
def farm(tmp_path: Path, connection: str) -> Iterator[SimFarm]:
    with running_farm(tmp_path, connection, farm=load_test_farm()) as running:
        yield running


MARKER = rm.RESTART_MARKER_KEY
MARKER_PARENT = MARKER.rsplit("\\", 1)[0]


def state(farm: SimFarm, host: str) -> dict[str, Any]:
    snapshot = farm.snapshot(host)
    registry = dict(snapshot["registry"])
    # vipctl's record of a pending restart is bookkeeping, not a setting: the rollback itself needs
    # a restart, and the marker says so (asserted below); every setting must be as it was.
    registry.pop(MARKER, None)
    if registry.get(MARKER_PARENT) == {}:
        registry.pop(MARKER_PARENT)
    return {"registry": registry, "citrix_policies": snapshot["citrix"]["controller"]}


def restart_reasons(farm: SimFarm, host: str) -> list[str]:
    marker = farm.snapshot(host)["registry"].get(MARKER) or {}
    return list((marker.get("Reasons") or {}).get("value") or [])


def farm_state(farm: SimFarm) -> dict[str, dict[str, Any]]:
    return {host: state(farm, host) for host in HOSTS}


def test_rollback_playbook_restores_the_rollout_exactly(farm: SimFarm) -> None:
    before = farm_state(farm)
    # Set folders are stamped in whole seconds: the rollout's first second must count.
    since = datetime.now(UTC).replace(microsecond=0).isoformat()
    rollout = farm.playbook(REPO / "site.yml", "-e", DESIRED, name="rollout")
    assert rollout.rc == 0, rollout.stdout + rollout.stderr
    rolled_out = farm_state(farm)
    for host in SUPPORTED_HOSTS:
        assert rolled_out[host] != before[host], f"the rollout changed nothing on {host}"

    rollback = farm.playbook(
        REPO / "playbooks" / "rollback.yml", "-e", f"vipctl_rollback_since={since}", name="rollback"
    )
    assert rollback.rc == 0, rollback.stdout + rollback.stderr
    assert farm_state(farm) == before
    for host in ("vda2016-01", "vda2019-01", "vda2022-01"):
        assert restart_reasons(farm, host)[-1].startswith("rollback restored RD IP Virtualization settings")
    restored = {
        **rollback.results("Restore everything backed up since the rollout began, newest first"),
        **rollback.results("Restore the controller, Citrix policies included (last)"),
    }
    assert {h for h, r in restored.items() if r["changed"]} == set(SUPPORTED_HOSTS)
    files = farm.snapshot("vda2019-01")["files"]
    assert any("-rds_ip_virtualization\\" in f for f in files), "the backups themselves remain"

    again = farm.playbook(
        REPO / "playbooks" / "rollback.yml", "-e", f"vipctl_rollback_since={since}", name="again"
    )
    assert again.rc == 0, again.stdout + again.stderr
    assert again.changed_count() == 0
    rerun = again.results("Restore everything backed up since the rollout began, newest first")
    assert all(r["msg"].startswith("nothing to restore") for r in rerun.values() if not r.get("skipped"))
    assert farm_state(farm) == before


def test_rollback_check_mode_lists_and_changes_nothing(farm: SimFarm) -> None:
    since = datetime.now(UTC).replace(microsecond=0).isoformat()
    rollout = farm.playbook(REPO / "site.yml", "-e", DESIRED, name="rollout")
    assert rollout.rc == 0, rollout.stdout + rollout.stderr
    rolled_out = farm_state(farm)
    files = farm.snapshot("vda2022-01")["files"]
    check = farm.playbook(
        REPO / "playbooks" / "rollback.yml",
        "-e",
        f"vipctl_rollback_since={since}",
        "--check",
        "--diff",
        name="check",
    )
    assert check.rc == 0, check.stdout + check.stderr
    result = check.results("Restore everything backed up since the rollout began, newest first")["vda2022-01"]
    assert result["changed"] is True
    # Newest first: the desired state enables PreferLoopback, which the rollout writes last.
    assert [s["module"] for s in result["sets"]] == ["citrix_prefer_loopback", "rds_ip_virtualization"]
    assert "would be restored" in check.stdout
    assert farm_state(farm) == rolled_out
    assert farm.snapshot("vda2022-01")["files"] == files
