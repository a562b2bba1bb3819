"""vip_rollback's task against a scripted runner, and end to end against the simulator's executor twin."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vipctl import executor, registry_map
from vipctl.executor.codec import Response, decode_response
from vipctl.host_requests.common import BACKUP_STAMP_FORMAT, new_request
from vipctl.settings import SettingsError
from vipctl.sim.farm import load_farm
from vipctl.sim.model.regvalue import RegValue
from vipctl.sim.twin.backend import run_executor
from vipctl.tasks.rds_ip_virtualization import run_rds_ip_virtualization
from vipctl.tasks.vip_rollback import restore_op, run_vip_rollback

ROOT = registry_map.DEFAULT_BACKUP_ROOT
NOW = datetime(2026, 11, 26, 13, 0, 0, tzinfo=UTC)
REG = "HKLM_SOFTWARE_Wow6432Node_Citrix_VIP.reg"
POLICY = "citrix_policy_vipctl_virtual_loopback.json"
TSVIP = "tsvip.json"


class ScriptedHost:
    """Answers backup_list with fixed sets and every other op with ok; records each request."""

    def __init__(self, sets: list[tuple[str, list[str]]], fail_op: int | None = None) -> None:
        self.sets = [
            {"dir": f"{ROOT}\\{name}", "files": files, "verified": True, "problem": None}
            for name, files in sets
        ]
        self.fail_op = fail_op
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: dict[str, Any]) -> Response:
        self.requests.append(request)
        results: list[dict[str, Any]] = []
        for index, op in enumerate(request["ops"]):
            result: dict[str, Any] = {"op": op["op"], "id": op["id"], "ok": True, "changed": True, "data": {}}
            if op["op"] == "backup_list":
                result.update(changed=False, data={"sets": self.sets})
            if self.fail_op is not None and index == self.fail_op:
                result = {
                    "op": op["op"],
                    "id": op["id"],
                    "ok": False,
                    "error": {"kind": "failed", "message": "x"},
                }
            elif self.fail_op is not None and index > self.fail_op:
                result = {
                    "op": op["op"],
                    "id": op["id"],
                    "ok": False,
                    "skipped": True,
                    "error": {"kind": "skipped", "message": "not run"},
                }
            results.append(result)
        ok = all(r["ok"] for r in results)
        return decode_response(json.dumps({"v": 1, "ok": ok, "results": results, "backups": []}), 0, host="h")


def marker(set_name: str) -> str:
    return f"HKLM_SOFTWARE_vipctl.rolled-back.{set_name}.reg"


PREFER_SET = "20261126T120502000000Z-citrix_prefer_loopback"
SETS = [
    ("20261126T120502000000Z-citrix_prefer_loopback", [REG]),
    ("20261126T120501000000Z-rds_ip_virtualization", ["HKLM_SOFTWARE_Policies_x.reg", "notes.txt"]),
    ("20261126T120000000000Z-citrix_virtual_loopback", [POLICY]),
    ("20261125T090000000000Z-rds_ip_virtualization", ["HKLM_SOFTWARE_Policies_x.reg"]),
    ("not-a-vipctl-folder", ["HKLM_SOFTWARE_Policies_x.reg"]),
]


def files_restored(request: dict[str, Any]) -> list[str]:
    ops = request["ops"]
    return [op["file"].rsplit("\\", 2)[-2] for op in ops if op["id"].startswith("restore_")]


def test_default_restores_the_newest_set_in_two_round_trips() -> None:
    host = ScriptedHost(SETS)
    result = run_vip_rollback({}, check=False, runner=host, now=NOW)
    assert not result.failed and result.changed, result.msg
    assert len(host.requests) == 2
    listing, restore = host.requests
    assert listing["ops"] == [{"op": "backup_list", "id": "list", "root": ROOT}]
    assert listing["backup_dir"] is None
    assert restore["check"] is False
    assert restore["backup_dir"] == f"{ROOT}\\20261126T130000000000Z-vip_rollback"
    ops = [(op["op"], op.get("file") or op.get("path")) for op in restore["ops"]]
    assert ops == [
        ("registry_restore", f"{ROOT}\\20261126T120502000000Z-citrix_prefer_loopback\\{REG}"),
        ("registry_set", "HKLM\\SOFTWARE\\vipctl.rolled-back.20261126T120502000000Z-citrix_prefer_loopback"),
        (
            "registry_restore",
            f"{restore['backup_dir']}\\{marker('20261126T120502000000Z-citrix_prefer_loopback')}",
        ),
    ]
    assert [s["name"] for s in result.data["sets"]] == ["20261126T120502000000Z-citrix_prefer_loopback"]


def test_since_restores_newer_sets_newest_first_and_each_file_by_its_kind() -> None:
    host = ScriptedHost(SETS)
    result = run_vip_rollback({"since": "2026-11-26T13:00:00+01:00"}, check=False, runner=host, now=NOW)
    assert result.changed and result.msg.startswith("restored 3 backup set(s), 3 file(s)")
    restore = host.requests[1]
    assert files_restored(restore) == [
        "20261126T120502000000Z-citrix_prefer_loopback",
        "20261126T120501000000Z-rds_ip_virtualization",
        "20261126T120000000000Z-citrix_virtual_loopback",
    ]
    kinds = {
        op["file"].rsplit("\\", 1)[-1]: op["op"] for op in restore["ops"] if op["id"].startswith("restore_")
    }
    assert kinds[POLICY] == "citrix_policy_restore"
    assert kinds["HKLM_SOFTWARE_Policies_x.reg"] == "registry_restore"
    assert any("notes.txt" in w for w in result.warnings), "a file vipctl did not write is left alone"
    # Each set's marker follows its own files, so a failure never marks a set half restored.
    ids = [op["id"] for op in restore["ops"]]
    assert ids.index("mark_0") < ids.index("restore_1_0") < ids.index("mark_1")


def test_sets_an_earlier_rollback_restored_are_skipped() -> None:
    done = (
        "20261126T130000000000Z-vip_rollback",
        [marker("20261126T120502000000Z-citrix_prefer_loopback").lower()],
    )
    host = ScriptedHost([done, *SETS])
    result = run_vip_rollback({}, check=False, runner=host, now=NOW)
    assert files_restored(host.requests[1]) == ["20261126T120501000000Z-rds_ip_virtualization"]
    assert result.changed

    host = ScriptedHost([done, *SETS[:1]])
    result = run_vip_rollback({"since": "2026-11-26T12:00:00Z"}, check=False, runner=host, now=NOW)
    assert result.changed is False and result.failed is False
    assert result.msg.startswith("nothing to restore")
    assert result.data["already_restored"] == ["20261126T120502000000Z-citrix_prefer_loopback"]
    assert len(host.requests) == 1


def test_check_mode_lists_what_would_be_restored_and_sends_no_restore() -> None:
    host = ScriptedHost(SETS)
    result = run_vip_rollback({"since": "2026-11-26T12:05:00"}, check=True, runner=host, now=NOW)
    assert len(host.requests) == 1 and host.requests[0]["check"] is True
    assert result.changed is True and result.msg.startswith("would restore 2 backup set(s)")
    assert result.diff is not None and "would be restored" in result.diff["after"]
    assert REG in result.diff["before"]


def test_named_sets_are_restored_newest_first_and_an_unknown_name_fails_before_any_restore() -> None:
    host = ScriptedHost(SETS)
    names = [
        "20261125T090000000000Z-rds_ip_virtualization",
        f"{ROOT}\\20261126T120502000000Z-citrix_prefer_loopback",
    ]
    run_vip_rollback({"sets": names}, check=False, runner=host, now=NOW)
    assert files_restored(host.requests[1]) == [
        "20261126T120502000000Z-citrix_prefer_loopback",
        "20261125T090000000000Z-rds_ip_virtualization",
    ]
    host = ScriptedHost(SETS)
    result = run_vip_rollback({"sets": ["20200101T000000Z-nope"]}, check=False, runner=host, now=NOW)
    assert result.failed and "20200101T000000Z-nope" in result.msg
    assert len(host.requests) == 1


def test_nothing_to_restore_is_not_a_change() -> None:
    host = ScriptedHost([])
    result = run_vip_rollback({}, check=False, runner=host, now=NOW)
    assert (result.changed, result.failed, result.msg) == (False, False, "nothing to restore")
    assert len(host.requests) == 1


def test_a_failed_restore_fails_and_reports_what_already_changed() -> None:
    host = ScriptedHost(SETS, fail_op=3)
    result = run_vip_rollback({"since": "2026-11-26T12:00:00Z"}, check=False, runner=host, now=NOW)
    assert result.failed is True and result.changed is True
    assert "restore_1_0" in result.msg


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "last tuesday"}, "since"),
        ({"since": "2026-11-26", "sets": ["20261126T120502000000Z-x"]}, "since"),
        ({"sets": "20261126T120502000000Z-x"}, "sets"),
        ({"backup_root": "relative\\dir"}, "backup_root"),
    ],
)
def test_bad_options_fail_before_the_host_is_contacted(params: dict[str, Any], field: str) -> None:
    host = ScriptedHost(SETS)
    with pytest.raises(SettingsError, match=f"^{field}:"):
        run_vip_rollback(params, check=False, runner=host)
    assert host.requests == []


def test_end_to_end_on_the_simulator_restores_registry_exactly() -> None:
    vda = load_farm(None).hosts["vda2019-01"]

    def runner(request: dict[str, Any]) -> Response:
        out, code = run_executor(vda, executor.script_text(), json.dumps(request))
        return decode_response(out, code, host=vda.name)

    # The policy key's parents exist first: the executor backs up only the key it writes.
    parent = registry_map.RDS_POLICY_KEY.rsplit("\\", 1)[0]
    vda.registry.set_value(parent, "Marker", RegValue("REG_DWORD", 1))
    before = vda.snapshot()["registry"]
    rds = {"state": "enabled", "mode": "per_program", "programs": ["a.exe"], "adapter": "10.0.0.0/24"}
    assert run_rds_ip_virtualization(rds, check=False, runner=runner, now=NOW).changed
    again = {**rds, "mode": "per_session", "programs": []}
    assert run_rds_ip_virtualization(
        again, check=False, runner=runner, now=NOW + timedelta(seconds=1)
    ).changed
    assert vda.snapshot()["registry"] != before

    result = run_vip_rollback({"since": NOW.isoformat()}, check=False, runner=runner, now=NOW + timedelta(1))
    assert result.changed and not result.failed, result.msg
    assert result.reboot_required and result.data["restart"]["pending"]
    restored = vda.snapshot()["registry"]
    # vipctl's record of the restart the rollback itself needs stays until the host restarts.
    assert restored.pop(registry_map.RESTART_MARKER_KEY)["Reasons"]["value"][-1].startswith(
        "rollback restored"
    )
    assert restored.pop(registry_map.RESTART_MARKER_KEY.rsplit("\\", 1)[0]) == {}
    assert restored == before
    rerun = run_vip_rollback({"since": NOW.isoformat()}, check=False, runner=runner)
    assert (rerun.changed, rerun.failed) == (False, False) and rerun.msg.startswith("nothing to restore")


def test_restore_op_maps_each_backup_file_kind() -> None:
    assert restore_op("C:\\b", "HKLM_SOFTWARE_x.reg") == {
        "op": "registry_restore",
        "file": "C:\\b\\HKLM_SOFTWARE_x.reg",
        # The registry_map table, sent as data: the host refuses a .reg naming any other key.
        "managed_keys": [{"key": k.key, "floor": k.floor} for k in registry_map.MANAGED_KEYS],
    }
    assert restore_op("C:\\b", "TSVIP.json") == {"op": "tsvip_restore", "file": "C:\\b\\TSVIP.json"}
    assert restore_op("C:\\b", POLICY) == {"op": "citrix_policy_restore", "file": f"C:\\b\\{POLICY}"}
    assert restore_op("C:\\b", "other.json") is None


def test_a_tsvip_backup_is_restored_through_wmi() -> None:
    name = "20261126T120501000000Z-rds_ip_virtualization"
    host = ScriptedHost([(name, ["HKLM_SOFTWARE_Policies_x.reg", TSVIP])])
    result = run_vip_rollback({}, check=False, runner=host, now=NOW)
    assert result.changed and not result.failed, result.msg
    restores = [(op["op"], op["file"]) for op in host.requests[1]["ops"] if op["id"].startswith("restore_")]
    # WMI values go back through WMI, never through the registry
    # (docs/windows-facts.md#the-local-store-is-written-only-through-wmi).
    assert restores == [
        ("registry_restore", f"{ROOT}\\{name}\\HKLM_SOFTWARE_Policies_x.reg"),
        ("tsvip_restore", f"{ROOT}\\{name}\\{TSVIP}"),
    ]
    assert result.warnings == []


def test_end_to_end_wmi_settings_go_back_through_wmi_with_a_warning_for_the_adapter() -> None:
    vda = load_farm(None).hosts["vda2019-01"]

    def runner(request: dict[str, Any]) -> Response:
        out, code = run_executor(vda, executor.script_text(), json.dumps(request))
        return decode_response(out, code, host=vda.name)

    before = vda.tsvip.properties()
    assert before["NetworkAdapterMacAddress"] == "", "the farm host starts with no adapter selected"
    rds = {
        "state": "enabled",
        "method": "wmi",
        "mode": "per_program",
        "programs": ["a.exe"],
        "virtualize_loopback": True,
    }
    assert run_rds_ip_virtualization(rds, check=False, runner=runner, now=NOW).changed
    # A later module call selects the adapter (in the simulator's own MAC spelling).
    stamp = (NOW + timedelta(seconds=1)).strftime(BACKUP_STAMP_FORMAT)
    select = {"op": "tsvip_set", "id": "select", "properties": {"NetworkAdapterMacAddress": vda.adapter.mac}}
    selected = runner(new_request([select], check=False, backup_dir=f"{ROOT}\\{stamp}-rds_ip_virtualization"))
    assert selected.ok, selected
    files = vda.snapshot()["files"]
    assert sum(f.lower().endswith("-rds_ip_virtualization\\tsvip.json") for f in files) == 2
    assert not any("terminal_server_tsappsrv_virtualip" in f.lower() for f in files), "no reg export of L"

    result = run_vip_rollback({"since": NOW.isoformat()}, check=False, runner=runner, now=NOW + timedelta(1))
    assert result.changed and not result.failed, result.msg
    after = vda.tsvip.properties()
    # WMI cannot unselect an adapter: everything else is back, and the task says so.
    assert {**after, "NetworkAdapterMacAddress": ""} == before
    assert after["NetworkAdapterMacAddress"] == vda.adapter.mac
    assert any("NetworkAdapterMacAddress left as it is" in w for w in result.warnings), result.warnings


def test_restoring_rds_settings_needs_a_restart_and_old_stamps_are_recognised() -> None:
    host = ScriptedHost([("20261125T090000Z-rds_ip_virtualization", ["HKLM_SOFTWARE_Policies_x.reg"])])
    result = run_vip_rollback({}, check=True, runner=host, now=NOW)
    assert [s["name"] for s in result.data["sets"]] == ["20261125T090000Z-rds_ip_virtualization"]
    assert result.reboot_required is True
