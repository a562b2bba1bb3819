from __future__ import annotations

from typing import Any

import pytest
from farm_tables import SERVER_IP, VIPS, after_data, before_data, sessions_data

from vipctl.bindings.expect import (
    InstanceCheck,
    Requested,
    Verdict,
    check_programs,
    expected_address,
    render_table,
)
from vipctl.bindings.in_force import EffectiveSettings, Feature
from vipctl.bindings.model import Session, parse_net_endpoints, parse_sessions

ROLLED_OUT = EffectiveSettings.create(
    citrix_loopback_enabled=True,
    citrix_loopback_programs=["CRM.exe"],
    rds_ip_active=True,
    rds_ip_programs=["softphone.exe", "licclient.exe"],
)
USER = Session(id=2, user="bob", state="Active", station="RDP-Tcp#5", virtual_ip="192.0.2.102")
NO_LEASE = Session(id=2, user="bob", state="Active", station="RDP-Tcp#5", virtual_ip=None)
ADMIN = Session(id=4, user="admin", state="Active", station="RDP-Tcp#9", virtual_ip="192.0.2.104", admin=True)


def _checks(
    data: dict[str, Any], programs: list[str], settings: EffectiveSettings, **kw: Any
) -> list[InstanceCheck]:
    return check_programs(
        programs,
        parse_net_endpoints(data),
        parse_sessions(sessions_data()),
        settings,
        server_ips=[SERVER_IP],
        **kw,
    )


def test_after_rollout_every_instance_is_ok_and_admin_keeps_127_0_0_1() -> None:
    checks = _checks(after_data(), ["crm.exe", "softphone.exe", "licclient.exe"], ROLLED_OUT)
    assert all(c.verdict is Verdict.OK for c in checks), render_table(checks)
    crm = {c.session: (c.expected, c.actual) for c in checks if c.program.lower() == "crm.exe"}
    assert crm == {
        1: (("127.0.0.2",), ("127.0.0.2",)),
        2: (("127.0.0.3",), ("127.0.0.3",)),
        3: (("127.0.0.4",), ("127.0.0.4",)),
        4: (("127.0.0.1",), ("127.0.0.1",)),
    }
    phone = {c.session: c.expected for c in checks if c.program == "softphone.exe"}
    assert phone == {1: (VIPS[1],), 2: (VIPS[2],)}


def test_before_rollout_against_the_rolled_out_settings_fails_per_instance() -> None:
    checks = _checks(before_data(), ["crm.exe", "softphone.exe"], ROLLED_OUT, feature=Feature.AUTO)
    verdicts = {(c.program.lower(), c.session): c.verdict for c in checks}
    assert verdicts == {
        ("crm.exe", 1): Verdict.WRONG_ADDRESS,
        ("crm.exe", 2): Verdict.NOT_LISTENING,
        ("crm.exe", 3): Verdict.NOT_LISTENING,
        ("softphone.exe", 1): Verdict.WRONG_ADDRESS,
        ("softphone.exe", 2): Verdict.NOT_LISTENING,
    }
    crm1 = next(c for c in checks if c.pid == 1100)
    assert (crm1.expected, crm1.actual) == (("127.0.0.2",), ("127.0.0.1",))


def test_nothing_configured_means_the_unvirtualized_address_is_right() -> None:
    checks = _checks(before_data(), ["licclient.exe"], EffectiveSettings())
    assert [(c.expected, c.actual, c.verdict) for c in checks] == [
        (("0.0.0.0", SERVER_IP), (SERVER_IP,), Verdict.OK)
    ]


def test_port_filter_and_unknown_request_when_nothing_listens() -> None:
    checks = _checks(before_data(), ["crm.exe"], ROLLED_OUT, port=9999)
    assert {c.verdict for c in checks} == {Verdict.NOT_LISTENING}
    assert all(c.port == 9999 and c.protocol is None and c.expected == () for c in checks)
    forced = _checks(before_data(), ["crm.exe"], ROLLED_OUT, port=9999, feature=Feature.CITRIX_LOOPBACK)
    assert [c.expected for c in forced] == [("127.0.0.2",), ("127.0.0.3",), ("127.0.0.4",)]


def test_auto_infers_loopback_from_one_session_even_if_others_got_the_vip() -> None:
    # crm.exe in both features without PreferLoopback gets the VIP
    # (docs/windows-facts.md#where-a-bind-lands). With PreferLoopback set, a host still handing
    # out VIPs is wrong, and auto must notice from the one 127/8 bind.
    data = after_data()
    for row in data["endpoints"]:
        if row["pid"] in (1200, 1300):
            row["local_address"] = VIPS[row["session"]]
    both = EffectiveSettings.create(
        citrix_loopback_enabled=True,
        citrix_loopback_programs=["crm.exe"],
        rds_ip_active=True,
        rds_ip_per_program=False,
        prefer_loopback=True,
        prefer_loopback_processes=["crm.exe"],
    )
    checks = _checks(data, ["crm.exe"], both)
    assert {c.session: c.verdict for c in checks} == {
        1: Verdict.OK,
        2: Verdict.WRONG_ADDRESS,
        3: Verdict.WRONG_ADDRESS,
        4: Verdict.OK,
    }


