"""Farm files: the embedded default farm, clear errors for bad files, and large synthetic farms."""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

import pytest
import yaml

from vipctl import registry_map
from vipctl.sim.errors import FarmFileError
from vipctl.sim.farm import load_farm, scaled_farm


def test_default_farm_shape() -> None:
    farm = load_farm(None)
    assert farm.controllers == ["ddc01"]
    groups = farm.groups()
    assert groups["citrix_controllers"] == ["ddc01"]
    assert (
        {"vda2016-01", "vda2019-01", "vda2022-01", "w10ms-01"}
        == set(groups["rdsh"])
        == set(groups["citrix_vdas"])
    )
    images = {name: host.image.key for name, host in farm.hosts.items()}
    assert images == {
        "ddc01": "server2022",
        "vda2016-01": "server2016",
        "vda2019-01": "server2019",
        "vda2022-01": "server2022",
        "w10ms-01": "win10_ems",
    }
    addresses = [host.winrm.address for host in farm.hosts.values()]
    assert len(set(addresses)) == len(addresses)
    assert all(ipaddress.IPv4Address(a).is_loopback and a != "127.0.0.1" for a in addresses)
    assert {host.winrm.username for host in farm.hosts.values()} == {"vipadmin"}
    assert all(host.winrm.password for host in farm.hosts.values())


def test_default_farm_shows_the_problem_before_any_change() -> None:
    vda = load_farm(None).hosts["vda2019-01"]
    snap = vda.snapshot()
    users = [s for s in snap["sessions"] if s["id"] != 0]
    assert [s["admin"] for s in users].count(True) == 1
    crm_sessions = [p["session"] for p in snap["processes"] if p["name"] == "crmclient.exe"]
    assert len(crm_sessions) == 3
    failed = {(f["process"], f["reason"]) for f in snap["failed_binds"]}
    assert ("crmclient.exe", "address in use (WSAEADDRINUSE)") in failed
    assert ("licclient.exe", "address in use (WSAEADDRINUSE)") in failed
    system = [e for e in snap["endpoints"] if e["pid"] == 4]
    assert {(e["local_address"], e["local_port"]) for e in system} >= {("0.0.0.0", 445)}
    assert all(e["session"] == 0 for e in system)
    assert vda.registry.exists(registry_map.WINSOCK_FIX_KEY)  # 2019 ships the KB 4501072 entry


def test_policy_refresh_brings_the_controllers_policy_to_a_vda() -> None:
    farm = load_farm(None)
    ddc, vda = farm.hosts["ddc01"], farm.hosts["vda2022-01"]
    assert ddc.citrix_store is not None
    ddc.citrix_store.apply_set(
        "site",
        None,
        "VIP loopback",
        "present",
        {
            "enabled": True,  # a policy created through the provider starts disabled
            "priority": 1,
            "settings": {
                "VirtualLoopbackSupport": {"State": "Enabled"},
                "VirtualLoopbackPrograms": {"State": "Enabled", "Values": ["crmclient.exe"]},
            },
            "filters": [
                {
                    "type": "DesktopGroup",
                    "name": "Office",
                    "value": "Office",
                    "enabled": True,
                    "mode": "Allow",
                }
            ],
        },
    )
    assert vda.policy_refresh()
    cached = vda.registry.get_value(
        registry_map.CITRIX_APPLIED_VIP_KEY, registry_map.CITRIX_APPLIED_LOOPBACK_PROGRAMS.name
    )
    assert cached is not None and cached.data == ("crmclient.exe",)
    # The Desktops delivery group is filtered out.
    w10 = farm.hosts["w10ms-01"]
    w10.policy_refresh()
    assert w10.registry.get_value(registry_map.CITRIX_APPLIED_VIP_KEY, "VirtualLoopbackSupport") is None
    vda.logoff_sessions()
    vda.logon_sessions()
    crm = {
        e["session"]: e["local_address"]
        for e in vda.snapshot()["endpoints"]
        if e["process"] == "crmclient.exe"
    }
    assert len(crm) == 3 and all(addr == f"127.0.0.{sid + 1}" for sid, addr in crm.items())


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "farm.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def minimal(**host: object) -> dict[str, object]:
    base = {"image": "server2022", "address": "127.0.30.1", "ip": "10.9.0.1"}
    return {"defaults": {"winrm": {"username": "u", "password": "p"}}, "hosts": {"h1": {**base, **host}}}


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"image": "server2003"}, "image", "unknown image"),
        ({"address": "10.0.0.1"}, "address", "loopback"),
        ({"address": None}, "address", "required"),
        ({"colour": "blue"}, "colour", "unknown field"),
        ({"users": [{"name": "a", "apps": ["nope"]}]}, "users[0].apps", "unknown app"),
        ({"citrix_vda": {"version": "1", "controllers": ["ghost"]}}, "citrix_vda.controllers", "not a host"),
        ({"vip_pool": {"start": "10.9.1.1", "size": "many"}}, "vip_pool.size", "must be int"),
        ({"registry": {r"HKLM\SOFTWARE\X": {"V": {"type": "REG_DWORD", "value": "x"}}}}, "value", "integer"),
        ({"winrm": {"cbt_hardening_level": "loose"}}, "winrm.cbt_hardening_level", "relaxed"),
        ({"winrm": {"kerberos": "yes"}}, "winrm.kerberos", "must be bool"),
        ({"language_mode": "NoLanguage"}, "language_mode", "must be one of"),
        ({"gpo_needs_delegation": "no"}, "gpo_needs_delegation", "must be bool"),
    ],
)
def test_bad_farm_files_name_host_and_field(
    tmp_path: Path, change: dict[str, object], field: str, fragment: str
) -> None:
    with pytest.raises(FarmFileError) as info:
        load_farm(write(tmp_path, minimal(**change)))
    assert info.value.host == "h1"
    assert info.value.field is not None and info.value.field.endswith(field)
    assert fragment in str(info.value) and "'h1'" in str(info.value)


