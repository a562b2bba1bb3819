"""Where each bind lands in the host model, and when changes take effect.

The rule is docs/windows-facts.md#where-a-bind-lands."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from vipctl import executor, registry_map
from vipctl.sim.model.binds import ADDRESS_IN_USE, NO_LEASE
from vipctl.sim.model.host import SimHost
from vipctl.sim.model.hostspec import RDSH_ROLE, HostSpec, UserSpec, VdaSpec, WinRMEndpoint
from vipctl.sim.model.network import Adapter
from vipctl.sim.model.processes import AppSpec, BindSpec
from vipctl.sim.model.regvalue import RegValue
from vipctl.sim.twin.backend import run_executor

MAC = "00:15:5D:00:00:01"
SERVER_IP = "192.0.2.10"
CRM = AppSpec("crmclient.exe", r"C:\CRM\crmclient.exe", (BindSpec("tcp", "127.0.0.1", 9000),))
PHONE = AppSpec("softphone.exe", r"C:\Phone\softphone.exe", (BindSpec("udp", "0.0.0.0", 5060),))
LIC = AppSpec("licclient.exe", r"C:\Lic\licclient.exe", (BindSpec("tcp", "server", 27000),))
CITRIX_ON = {
    registry_map.CITRIX_APPLIED_VIP_KEY: {
        registry_map.CITRIX_APPLIED_LOOPBACK_SUPPORT.name: RegValue("REG_DWORD", 1),
        registry_map.CITRIX_APPLIED_LOOPBACK_PROGRAMS.name: RegValue("REG_MULTI_SZ", ("crmclient.exe",)),
    }
}
VIP_PER_SESSION = {
    "VirtualIPActive": 1,
    "VirtualIPMode": 0,
    "NetworkAdapterMacAddress": MAC,
}


def make_host(
    image: str = "server2016",
    registry: Mapping[str, dict[str, RegValue]] | None = None,
    tsvip: dict[str, Any] | None = None,
    users: list[UserSpec] | None = None,
    vda: bool = False,
    pool: int = 8,
) -> SimHost:
    return SimHost(
        HostSpec(
            name="h1",
            image=image,
            winrm=WinRMEndpoint("127.0.99.1", "vipadmin", "pw"),
            adapter=Adapter("Ethernet", MAC, SERVER_IP, 24),
            roles=[RDSH_ROLE],
            vip_pool_start="192.0.2.100",
            vip_pool_size=pool,
            citrix_vda=VdaSpec("2402.0.100.629", ["ddc01"]) if vda else None,
            registry=dict(registry or {}),
            tsvip=tsvip or {},
            users=users or [],
            reboot_seconds=0.0,
        )
    )


def addresses(host: SimHost, exe: str) -> dict[int, str]:
    """session id -> local address of `exe`'s endpoint."""
    out = {}
    for row in host.net_endpoints(["tcp", "udp"]):
        if row["process"] == exe:
            out[row["session"]] = row["local_address"]
    return out


def run(host: SimHost, *ops: dict[str, Any]) -> dict[str, Any]:
    request = {"v": 1, "check": False, "backup_dir": r"C:\bk\t", "ops": list(ops)}
    text, code = run_executor(host, executor.script_text(), json.dumps(request))
    assert code == 0
    response: dict[str, Any] = json.loads(text)
    assert response["ok"], response
    return response


def test_citrix_loopback_gives_each_session_its_own_address() -> None:
    host = make_host(registry=CITRIX_ON, vda=True)
    for sid, user in ((2, "alice"), (7, "bob"), (255, "carol")):
        host.add_session(sid, user)
        host.start_process(sid, CRM)
    assert addresses(host, "crmclient.exe") == {2: "127.0.0.3", 7: "127.0.0.8", 255: "127.0.1.0"}
    assert host.binds.failed == []


