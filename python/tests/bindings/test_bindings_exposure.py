from __future__ import annotations

from typing import Any

import pytest
from farm_tables import SERVER_IP, VIPS, after_data, before_data

from vipctl.bindings.exposure import BindKind, classify_address, find_exposures
from vipctl.bindings.model import parse_net_endpoints


def _summary(data: dict[str, Any], **kwargs: Any) -> set[tuple[str, str, int, str]]:
    table = parse_net_endpoints(data)
    found = find_exposures(table.endpoints, server_ips=[SERVER_IP], session_ips=list(VIPS.values()), **kwargs)
    return {
        (e.endpoint.process or "", e.endpoint.local_address, e.endpoint.local_port, e.kind.value)
        for e in found
    }


def test_before_rollout_flags_the_three_programs_and_not_the_noise() -> None:
    assert _summary(before_data()) == {
        ("crm.exe", "127.0.0.1", 9000, "loopback"),
        ("softphone.exe", "0.0.0.0", 5060, "any"),
        ("licclient.exe", SERVER_IP, 27000, "server_ip"),
    }


def test_system_services_are_available_with_the_flag() -> None:
    found = _summary(before_data(), include_system=True)
    assert ("System", "0.0.0.0", 445, "any") in found
    assert ("svchost.exe", SERVER_IP, 3389, "server_ip") not in found  # established, not listening
    assert ("svchost.exe", "0.0.0.0", 3389, "any") in found
    assert ("svchost.exe", "127.0.0.1", 1900, "loopback") in found
    # lsass's RPC listener is on a dynamic port, IPv6 is out of scope.
    assert not any(port in (49664,) for _, _, port, _ in found)
    assert not any(addr == "::" for _, addr, _, _ in found)


def test_after_rollout_the_virtualized_forms_are_recognised() -> None:
    found = _summary(after_data())
    assert ("crm.exe", "127.0.0.4", 9000, "session_loopback") in found
    assert ("crm.exe", "127.0.0.1", 9000, "loopback") in found  # the /admin session
    assert ("softphone.exe", VIPS[2], 5060, "session_ip") in found
    assert ("licclient.exe", VIPS[1], 27000, "session_ip") in found


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("0.0.0.0", BindKind.ANY),
        ("127.0.0.1", BindKind.LOOPBACK),
        ("127.0.1.0", BindKind.SESSION_LOOPBACK),
        (SERVER_IP, BindKind.SERVER_IP),
        ("192.0.2.101", BindKind.SESSION_IP),
        ("10.1.1.1", None),
        ("::1", None),
    ],
)
def test_classify_address(address: str, kind: BindKind | None) -> None:
    # The VIP is also among the host's addresses: the session kind must win.
    servers = [SERVER_IP, "192.0.2.101"]
    assert classify_address(address, server_ips=servers, session_ips=["192.0.2.101"]) is kind


def test_kind_groups() -> None:
    assert {k for k in BindKind if k.wants_loopback} == {BindKind.LOOPBACK, BindKind.SESSION_LOOPBACK}
    assert {k for k in BindKind if k.wants_wildcard} == {
        BindKind.ANY,
        BindKind.SERVER_IP,
        BindKind.SESSION_IP,
    }
