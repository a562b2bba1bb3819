"""run_vip_status: effective values with their source, Winsock state, sessions, findings; read-only."""

from __future__ import annotations

from typing import Any

from vipctl import registry_map
from vipctl.tasks.vip_status import run_vip_status

from .fake_host import FakeHost, dword, multi

SECRET = "hunter2-not-for-results"


def status(host: FakeHost, params: dict[str, Any] | None = None) -> dict[str, Any]:
    result = run_vip_status(params or {}, check=False, runner=host)
    assert len(host.requests) == 1 and not result.changed and not result.failed
    assert not any(
        op["op"] in ("registry_set", "tsvip_set", "citrix_policy_set") for op in host.requests[0]["ops"]
    )
    return result.to_ansible()


def test_sources_policy_wins_else_local_else_default() -> None:
    host = FakeHost(
        registry={
            registry_map.RDS_POLICY_KEY: {
                "EnableVirtualIP": dword(1),
                "VIPAdapter": {"type": "REG_SZ", "value": "192.0.2.0/24"},
            }
        },
        tsvip_local={"VirtualIPMode": 0, "VirtualizeLoopbackAddressesEnabled": 1},
    )
    out = status(host)["rds_ip_virtualization"]
    assert out["enabled"] == {"value": True, "source": "policy"}
    assert out["adapter"] == {"value": "192.0.2.0/24", "source": "policy"}
    assert out["mode"] == {"value": "per_session", "source": "local"}
    assert out["fallback_to_server_ip"] == {"value": True, "source": "default"}


def test_winsock_state_and_findings() -> None:
    host = FakeHost(registry={registry_map.RDS_POLICY_KEY: {"EnableVirtualIP": dword(1)}})
    out = status(host)
    assert out["winsock_fix"] == "needed"
    assert any("Winsock fix" in f for f in out["findings"])
    host.registry[registry_map.WINSOCK_FIX_RENAMED_KEY] = host.registry.pop(registry_map.WINSOCK_FIX_KEY)
    assert status(FakeHost(registry=host.registry))["winsock_fix"] == "applied"
    legacy = FakeHost()
    legacy.facts.update(build_number=14393)
    assert status(legacy)["winsock_fix"] == "not_applicable"


def test_prefer_loopback_while_loopback_off_is_a_finding() -> None:
    host = FakeHost(
        registry={
            registry_map.PREFER_LOOPBACK_KEY: {
                "PreferLoopback": dword(1),
                "PreferLoopbackProcesses": multi(["a.exe"]),
            },
            registry_map.CITRIX_APPLIED_VIP_KEY: {"VirtualLoopbackSupport": dword(0)},
        }
    )
    out = status(host)
    assert out["prefer_loopback"] == {"enabled": True, "processes": ["a.exe"]}
    assert "PreferLoopback is set while Citrix virtual loopback is off" in out["findings"]
    assert "PreferLoopback is set while RD IP Virtualization is off" in out["findings"]


def test_sessions_carry_expected_loopback_addresses() -> None:
    host = FakeHost(
        sessions=[
            {"id": 0, "user": None, "state": "Disconnected", "station": "Services", "virtual_ip": None},
            {
                "id": 7,
                "user": "EXAMPLE\\ann",
                "state": "Active",
                "station": "ICA-CGP#1",
                "virtual_ip": "192.0.2.50",
            },
            {
                "id": 255,
                "user": "EXAMPLE\\bob",
                "state": "Active",
                "station": "ICA-CGP#2",
                "virtual_ip": None,
            },
        ]
    )
    sessions = status(host)["sessions"]
    assert [s["expected_citrix_loopback"] for s in sessions] == [None, "127.0.0.8", "127.0.1.0"]
    assert sessions[1]["virtual_ip"] == "192.0.2.50"
    # Rows without `admin` (an executor that predates the field) read as ordinary sessions.
    assert [s["admin"] for s in sessions] == [False, False, False]
    assert [s["not_virtualized"] for s in sessions] == ["session 0 is never virtualized", None, None]


def test_admin_sessions_expect_no_virtual_addresses() -> None:
    host = FakeHost(
        tsvip_local={"VirtualizeLoopbackAddressesEnabled": 1},
        sessions=[
            {"id": 0, "user": None, "state": "Disconnected", "station": "Services", "virtual_ip": None},
            {"id": 2, "user": "EXAMPLE\\ann", "state": "Active", "station": "RDP-Tcp#1", "virtual_ip": None},
            {
                "id": 3,
                "user": "EXAMPLE\\ops",
                "state": "Active",
                "station": "RDP-Tcp#2",
                "virtual_ip": None,
                "admin": True,
            },
            {
                "id": 4,
                "user": "EXAMPLE\\bob",
                "state": "Active",
                "station": "RDP-Tcp#3",
                "virtual_ip": None,
                "admin": False,
            },
        ],
    )
    sessions = {s["id"]: s for s in status(host)["sessions"]}
    for session_id in (0, 3):
        assert sessions[session_id]["expected_citrix_loopback"] is None
        assert sessions[session_id]["expected_microsoft_loopback"] is None
    assert sessions[0]["not_virtualized"] == "session 0 is never virtualized"
    assert sessions[3]["admin"] is True
    assert sessions[3]["not_virtualized"] == "/admin sessions are never virtualized"
    for session_id, citrix, microsoft in ((2, "127.0.0.3", "127.0.0.3"), (4, "127.0.0.5", "127.0.0.5")):
        assert sessions[session_id]["admin"] is False
        assert sessions[session_id]["not_virtualized"] is None
        assert sessions[session_id]["expected_citrix_loopback"] == citrix
        assert sessions[session_id]["expected_microsoft_loopback"] == microsoft


def test_loopback_policy_read_only_on_controllers() -> None:
    vda = FakeHost()
    assert status(vda)["loopback_policy"] is None
    ddc = FakeHost(
        citrix_policies={"vipctl virtual loopback": {"name": "vipctl virtual loopback", "enabled": True}}
    )
    ddc.facts["citrix_controller"] = {"installed": True}
    assert status(ddc)["loopback_policy"]["exists"] is True


def test_unsupported_host_is_reported_not_failed() -> None:
    host = FakeHost()
    host.facts.update(product_type=2)
    out = status(host)
    assert out["support"]["supported"] is False and out["support"]["kind"] == "domain_controller"


def test_no_secrets_in_results() -> None:
    # Credentials live in the connection, never in the request or the result.
    host = FakeHost()
    out = status(host)
    assert SECRET not in repr(out) and SECRET not in repr(host.requests)
    assert not any(k in repr(out).lower() for k in ("password", "credential"))