def test_unlisted_program_keeps_127_0_0_1_and_the_second_instance_fails() -> None:
    other = AppSpec("other.exe", None, (BindSpec("tcp", "127.0.0.1", 8080),))
    host = make_host(registry=CITRIX_ON, vda=True, users=[UserSpec("a", [other]), UserSpec("b", [other])])
    assert list(addresses(host, "other.exe").values()) == ["127.0.0.1"]
    [failure] = host.binds.failed
    assert (failure.process, failure.address, failure.reason) == ("other.exe", "127.0.0.1", ADDRESS_IN_USE)


def test_citrix_loopback_needs_a_vda() -> None:
    # The cached Citrix values mean nothing without the VDA's hook in the session.
    host = make_host(registry=CITRIX_ON, vda=False, users=[UserSpec("a", [CRM])])
    assert list(addresses(host, "crmclient.exe").values()) == ["127.0.0.1"]


def test_microsoft_loopback_is_n_plus_one() -> None:
    host = make_host(tsvip={**VIP_PER_SESSION, "VirtualizeLoopbackAddressesEnabled": 1})
    host.add_session(4, "alice")
    host.start_process(4, CRM)
    assert addresses(host, "crmclient.exe") == {4: "127.0.0.5"}


def test_vip_per_session_for_any_address_and_server_ip() -> None:
    host = make_host(tsvip=VIP_PER_SESSION, users=[UserSpec("a", [PHONE, LIC]), UserSpec("b", [PHONE, LIC])])
    sessions = {s.id: s.virtual_ip for s in host.sessions.values() if s.id}
    assert sessions == {1: "192.0.2.100", 2: "192.0.2.101"}
    assert addresses(host, "softphone.exe") == sessions
    assert addresses(host, "licclient.exe") == sessions
    assert host.binds.failed == []


def test_vip_per_program_only_for_listed_programs() -> None:
    tsvip = {**VIP_PER_SESSION, "VirtualIPMode": 1, "ProgramList": ["LICCLIENT.EXE"]}
    host = make_host(tsvip=tsvip, users=[UserSpec("a", [PHONE, LIC])])
    assert addresses(host, "licclient.exe") == {1: "192.0.2.100"}
    assert addresses(host, "softphone.exe") == {1: "0.0.0.0"}


def test_no_lease_falls_back_to_the_server_ip_unless_prompt_on_ip_lease_fail() -> None:
    users = [UserSpec("a", [LIC]), UserSpec("b", [LIC])]
    fallback = make_host(tsvip=VIP_PER_SESSION, users=users, pool=1)
    assert addresses(fallback, "licclient.exe") == {1: "192.0.2.100", 2: SERVER_IP}

    prompt = {
        registry_map.RDS_POLICY_KEY: {registry_map.PROMPT_ON_IP_LEASE_FAIL.name: RegValue("REG_DWORD", 1)}
    }
    strict = make_host(tsvip=VIP_PER_SESSION, users=users, pool=1, registry=prompt)
    assert addresses(strict, "licclient.exe") == {1: "192.0.2.100"}
    [failure] = strict.binds.failed
    assert (failure.session, failure.reason, failure.address) == (2, NO_LEASE, None)


def test_session_zero_and_admin_sessions_are_never_virtualized() -> None:
    host = make_host(
        registry=CITRIX_ON,
        vda=True,
        tsvip={**VIP_PER_SESSION, "VirtualizeLoopbackAddressesEnabled": 1},
        users=[UserSpec("ops", [CRM, LIC], admin=True)],
    )
    host.start_process(0, PHONE)
    admin = next(s for s in host.sessions.values() if s.admin)
    assert admin.virtual_ip is None
    assert addresses(host, "crmclient.exe") == {admin.id: "127.0.0.1"}
    assert addresses(host, "licclient.exe") == {admin.id: SERVER_IP}
    assert addresses(host, "softphone.exe") == {0: "0.0.0.0"}


