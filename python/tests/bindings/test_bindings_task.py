from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from farm_tables import SERVER_IP, after_data, before_data, sessions_data

from vipctl import registry_map
from vipctl.executor.codec import Response, decode_response
from vipctl.settings import SettingsError
from vipctl.tasks.vip_bindings import run_vip_bindings

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _key(path: str, values: dict[str, Any] | None) -> dict[str, Any]:
    return {"path": path, "exists": values is not None, "values": values or {}, "subkeys": []}


class FakeHost:
    """Answers a request as the executor would, from one endpoint table; counts round trips."""

    def __init__(
        self, endpoints: dict[str, Any], *, citrix_on: bool = True, fail_op: str | None = None
    ) -> None:
        self.endpoints = endpoints
        self.citrix_on = citrix_on
        self.fail_op = fail_op
        self.requests: list[dict[str, Any]] = []

    def _data(self, op: Mapping[str, Any]) -> dict[str, Any]:
        name = op["op"]
        if name == "host_facts":
            server_2022 = {
                "product_name": "Windows Server 2022 Datacenter",
                "edition_id": "ServerDatacenter",
                "installation_type": "Server",
                "current_build": "20348",
                "build_number": 20348,
                "product_type": 3,
            }
            return {
                "computer_name": "RDSH01",
                "ip_addresses": [SERVER_IP],
                "citrix_vda": {"installed": True},
                **server_2022,
            }
        if name == "sessions":
            return sessions_data()
        if name == "net_endpoints":
            return self.endpoints
        if name == "tsvip_get":
            props = {
                "VirtualIPActive": 1,
                "VirtualIPMode": 1,
                "ProgramList": ["softphone.exe", "licclient.exe"],
            }
            return {"available": True, "properties": props}
        if name == "restart_state":
            marker = {"exists": False, "set_utc": None, "reasons": []}
            return {"last_boot_utc": "2026-11-28T00:00:00.0000000Z", "marker": marker, "pending": False}
        path = op["path"]
        if path == registry_map.CITRIX_APPLIED_VIP_KEY and self.citrix_on:
            return _key(
                path,
                {
                    "VirtualLoopbackSupport": {"type": "REG_DWORD", "value": 1},
                    "VirtualLoopbackPrograms": {"type": "REG_MULTI_SZ", "value": ["crm.exe"]},
                },
            )
        return _key(path, None)

    def __call__(self, request: dict[str, Any]) -> Response:
        self.requests.append(request)
        results = []
        for op in request["ops"]:
            if op["op"] == self.fail_op:
                error = {"kind": "access_denied", "message": "Access is denied."}
                results.append({"op": op["op"], "id": op["id"], "ok": False, "error": error})
                break
            results.append(
                {"op": op["op"], "id": op["id"], "ok": True, "changed": False, "data": self._data(op)}
            )
        raw = {"v": 1, "ok": self.fail_op is None, "results": results, "backups": []}
        return decode_response(json.dumps(raw), 0, host="RDSH01")


def test_audit_is_one_read_only_request() -> None:
    host = FakeHost(before_data())
    result = run_vip_bindings({}, check=False, runner=host, now=NOW)
    assert len(host.requests) == 1
    request = host.requests[0]
    assert request["backup_dir"] is None
    assert [op["op"] for op in request["ops"]] == [
        "host_facts",
        "sessions",
        "net_endpoints",
        "tsvip_get",
        "registry_get",
        "registry_get",
        "registry_get",
        "restart_state",
    ]
    paths = {op["path"] for op in request["ops"] if op["op"] == "registry_get"}
    assert {registry_map.PREFER_LOOPBACK_KEY, registry_map.CITRIX_APPLIED_VIP_KEY} <= paths
    assert not any(op["op"].endswith("_set") for op in request["ops"])
    assert result.changed is False and result.failed is False
    assert (
        result.msg == "3 program(s) bind 0.0.0.0, 127.0.0.1 or a server IP; "
        "2 port clash(es) across sessions, 3 failed bind(s)"
    )
    assert result.data["host"] == "RDSH01" and result.data["checked_at"] == NOW.isoformat()
    assert result.to_ansible()["clashes"][0]["program"] == "crm.exe"


