"""Rollback restores only what vipctl wrote: planted files, a widened root ACL and changed backups
are refused on the host (the simulator's executor twin), and nothing is restored from them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vipctl import executor, registry_map
from vipctl.executor.codec import Response, decode_response
from vipctl.settings import SettingsError, parse_backup_root
from vipctl.sim.farm import load_farm
from vipctl.sim.model.errors import AccessDenied
from vipctl.sim.model.files import ADMINISTRATORS, SYSTEM, USERS, encode
from vipctl.sim.model.host import SimHost
from vipctl.sim.twin.backend import run_executor
from vipctl.tasks.rds_ip_virtualization import run_rds_ip_virtualization
from vipctl.tasks.vip_rollback import run_vip_rollback

ROOT = registry_map.DEFAULT_BACKUP_ROOT
NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
RUN_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run"
PLANTED = (
    "Windows Registry Editor Version 5.00\r\n\r\n"
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run]\r\n"
    '"Updater"="C:\\\\Users\\\\Public\\\\evil.exe"\r\n'
)
RDS = {"state": "enabled", "mode": "per_session", "adapter": "10.0.0.0/24"}


def runner_for(host: SimHost) -> Any:
    def runner(request: dict[str, Any]) -> Response:
        out, code = run_executor(host, executor.script_text(), json.dumps(request))
        return decode_response(out, code, host=host.spec.name)

    return runner


def rolled_out() -> tuple[SimHost, Any, str]:
    host = load_farm(None).hosts["vda2019-01"]
    runner = runner_for(host)
    assert run_rds_ip_virtualization(RDS, check=False, runner=runner, now=NOW).changed
    sets = sorted(host.files.children(ROOT))
    return host, runner, sets[-1]


def rollback(runner: Any, **params: Any) -> Any:
    return run_vip_rollback(
        {"since": NOW.isoformat(), **params}, check=False, runner=runner, now=NOW + timedelta(1)
    )


def test_the_executor_creates_the_root_for_administrators_and_system_only() -> None:
    host, _runner, set_dir = rolled_out()
    acl = host.files.acl(ROOT)
    assert acl.owner == ADMINISTRATORS and acl.protected
    assert {a.sid for a in acl.aces} == {ADMINISTRATORS, SYSTEM}
    assert host.files.read(set_dir + "\\vipctl-manifest.json") is not None
    # An ordinary user can no longer write into a set folder.
    with pytest.raises(AccessDenied):
        host.plant_file(set_dir + "\\HKLM_SOFTWARE_evil.reg", encode(".reg", PLANTED))


def test_a_root_pre_created_by_a_user_is_refused_for_backups_and_for_restores() -> None:
    host = load_farm(None).hosts["vda2019-01"]
    runner = runner_for(host)
    # C:\ProgramData lets Users create folders: the attacker makes the root before vipctl does.
    planted_set = f"{ROOT}\\20991231T000000000000Z-rds_ip_virtualization"
    host.plant_file(planted_set + "\\HKLM_SOFTWARE_evil.reg", encode(".reg", PLANTED))
    before = host.snapshot()["registry"]
    result = run_rds_ip_virtualization(RDS, check=False, runner=runner, now=NOW)
    assert result.failed and "insecure_backup_root" in result.msg, result.msg
    assert host.snapshot()["registry"] == before, "nothing written without a safe place for its backup"
    refused = rollback(runner)
    assert refused.failed and "insecure_backup_root" in refused.msg, refused.msg
    assert host.registry.find(RUN_KEY) is None


def test_a_widened_root_is_refused_and_nothing_is_restored() -> None:
    host, runner, set_dir = rolled_out()
    host.grant_folder_access(ROOT, USERS, "modify")
    host.plant_file(set_dir + "\\HKLM_SOFTWARE_evil.reg", encode(".reg", PLANTED))
    state = host.snapshot()["registry"]
    result = rollback(runner)
    assert result.failed and "insecure_backup_root" in result.msg, result.msg
    assert host.snapshot()["registry"] == state


@pytest.mark.parametrize(
    "tamper",
    ["extra_file_in_set", "changed_file", "planted_set_without_manifest", "planted_set_forged_manifest"],
)
def test_sets_that_do_not_match_their_manifest_are_not_restored(tamper: str) -> None:
    """Written past the ACL (by an administrator or SYSTEM): still refused, by the manifest or the keys."""
    host, runner, set_dir = rolled_out()
    evil = encode(".reg", PLANTED)
    if tamper == "extra_file_in_set":
        host.files.write(set_dir + "\\HKLM_SOFTWARE_zz.reg", evil)
    elif tamper == "changed_file":
        name = next(f for f in host.files.children(ROOT)[set_dir] if f.lower().endswith(".reg"))
        host.files.write(name, evil)
    else:
        planted = f"{ROOT}\\20991231T000000000000Z-rds_ip_virtualization"
        host.files.write(planted + "\\HKLM_SOFTWARE_Policies_x.reg", evil)
        if tamper == "planted_set_forged_manifest":
            # A manifest with the right hash: the managed-key check still refuses the Run key.
            from vipctl.sim.twin.backup_store import write_manifest

            write_manifest(host.files, planted, [planted + "\\HKLM_SOFTWARE_Policies_x.reg"])
    state = host.snapshot()["registry"]
    result = rollback(runner)
    assert result.failed and "backup_tampered" in result.msg, result.msg
    assert host.snapshot()["registry"] == state
    assert host.registry.find(RUN_KEY) is None


def test_an_untouched_rollout_still_rolls_back_exactly() -> None:
    host = load_farm(None).hosts["vda2019-01"]
    runner = runner_for(host)
    before = host.snapshot()["registry"]
    assert run_rds_ip_virtualization(RDS, check=False, runner=runner, now=NOW).changed
    result = rollback(runner)
    assert result.changed and not result.failed, result.msg
    after = host.snapshot()["registry"]
    # The restart marker is vipctl's own bookkeeping, kept until the host restarts, not a setting.
    after.pop(registry_map.RESTART_MARKER_KEY)
    assert after.pop(registry_map.RESTART_MARKER_KEY.rsplit("\\", 1)[0]) == {}
    assert after == before


HOSTILE_ROOTS = [
    "relative\\dir",
    "\\\\attacker\\share\\backups",
    "//attacker/share",
    "\\\\?\\C:\\ProgramData\\x",
    "\\\\.\\pipe\\x",
    "C:",
    "C:\\",
    "C:ProgramData",
    "C:/ProgramData/vipctl",
    "C:\\ProgramData\\..\\Windows\\System32",
    "C:\\ProgramData\\.\\vipctl",
    "C:\\ProgramData\\\\vipctl",
    "C:\\ProgramData\\vip*",
    "C:\\ProgramData\\vip?",
    'C:\\ProgramData\\"vipctl"',
    "C:\\ProgramData\\'vipctl'",
    "C:\\ProgramData\\a|b",
    "C:\\ProgramData\\a<b>",
    "C:\\ProgramData\\a:stream",
    "C:\\ProgramData\\vipctl\n\\x",
    "C:\\ProgramData\\vipctl\t",
    "C:\\ProgramData\\vip\x00ctl",
    "C:\\ProgramData\\vip\u202ectl",
    "C:\\ProgramData\\vipctl.",
    "C:\\ProgramData\\vipctl ",
    "C:\\ProgramData\\ vipctl",
    "C:\\" + "x" * 100,
    "1:\\x",
    42,
    ["C:\\x"],
]


@pytest.mark.parametrize("value", HOSTILE_ROOTS, ids=range(len(HOSTILE_ROOTS)))
def test_hostile_backup_roots_are_refused_before_contact(value: object) -> None:
    with pytest.raises(SettingsError, match=r"^backup_root: ") as caught:
        parse_backup_root(value)
    assert caught.value.fix  # names the fix, not just the field
    calls: list[dict[str, Any]] = []
    with pytest.raises(SettingsError):
        run_vip_rollback({"backup_root": value}, check=False, runner=calls.append)  # type: ignore[arg-type]
    assert calls == []


@pytest.mark.parametrize("value", [None, "", ROOT, "D:\\Backups\\vipctl\\", "c:\\program data\\vipctl"])
def test_plain_local_roots_are_accepted(value: object) -> None:
    assert parse_backup_root(value) == (ROOT if not value else str(value).rstrip("\\"))