def test_per_host_auth_methods_are_read(tmp_path: Path) -> None:
    winrm = {"ntlm": False, "basic": False, "credssp": True, "cbt_hardening_level": "Strict"}
    winrm["spn_host"] = "H1.X"
    host = load_farm(write(tmp_path, minimal(winrm=winrm))).hosts["h1"].winrm
    assert (host.ntlm, host.basic, host.kerberos, host.credssp) == (False, False, True, True)
    assert (host.cbt_hardening_level, host.spn_host) == ("strict", "h1.x")


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(FarmFileError, match="cannot read"):
        load_farm(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("hosts: [unclosed", encoding="utf-8")
    with pytest.raises(FarmFileError, match="not valid YAML"):
        load_farm(bad)


def test_duplicate_addresses_are_refused(tmp_path: Path) -> None:
    data = minimal()
    hosts = data["hosts"]
    assert isinstance(hosts, dict)
    hosts["h2"] = dict(hosts["h1"])
    with pytest.raises(FarmFileError, match="already used") as info:
        load_farm(write(tmp_path, data))
    assert info.value.host == "h2"


def test_scaled_farm_of_200_hosts_builds_fast() -> None:
    start = time.perf_counter()
    farm = scaled_farm(200)
    elapsed = time.perf_counter() - start
    assert len(farm.hosts) == 200
    assert farm.controllers == ["ddc01"]
    addresses = [ipaddress.IPv4Address(h.winrm.address) for h in farm.hosts.values()]
    assert len(set(addresses)) == 200
    assert all(a.is_loopback and a.packed[3] not in (0, 255) for a in addresses)
    assert elapsed < 5.0, f"scaled_farm(200) took {elapsed:.2f}s"


def test_farm_file_hosts_in_constrained_language_with_ipv6_and_connected_sockets(tmp_path: Path) -> None:
    data = minimal(
        language_mode="ConstrainedLanguage",
        citrix_controller=True,
        domain_gpos=["VDA Policies"],
        gpo_needs_delegation=False,
        services=["agent"],
    )
    binds = [
        {"protocol": "tcp", "address": "::", "port": 8080},
        {
            "protocol": "tcp",
            "address": "server",
            "port": 50100,
            "remote_address": "198.51.100.7",
            "remote_port": 443,
        },
    ]
    data["apps"] = {"agent": {"exe": "agent.exe", "path": None, "binds": binds}}
    host = load_farm(write(tmp_path, data)).hosts["h1"]
    snapshot = host.snapshot()
    assert snapshot["language_mode"] == "ConstrainedLanguage"
    assert list(snapshot["citrix"]["controller"]["gpos"]) == ["VDA Policies"]
    rows = {
        (e["local_address"], e["local_port"]): (e["remote_address"], e["state"])
        for e in snapshot["endpoints"]
    }
    assert rows[("::", 8080)] == ("::", "Listen")
    assert rows[("10.9.0.1", 50100)] == ("198.51.100.7", "Established")
    bad = dict(binds[1])
    del bad["remote_port"]
    data["apps"] = {"agent": {"exe": "agent.exe", "path": None, "binds": [bad]}}
    with pytest.raises(FarmFileError, match="remote_port"):
        load_farm(write(tmp_path, data))
