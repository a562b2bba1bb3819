"""A user who plants a `.reg` file in the backup folder gets nothing restored: end to end through
Ansible (`vip_rollback`) and the CLI (`vipctl rollback`), over winrm and psrp.

The attack goes through the simulator's admin API as an ordinary (non-admin) user would make it:
`plant_file` succeeds only where the folders' ACLs let Users create files, and `grant_access`
stands for an administrator who widened the root's ACL. Ground truth is the admin API's snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cli_sim import vipctl
from sim_farms import load_test_farm
from simfarm import SimFarm, running_farm

from vipctl import registry_map

pytestmark = pytest.mark.parametrize("connection", ["winrm", "psrp"])

HOST = "vda2019-01"
ROOT = registry_map.DEFAULT_BACKUP_ROOT
RUN_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run"
PLANTED = (
    "Windows Registry Editor Version 5.00\r\n\r\n"
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run]\r\n"
    '"Updater"="C:\\\\Users\\\\Public\\\\evil.exe"\r\n'
)
RDS_ARGS = {"mode": "per_session", "adapter": "10.0.0.0/24"}
USERS = "S-1-5-32-545"


@pytest.fixture
def farm(tmp_path: Path, connection: str) -> Iterator[SimFarm]:
    with running_farm(tmp_path, connection, farm=load_test_farm()) as running:
        yield running


def rollout(farm: SimFarm) -> str:
    """Enable RD IP Virtualization on HOST; the set folder it made."""
    record = farm.play([{"name": "rds", "rds_ip_virtualization": RDS_ARGS}], HOST, name="rollout")
    assert record.rc == 0, record.stdout + record.stderr
    files = farm.snapshot(HOST)["files"]
    sets = sorted({f.rsplit("\\", 1)[0] for f in files if f.lower().startswith(ROOT.lower())})
    assert sets, files
    return sets[-1]


def registry(farm: SimFarm) -> dict[str, Any]:
    return dict(farm.snapshot(HOST)["registry"])


def plant_into(farm: SimFarm, set_dir: str) -> str:
    path = set_dir + "\\HKLM_SOFTWARE_zz_planted.reg"
    farm.admin.plant_file(HOST, path, PLANTED)
    return path


def rollback_task(since: str) -> list[dict[str, Any]]:
    return [{"name": "rollback", "vip_rollback": {"since": since}}]


def test_an_ordinary_user_cannot_plant_into_the_root_vipctl_made(farm: SimFarm) -> None:
    set_dir = rollout(farm)
    acl = farm.snapshot(HOST)["folder_acls"][ROOT]
    assert acl["owner"] == "S-1-5-32-544" and acl["protected"] is True
    assert {a["sid"] for a in acl["aces"]} == {"S-1-5-32-544", "S-1-5-18"}
    with pytest.raises(RuntimeError, match="403"):
        plant_into(farm, set_dir)


def test_ansible_rollback_refuses_a_widened_root_with_a_planted_file(farm: SimFarm) -> None:
    since = datetime.now(UTC).replace(microsecond=0).isoformat()
    set_dir = rollout(farm)
    farm.admin.grant_access(HOST, ROOT, USERS, "modify")
    plant_into(farm, set_dir)
    state = registry(farm)
    record = farm.play(rollback_task(since), HOST, name="rollback")
    assert record.rc != 0
    result = record.results("rollback")[HOST]
    assert result["_status"] == "failed", result
    assert "insecure_backup_root" in result["msg"]
    assert "Traceback" not in record.stdout + record.stderr
    assert registry(farm) == state
    assert RUN_KEY not in registry(farm)


def test_ansible_rollback_refuses_a_root_a_user_created_before_vipctl(farm: SimFarm) -> None:
    since = datetime.now(UTC).replace(microsecond=0).isoformat()
    # C:\ProgramData lets Users create folders: the attacker makes the root and a set in it first.
    plant_into(farm, f"{ROOT}\\20991231T000000000000Z-rds_ip_virtualization")
    state = registry(farm)
    write = farm.play([{"name": "rds", "rds_ip_virtualization": RDS_ARGS}], HOST, name="rollout")
    assert write.results("rds")[HOST]["_status"] == "failed"
    assert "insecure_backup_root" in write.results("rds")[HOST]["msg"]
    assert registry(farm) == state, "nothing is written without a safe place for its backup"
    record = farm.play(rollback_task(since), HOST, name="rollback")
    assert "insecure_backup_root" in record.results("rollback")[HOST]["msg"]
    assert registry(farm) == state


def test_cli_rollback_refuses_a_planted_set_and_restores_nothing(farm: SimFarm) -> None:
    since = datetime.now(UTC).replace(microsecond=0).isoformat()
    set_dir = rollout(farm)
    farm.admin.grant_access(HOST, ROOT, USERS, "modify")
    plant_into(farm, set_dir)
    state = registry(farm)
    code, out, err = vipctl("rollback", "-i", str(farm.inventory), "-l", HOST, "--since", since, "--json")
    assert code == 1, out + err
    assert "Traceback" not in out + err
    (result,) = json.loads(out)["hosts"][0]["results"]
    assert result["failed"] is True
    assert result["msg"].startswith("op list (backup_list) failed: insecure_backup_root: "), result["msg"]
    assert registry(farm) == state
    assert RUN_KEY not in registry(farm)


def test_cli_rollback_still_restores_an_untouched_rollout(farm: SimFarm) -> None:
    since = datetime.now(UTC).replace(microsecond=0).isoformat()
    before = registry(farm)
    rollout(farm)
    code, out, err = vipctl("rollback", "-i", str(farm.inventory), "-l", HOST, "--since", since)
    assert code == 0, out + err
    after = registry(farm)
    # vipctl's record of the restart the rollback needs stays until the host restarts: bookkeeping,
    # not a setting it restored.
    assert after.pop(registry_map.RESTART_MARKER_KEY)["Reasons"]["value"]
    assert after.pop(registry_map.RESTART_MARKER_KEY.rsplit("\\", 1)[0]) == {}
    assert after == before