def test_filters_reach_the_report() -> None:
    params = {
        "process": ["softphone.exe"],
        "protocol": "udp",
        "port": 5060,
        "state": None,
        "include_system": False,
    }
    result = run_vip_bindings(params, check=True, runner=FakeHost(before_data()), now=NOW)
    assert {e["process"] for e in result.data["endpoints"]} == {"softphone.exe"}
    assert [r["program"] for r in result.data["recommendations"]] == ["softphone.exe"]


def test_expect_passes_after_the_rollout() -> None:
    params = {"expect": {"programs": ["crm.exe", "softphone.exe", "licclient.exe"], "feature": "auto"}}
    result = run_vip_bindings(params, check=False, runner=FakeHost(after_data()), now=NOW)
    assert result.failed is False and result.changed is False, result.msg
    assert (
        result.msg == "all 7 instance(s) of crm.exe, softphone.exe, licclient.exe bind their expected address"
    )


def test_expect_fails_with_the_table_before_the_rollout() -> None:
    params = {"expect": {"programs": ["crm.exe"], "feature": "citrix_loopback", "port": 9000}}
    host = FakeHost(before_data(), citrix_on=False)
    result = run_vip_bindings(params, check=False, runner=host, now=NOW)
    assert len(host.requests) == 1
    assert result.failed is True and result.changed is False
    lines = result.msg.splitlines()
    assert lines[0].startswith("3 of 3 instance(s) do not bind their expected address; fix: check with")
    assert lines[1].split() == ["program", "pid", "session", "port", "expected", "actual", "verdict"]
    assert lines[2].split() == ["crm.exe", "1100", "1", "tcp/9000", "127.0.0.2", "127.0.0.1", "wrong_address"]
    assert lines[3].split() == ["CRM.EXE", "1200", "2", "tcp/9000", "127.0.0.3", "-", "not_listening"]


def test_not_running_program_is_a_warning() -> None:
    params = {"expect": {"programs": ["crm.exe", "ghost.exe"]}}
    result = run_vip_bindings(params, check=False, runner=FakeHost(after_data()), now=NOW)
    assert result.failed is False
    assert result.warnings == [
        "not running, so not verified: ghost.exe (start it in a user session and rerun)"
    ]


def test_executor_failure_is_reported() -> None:
    host = FakeHost(before_data(), fail_op="net_endpoints")
    result = run_vip_bindings({}, check=False, runner=host, now=NOW)
    assert result.failed is True and "net_endpoints" in result.msg and "access_denied" in result.msg


def test_malformed_socket_data_is_reported() -> None:
    data = before_data()
    data["endpoints"][0]["local_port"] = "445"
    result = run_vip_bindings({}, check=False, runner=FakeHost(data), now=NOW)
    assert result.failed is True
    assert "net_endpoints.endpoints[0].local_port" in result.msg


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"port": 70000}, "port"),
        ({"protocol": "icmp"}, "protocol"),
        ({"state": "Sleeping"}, "state"),
        ({"bogus": 1}, "bogus"),
        ({"expect": {"programs": []}}, "expect.programs"),
        ({"expect": {"programs": ["C:\\crm.exe"]}}, "expect.programs[0]"),
        ({"expect": {"programs": ["crm.exe"], "feature": "magic"}}, "expect.feature"),
        ({"expect": {"programs": ["crm.exe"], "colour": "red"}}, "expect.colour"),
    ],
)
def test_bad_parameters_fail_before_any_round_trip(params: dict[str, Any], field: str) -> None:
    host = FakeHost(before_data())
    with pytest.raises(SettingsError) as caught:
        run_vip_bindings(params, check=False, runner=host, now=NOW)
    assert caught.value.field == field
    assert host.requests == []