def test_both_features_vip_wins_unless_prefer_loopback_lists_the_process() -> None:
    both = make_host(registry=CITRIX_ON, vda=True, tsvip=VIP_PER_SESSION, users=[UserSpec("a", [CRM])])
    assert addresses(both, "crmclient.exe") == {1: "192.0.2.100"}

    prefer = {
        **CITRIX_ON,
        registry_map.PREFER_LOOPBACK_KEY: {
            registry_map.PREFER_LOOPBACK.name: RegValue("REG_DWORD", 1),
            registry_map.PREFER_LOOPBACK_PROCESSES.name: RegValue("REG_MULTI_SZ", ("crmclient.exe",)),
        },
    }
    preferred = make_host(registry=prefer, vda=True, tsvip=VIP_PER_SESSION, users=[UserSpec("a", [CRM])])
    assert addresses(preferred, "crmclient.exe") == {1: "127.0.0.2"}


def test_citrix_changes_apply_to_new_processes_only() -> None:
    host = make_host(vda=True, users=[UserSpec("alice", [CRM])])
    assert addresses(host, "crmclient.exe") == {1: "127.0.0.1"}
    for name, value in CITRIX_ON[registry_map.CITRIX_APPLIED_VIP_KEY].items():
        host.registry.set_value(registry_map.CITRIX_APPLIED_VIP_KEY, name, value)
    assert addresses(host, "crmclient.exe") == {1: "127.0.0.1"}  # the running process keeps its socket
    host.logoff_sessions([1])
    assert addresses(host, "crmclient.exe") == {}
    [new_id] = host.logon_sessions()
    assert addresses(host, "crmclient.exe") == {new_id: f"127.0.0.{new_id + 1}"}


def test_rd_ip_virtualization_needs_a_reboot() -> None:
    host = make_host(users=[UserSpec("alice", [LIC])])
    run(
        host,
        {
            "op": "registry_set",
            "path": registry_map.RDS_POLICY_KEY,
            "values": [
                {"name": "EnableVirtualIP", "state": "present", "type": "REG_DWORD", "value": 1},
                {"name": "VirtualMode", "state": "present", "type": "REG_DWORD", "value": 0},
                {"name": "VIPAdapter", "state": "present", "type": "REG_SZ", "value": "192.0.2.0/24"},
            ],
        },
    )
    host.logoff_sessions()
    host.logon_sessions()
    assert set(addresses(host, "licclient.exe").values()) == {SERVER_IP}
    assert host.snapshot()["pending_reboot"] is True
    host.reboot()
    assert addresses(host, "licclient.exe") == {}  # users come back only when they log on
    [sid] = host.logon_sessions()
    assert addresses(host, "licclient.exe") == {sid: "192.0.2.100"}
    assert host.snapshot()["pending_reboot"] is False


def test_winsock_entry_blocks_ip_virtualization_on_2019_until_renamed_and_rebooted() -> None:
    host = make_host(image="server2019", tsvip=VIP_PER_SESSION, users=[UserSpec("alice", [LIC])])
    assert host.registry.exists(registry_map.WINSOCK_FIX_KEY)
    assert addresses(host, "licclient.exe") == {1: SERVER_IP}
    run(host, {"op": "registry_rename_key", "path": registry_map.WINSOCK_FIX_KEY, "new_name": "2C69D9F1.x"})
    host.logoff_sessions()
    [sid] = host.logon_sessions()
    assert addresses(host, "licclient.exe") == {sid: SERVER_IP}  # the fix too waits for a restart
    host.reboot()
    [sid] = host.logon_sessions()
    assert addresses(host, "licclient.exe") == {sid: "192.0.2.100"}


def test_server_2016_has_no_winsock_entry() -> None:
    host = make_host(image="server2016", tsvip=VIP_PER_SESSION, users=[UserSpec("alice", [LIC])])
    assert not host.registry.exists(registry_map.WINSOCK_FIX_KEY)
    assert addresses(host, "licclient.exe") == {1: "192.0.2.100"}


def test_logoff_releases_the_lease_for_the_next_session() -> None:
    host = make_host(tsvip=VIP_PER_SESSION, users=[UserSpec("a", [LIC])], pool=1)
    host.logoff_sessions()
    assert host.lease_pool.leased == {}
    [sid] = host.logon_sessions()
    assert host.sessions[sid].virtual_ip == "192.0.2.100"
