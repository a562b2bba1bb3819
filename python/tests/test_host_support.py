"""OS classification, and agreement between `classify` and the host-side `require` conditions."""

from __future__ import annotations

from typing import Any

import pytest

from vipctl.host_support import classify, support_conditions, winsock_fix_conditions


def facts(product_name: str, edition_id: str, build: int, product_type: int, sku: int) -> dict[str, Any]:
    return {
        "computer_name": "HOST",
        "product_name": product_name,
        "edition_id": edition_id,
        "installation_type": "Client" if product_type == 1 else "Server",
        "current_build": str(build),
        "build_number": build,
        "product_type": product_type,
        "sku": sku,
    }


# (row id, facts, kind, supported, needs_winsock_fix, has_warning)
HOSTS = [
    (
        "2016",
        facts("Windows Server 2016 Datacenter", "ServerDatacenter", 14393, 3, 8),
        "server_2016",
        True,
        False,
        False,
    ),
    (
        "2019",
        facts("Windows Server 2019 Standard", "ServerStandard", 17763, 3, 7),
        "server_2019",
        True,
        True,
        False,
    ),
    (
        "2022",
        facts("Windows Server 2022 Datacenter", "ServerDatacenter", 20348, 3, 8),
        "server_2022",
        True,
        True,
        False,
    ),
    (
        "2025",
        facts("Windows Server 2025 Standard", "ServerStandard", 26100, 3, 7),
        "server_2025",
        True,
        False,
        True,
    ),
    (
        "win10-ems",
        facts("Windows 10 Enterprise multi-session", "ServerRdsh", 19045, 3, 175),
        "windows10_multisession",
        False,
        False,
        False,
    ),
    (
        "win11-ems",
        facts("Windows 11 Enterprise multi-session", "ServerRdsh", 22631, 3, 175),
        "windows11_multisession",
        False,
        False,
        False,
    ),
    ("win10-pro", facts("Windows 10 Pro", "Professional", 19045, 1, 48), "client", False, False, False),
    (
        "dc",
        facts("Windows Server 2022 Standard", "ServerStandard", 20348, 2, 7),
        "domain_controller",
        False,
        False,
        False,
    ),
    (
        "2012r2",
        facts("Windows Server 2012 R2 Standard", "ServerStandard", 9600, 3, 7),
        "server_legacy",
        False,
        False,
        False,
    ),
    (
        "future",
        facts("Windows Server vNext", "ServerStandard", 30000, 3, 7),
        "server_unknown",
        False,
        False,
        False,
    ),
    (
        "sac-1909",
        facts("Windows Server Datacenter", "ServerDatacenter", 18363, 3, 8),
        "server_unknown",
        False,
        False,
        False,
    ),
    # Multi-session detected by SKU alone, and by EditionID alone.
    (
        "ems-sku-only",
        facts("Windows 10 Enterprise", "Enterprise", 19045, 3, 175),
        "windows10_multisession",
        False,
        False,
        False,
    ),
    (
        "ems-edition-only",
        facts("Windows 11 Enterprise", "ServerRdsh", 22631, 3, 4),
        "windows11_multisession",
        False,
        False,
        False,
    ),
]


def _evaluate(conditions: list[dict[str, Any]], results: dict[str, dict[str, Any]]) -> bool:
    """The protocol's condition rule: walk `path` (missing -> None), compare by JSON equality."""
    for condition in conditions:
        value: Any = results.get(condition["ref"])
        for key in condition["path"]:
            value = value.get(key) if isinstance(value, dict) else None
        if "in" in condition and value not in condition["in"]:
            return False
        if "not_in" in condition and value in condition["not_in"]:
            return False
    return True


@pytest.mark.parametrize(
    ("row", "host", "kind", "supported", "needs_fix", "warns"), HOSTS, ids=[h[0] for h in HOSTS]
)
def test_classify(
    row: str, host: dict[str, Any], kind: str, supported: bool, needs_fix: bool, warns: bool
) -> None:
    verdict = classify(host)
    assert verdict.kind == kind
    assert verdict.supported is supported
    assert verdict.needs_winsock_fix is needs_fix
    assert bool(verdict.warnings) is warns
    assert verdict.reason


@pytest.mark.parametrize(("row", "host"), [(h[0], h[1]) for h in HOSTS], ids=[h[0] for h in HOSTS])
def test_require_conditions_agree_with_classify(row: str, host: dict[str, Any]) -> None:
    results = {"f": {"op": "host_facts", "ok": True, "data": host}}
    assert _evaluate(support_conditions("f"), results) is classify(host).supported
    # The Winsock `when` only runs after the support `require` passed, so they are evaluated together.
    fix_applies = _evaluate(support_conditions("f") + winsock_fix_conditions("f"), results)
    assert fix_applies is classify(host).needs_winsock_fix


def test_conditions_reference_the_given_op_id() -> None:
    assert {c["ref"] for c in support_conditions("facts_1")} == {"facts_1"}


def test_reasons_explain_the_verdict() -> None:
    assert "multi-session" in classify(HOSTS[4][1]).reason
    assert "older than Windows Server 2016" in classify(HOSTS[8][1]).reason
    assert "newer than any known" in classify(HOSTS[9][1]).reason
    assert "UNCONFIRMED" in classify(HOSTS[3][1]).warnings[0]


def test_missing_or_mistyped_facts_are_unsupported_not_a_crash() -> None:
    assert classify({}).supported is False
    as_strings = {"product_type": "3", "build_number": "17763", "edition_id": "ServerStandard", "sku": 7}
    verdict = classify(as_strings)
    assert verdict.supported is False
    assert _evaluate(support_conditions("f"), {"f": {"data": as_strings}}) is False
