from __future__ import annotations

from farm_tables import SERVER_IP, VIPS, after_data, before_data

from vipctl.bindings.clashes import find_clashes
from vipctl.bindings.exposure import BindKind, find_exposures
from vipctl.bindings.model import parse_net_endpoints
from vipctl.bindings.recommend import ProgramAdvice, Recommendation, recommend, recommendation_for


def _advice(data: dict[str, object], programs: tuple[str, ...] = ()) -> dict[str, ProgramAdvice]:
    table = parse_net_endpoints(data)
    exposures = find_exposures(table.endpoints, server_ips=[SERVER_IP], session_ips=list(VIPS.values()))
    return {a.program: a for a in recommend(exposures, find_clashes(table), programs=programs)}


def test_before_rollout_each_program_gets_its_feature() -> None:
    advice = _advice(before_data(), programs=("explorer.exe",))
    assert {name: a.recommendation for name, a in advice.items()} == {
        "crm.exe": Recommendation.VIRTUAL_LOOPBACK,
        "explorer.exe": Recommendation.NONE,
        "licclient.exe": Recommendation.VIRTUAL_IP,
        "softphone.exe": Recommendation.VIRTUAL_IP,
    }
    crm = advice["crm.exe"]
    assert crm.binds == ("127.0.0.1 tcp/9000",) and crm.failed_binds == 2 and crm.clashes == 1
    assert "2 instance(s) could not bind" in crm.reason and "Citrix virtual loopback" in crm.reason
    assert "RD IP Virtualization" in advice["softphone.exe"].reason
    assert "a second session would want the same port" in advice["licclient.exe"].reason
    assert "no listener" in advice["explorer.exe"].reason


def test_after_rollout_the_same_advice_and_resolved_in_words() -> None:
    advice = _advice(after_data())
    assert advice["crm.exe"].recommendation is Recommendation.VIRTUAL_LOOPBACK
    assert advice["crm.exe"].binds == ("127.0.0.1 tcp/9000", "session loopback tcp/9000")
    assert "every session has its own address" in advice["crm.exe"].reason
    assert advice["softphone.exe"].recommendation is Recommendation.VIRTUAL_IP
    assert "already bound to a session virtual IP" in advice["softphone.exe"].reason


def test_a_program_binding_both_needs_prefer_loopback() -> None:
    data = before_data()
    crm1 = next(e for e in data["endpoints"] if e["pid"] == 1100)
    data["endpoints"].append(
        {**crm1, "protocol": "udp", "local_address": "0.0.0.0", "local_port": 9001, "state": None}
    )
    crm = _advice(data)["crm.exe"]
    assert crm.recommendation is Recommendation.BOTH
    assert "PreferLoopback" in crm.reason and "0.0.0.0 udp/9001" in crm.binds


def test_recommendation_for_kinds() -> None:
    assert recommendation_for([]) is Recommendation.NONE
    assert recommendation_for([BindKind.SESSION_LOOPBACK]) is Recommendation.VIRTUAL_LOOPBACK
    assert recommendation_for([BindKind.SERVER_IP, BindKind.ANY]) is Recommendation.VIRTUAL_IP
    assert recommendation_for([BindKind.LOOPBACK, BindKind.SESSION_IP]) is Recommendation.BOTH