@pytest.mark.parametrize(
    ("settings", "session", "requested", "expected"),
    [
        (ROLLED_OUT, USER, Requested.LOOPBACK, ("127.0.0.3",)),
        # Microsoft loopback virtualization rewrites only processes RD IP Virtualization covers
        (
            EffectiveSettings.create(
                ms_loopback_virtualization=True, rds_ip_active=True, rds_ip_per_program=False
            ),
            USER,
            Requested.LOOPBACK,
            ("127.0.0.3",),
        ),
        (EffectiveSettings.create(ms_loopback_virtualization=True), USER, Requested.LOOPBACK, ("127.0.0.1",)),
        (EffectiveSettings(), USER, Requested.LOOPBACK, ("127.0.0.1",)),
        # both features, VIP leased: the VIP wins unless PreferLoopback lists the program
        (
            EffectiveSettings.create(
                citrix_loopback_enabled=True,
                citrix_loopback_programs=["crm.exe"],
                rds_ip_active=True,
                rds_ip_per_program=False,
            ),
            USER,
            Requested.LOOPBACK,
            ("192.0.2.102",),
        ),
        (
            EffectiveSettings.create(
                citrix_loopback_enabled=True,
                citrix_loopback_programs=["crm.exe"],
                rds_ip_active=True,
                rds_ip_per_program=False,
                prefer_loopback=True,
                prefer_loopback_processes=["CRM.EXE"],
            ),
            USER,
            Requested.LOOPBACK,
            ("127.0.0.3",),
        ),
        # Citrix support disabled: the list alone does nothing
        (
            EffectiveSettings.create(citrix_loopback_programs=["crm.exe"]),
            USER,
            Requested.LOOPBACK,
            ("127.0.0.1",),
        ),
        (
            EffectiveSettings.create(rds_ip_active=True, rds_ip_per_program=False),
            USER,
            Requested.WILDCARD,
            ("192.0.2.102",),
        ),
        (
            EffectiveSettings.create(rds_ip_active=True, rds_ip_programs=["other.exe"]),
            USER,
            Requested.WILDCARD,
            ("0.0.0.0", SERVER_IP),
        ),
        (
            EffectiveSettings.create(rds_ip_active=True, rds_ip_per_program=False),
            NO_LEASE,
            Requested.WILDCARD,
            ("0.0.0.0", SERVER_IP),
        ),
        (
            EffectiveSettings.create(
                rds_ip_active=True, rds_ip_per_program=False, prompt_on_ip_lease_fail=True
            ),
            NO_LEASE,
            Requested.WILDCARD,
            (),
        ),
        (ROLLED_OUT, ADMIN, Requested.LOOPBACK, ("127.0.0.1",)),
        (
            EffectiveSettings.create(rds_ip_active=True, rds_ip_per_program=False),
            ADMIN,
            Requested.WILDCARD,
            ("0.0.0.0", SERVER_IP),
        ),
    ],
)
def test_expected_address_follows_domain_section_7(
    settings: EffectiveSettings, session: Session, requested: Requested, expected: tuple[str, ...]
) -> None:
    assert (
        expected_address("crm.exe", session.id, session, requested, settings, [SERVER_IP]).addresses
        == expected
    )


def test_session_0_is_never_virtualized() -> None:
    everything = EffectiveSettings.create(
        citrix_loopback_enabled=True, citrix_loopback_programs=["crm.exe"], ms_loopback_virtualization=True
    )
    result = expected_address("crm.exe", 0, None, Requested.LOOPBACK, everything)
    assert result.addresses == ("127.0.0.1",) and "session 0" in result.why


def test_citrix_rule_past_session_254() -> None:
    big = Session(id=255, user="u", state="Active", station=None, virtual_ip=None)
    assert expected_address("crm.exe", 255, big, Requested.LOOPBACK, ROLLED_OUT).addresses == ("127.0.1.0",)


def test_render_table_is_aligned_and_can_show_failures_only() -> None:
    checks = _checks(before_data(), ["crm.exe"], ROLLED_OUT)
    text = render_table(checks)
    lines = text.splitlines()
    assert lines[0].split() == ["program", "pid", "session", "port", "expected", "actual", "verdict"]
    assert len(lines) == 1 + len(checks)
    assert "crm.exe  1100" in lines[1] and "tcp/9000" in lines[1] and lines[1].endswith("wrong_address")
    assert lines[2].split()[-2:] == ["-", "not_listening"]
    # columns line up: every row has 'expected' at the same offset as the header
    offset = lines[0].index("expected")
    assert all(line[offset - 2 : offset] == "  " for line in lines[1:])
    ok_rows = render_table(_checks(after_data(), ["crm.exe"], ROLLED_OUT), only_failures=True)
    assert ok_rows.splitlines() == [ok_rows.splitlines()[0]]
