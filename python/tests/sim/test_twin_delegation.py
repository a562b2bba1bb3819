"""The second hop in the twin: reaching an AD GPO needs delegated credentials, a site policy does not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vipctl.executor.codec import decode_response
from vipctl.sim.farm import load_farm
from vipctl.sim.twin.dispatch import run_request

POLICY = {"enabled": True, "settings": {"VirtualLoopbackSupport": {"State": "Enabled"}}}


def _set(scope: str, check: bool = False) -> str:
    op: dict[str, Any] = {"op": "citrix_policy_set", "name": "VIP loopback", "scope": scope, "policy": POLICY}
    if scope == "ad_gpo":
        op["gpo"] = "Citrix VDA policy"
    return json.dumps({"v": 1, "check": check, "backup_dir": "C:\\vipctl\\b1", "ops": [op]})


def _run(scope: str, delegated: bool, check: bool = False) -> dict[str, Any]:
    controller = load_farm(None).hosts["ddc01"]
    text, code = run_request(controller, _set(scope, check), delegated=delegated)
    assert code == 0
    result: dict[str, Any] = json.loads(text)["results"][0]
    return result


def test_ad_gpo_write_without_delegation_is_delegation_required() -> None:
    result = _run("ad_gpo", delegated=False)
    assert result["ok"] is False
    assert result["error"]["kind"] == "delegation_required"
    assert "CredSSP" in result["error"]["message"] and "Kerberos delegation" in result["error"]["message"]


@pytest.mark.parametrize(
    ("scope", "delegated", "check"),
    [("ad_gpo", True, False), ("site", False, False), ("ad_gpo", True, True)],
)
def test_delegated_sessions_and_site_policies_need_no_second_hop(
    scope: str, delegated: bool, check: bool
) -> None:
    result = _run(scope, delegated, check)
    assert result["ok"] is True and result["changed"] is True


def test_check_mode_reaches_the_gpo_too_so_it_needs_delegation() -> None:
    # Reading a domain GPO crosses the same hop as writing it
    # (docs/windows-facts.md#a-domain-gpo-from-a-winrm-session-is-a-second-hop).
    result = _run("ad_gpo", delegated=False, check=True)
    assert result["error"]["kind"] == "delegation_required"


def test_the_codec_knows_the_kind() -> None:
    controller = load_farm(None).hosts["ddc01"]
    text, code = run_request(controller, _set("ad_gpo"), delegated=False)
    response = decode_response(text, code, host="ddc01")
    assert response.ok is False
    assert response.results[0].error is not None and response.results[0].error.kind == "delegation_required"
