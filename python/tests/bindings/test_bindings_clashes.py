from __future__ import annotations

from farm_tables import after_data, before_data

from vipctl.bindings.clashes import InstanceStatus, find_clashes
from vipctl.bindings.model import parse_net_endpoints


def test_crm_clash_lists_the_two_failed_binds() -> None:
    clashes = find_clashes(parse_net_endpoints(before_data()))
    crm = next(c for c in clashes if c.program.lower() == "crm.exe")
    assert (crm.protocol, crm.port, crm.sessions) == ("tcp", 9000, (1, 2, 3))
    assert [(i.pid, i.status) for i in crm.instances] == [
        (1100, InstanceStatus.LISTENING),
        (1200, InstanceStatus.BIND_FAILED),
        (1300, InstanceStatus.BIND_FAILED),
    ]
    # carol's instance has an outbound connection, yet no listener: still a failed bind.
    assert crm.instances[2].addresses == ()
    assert len(crm.failed) == 2 and not crm.resolved


def test_softphone_clash_and_single_session_programs_are_not_clashes() -> None:
    clashes = find_clashes(parse_net_endpoints(before_data()))
    assert {(c.program, c.protocol, c.port) for c in clashes} == {
        ("crm.exe", "tcp", 9000),
        ("softphone.exe", "udp", 5060),
    }
    phone = next(c for c in clashes if c.program == "softphone.exe")
    assert [i.session for i in phone.failed] == [2]


def test_after_virtualization_clashes_are_resolved() -> None:
    clashes = find_clashes(parse_net_endpoints(after_data()))
    crm = next(c for c in clashes if c.program == "crm.exe")
    assert crm.sessions == (1, 2, 3, 4)
    assert [i.addresses for i in crm.instances] == [
        ("127.0.0.2",),
        ("127.0.0.3",),
        ("127.0.0.4",),
        ("127.0.0.1",),
    ]
    assert crm.resolved and all(c.resolved for c in clashes)


def test_system_processes_only_clash_when_asked() -> None:
    table = parse_net_endpoints(before_data())
    assert not any(c.program in ("svchost.exe", "System") for c in find_clashes(table))
    with_system = find_clashes(table, include_system=True)
    # svchost instances without the port are all in session 0: one session, no clash.
    assert not any(c.program == "svchost.exe" for c in with_system)


def test_two_instances_on_the_same_address_are_not_resolved() -> None:
    data = after_data()
    row = next(e for e in data["endpoints"] if e["pid"] == 1300)
    row["local_address"] = "127.0.0.3"  # carol got bob's address: a bug a rollout could cause
    crm = next(c for c in find_clashes(parse_net_endpoints(data)) if c.program == "crm.exe")
    assert not crm.failed and not crm.resolved
