from __future__ import annotations

import copy
from typing import Any

import pytest
from farm_tables import before_data, sessions_data

from vipctl.bindings.model import BindingsDataError, parse_net_endpoints, parse_sessions, program_key


def test_parses_every_row_of_a_real_table() -> None:
    table = parse_net_endpoints(before_data())
    assert len(table.endpoints) == len(before_data()["endpoints"])
    crm = next(e for e in table.endpoints if e.process == "crm.exe" and e.is_listener)
    assert (crm.protocol, crm.local_address, crm.local_port, crm.state, crm.session) == (
        "tcp",
        "127.0.0.1",
        9000,
        "Listen",
        1,
    )
    phone = next(e for e in table.endpoints if e.process == "softphone.exe" and e.local_port == 5060)
    assert phone.protocol == "udp" and phone.state is None and phone.remote_address is None
    assert phone.is_listener
    system = next(p for p in table.processes if p.pid == 4)
    assert system.path is None and system.session == 0


def test_established_tcp_is_not_a_listener_and_ipv6_is_kept() -> None:
    table = parse_net_endpoints(before_data())
    established = [e for e in table.endpoints if e.state == "Established"]
    assert established and not any(e.is_listener for e in established)
    v6 = [e for e in table.endpoints if e.local_address == "::"]
    assert len(v6) == 1 and not v6[0].is_ipv4


def test_numeric_tcp_state_from_get_nettcpconnection_is_named() -> None:
    data = before_data()
    data["endpoints"][0]["state"] = 2
    data["endpoints"][5]["state"] = "established"
    table = parse_net_endpoints(data)
    assert table.endpoints[0].state == "Listen"
    assert table.endpoints[5].state == "Established"


def test_single_row_unwrapped_by_powershell_is_accepted() -> None:
    data = before_data()
    table = parse_net_endpoints({"endpoints": data["endpoints"][0], "processes": data["processes"][0]})
    assert len(table.endpoints) == 1 and len(table.processes) == 1


def test_missing_join_fields_are_filled_from_the_process_list() -> None:
    data = before_data()
    row = next(e for e in data["endpoints"] if e["process"] == "licclient.exe")
    row.update(process=None, path="", session=None)
    table = parse_net_endpoints(data)
    ep = next(e for e in table.endpoints if e.pid == 1102)
    assert (ep.process, ep.session) == ("licclient.exe", 1)
    assert ep.path is not None and ep.path.endswith("licclient.exe")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("local_port", 70000, r"net_endpoints\.endpoints\[1\]\.local_port: expected an integer 0\.\.65535"),
        ("local_port", "9000", r"endpoints\[1\]\.local_port"),
        ("protocol", "icmp", r"endpoints\[1\]\.protocol: expected 'tcp' or 'udp', got 'icmp'"),
        ("local_address", "localhost", r"endpoints\[1\]\.local_address: expected an IPv4 or IPv6 address"),
        ("pid", None, r"endpoints\[1\]\.pid: expected an integer"),
        ("pid", True, r"endpoints\[1\]\.pid"),
        ("state", "Dancing", r"endpoints\[1\]\.state: expected a TCP state name"),
        ("session", -1, r"endpoints\[1\]\.session: expected an integer >= 0 or null"),
    ],
)
def test_malformed_endpoint_rows_name_row_and_field(field: str, value: Any, message: str) -> None:
    data = copy.deepcopy(before_data())
    data["endpoints"][1][field] = value
    with pytest.raises(BindingsDataError, match=message):
        parse_net_endpoints(data)


def test_malformed_containers_are_reported() -> None:
    with pytest.raises(BindingsDataError, match=r"net_endpoints: expected an object, got list"):
        parse_net_endpoints([])
    with pytest.raises(BindingsDataError, match=r"net_endpoints\.endpoints: expected a list, got str"):
        parse_net_endpoints({"endpoints": "none"})
    with pytest.raises(BindingsDataError, match=r"endpoints\[0\]: expected an object, got int"):
        parse_net_endpoints({"endpoints": [3]})
    with pytest.raises(BindingsDataError, match=r"processes\[0\]\.name: expected a non-empty string"):
        parse_net_endpoints({"endpoints": [], "processes": [{"pid": 8, "name": "", "session": 1}]})


def test_sessions_parse_with_vip_and_admin_flag() -> None:
    sessions = parse_sessions(sessions_data())
    assert [s.id for s in sessions] == [0, 1, 2, 3, 4]
    assert sessions[1].virtual_ip == "192.0.2.101" and sessions[1].user == "CONTOSO\\alice"
    assert [s.admin for s in sessions] == [False, False, False, False, True]
    assert sessions[0].user is None


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "1"}, r"sessions\.sessions\[0\]\.id: expected an integer"),
        ({"id": 1, "virtual_ip": "fe80::1"}, r"sessions\[0\]\.virtual_ip: expected an IPv4 address or null"),
        ({"id": 1, "admin": "yes"}, r"sessions\[0\]\.admin: expected true or false"),
    ],
)
def test_malformed_sessions_are_reported(row: dict[str, Any], message: str) -> None:
    with pytest.raises(BindingsDataError, match=message):
        parse_sessions({"sessions": [row]})


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("crm.exe", "crm"),
        ("CRM.EXE", "crm"),
        ("crm", "crm"),
        (r"C:\Apps\Crm.exe", "crm"),
        ("System", "system"),
    ],
)
def test_program_key_matches_all_spellings(name: str, key: str) -> None:
    assert program_key(name) == key
