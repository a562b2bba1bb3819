"""The Citrix policy store as the provider behaves: halves, per-half priority, empty Values, domain GPOs."""

from __future__ import annotations

import json

import pytest

from vipctl import executor
from vipctl.sim.farm import load_farm
from vipctl.sim.model.citrix import CitrixPolicyStore
from vipctl.sim.model.errors import NotFound
from vipctl.sim.model.host import SimHost
from vipctl.sim.twin.backend import run_executor

LOOPBACK = {"VirtualLoopbackPrograms": {"State": "Enabled", "Values": []}}


def controller() -> SimHost:
    return load_farm(None).hosts["ddc01"]


def test_an_empty_values_list_shows_as_one_empty_string_but_reads_as_empty() -> None:
    store = CitrixPolicyStore()
    store.apply_set("site", None, "VIP", "present", {"settings": LOOPBACK})
    snapshot = store.to_json()["site"]["VIP"]
    assert snapshot["nodes"]["Computer"]["Settings"]["VirtualLoopbackPrograms"]["Values"] == [""]
    assert snapshot["settings"]["VirtualLoopbackPrograms"]["Values"] == []


def test_priority_is_numbered_per_half_and_a_new_half_starts_disabled_and_last() -> None:
    store = CitrixPolicyStore()
    store.apply_set(
        "site", None, "A", "present", {"settings": {"VirtualLoopbackSupport": {"State": "Enabled"}}}
    )
    store.apply_set(
        "site", None, "B", "present", {"settings": {"ClipboardRedirection": {"State": "Prohibited"}}}
    )
    store.apply_set(
        "site", None, "C", "present", {"settings": {"VirtualIPLoopbackSupport": {"State": "Enabled"}}}
    )
    halves = {name: store.to_json()["site"][name]["halves"] for name in ("A", "B", "C")}
    assert [halves[n]["Computer"] and halves[n]["Computer"]["priority"] for n in "ABC"] == [1, None, 2]
    assert halves["B"]["User"]["priority"] == 1
    assert all(h[half]["enabled"] is False for h in halves.values() for half in h if h[half] is not None)
    store.apply_set("site", None, "C", "present", {"priority": 1})
    assert store.to_json()["site"]["A"]["halves"]["Computer"]["priority"] == 2


def test_an_unknown_gpo_is_not_found_and_never_created() -> None:
    store = CitrixPolicyStore(["VDA Policies"])
    with pytest.raises(NotFound):
        store.plan_set("ad_gpo", "Missing", "VIP", "present", {"enabled": True})
    with pytest.raises(NotFound):
        store.put("ad_gpo", "Missing", "VIP", None)  # a rollback of nothing creates nothing
    assert list(store.to_json()["gpos"]) == ["VDA Policies"]


def _gpo_request() -> str:
    op = {"op": "citrix_policy_get", "name": "VIP", "scope": "ad_gpo", "gpo": "VDA Policies"}
    return json.dumps({"v": 1, "ops": [op]})


def test_the_delegation_hook_decides_whether_a_domain_gpo_is_reachable() -> None:
    sim = controller()
    assert sim.spec.gpo_needs_delegation  # the default: WinRM carries no delegated credentials
    assert sim.citrix_store is not None
    sim.citrix_store.add_gpo("VDA Policies")
    text, _ = run_executor(sim, executor.script_text(), _gpo_request())
    assert json.loads(text)["results"][0]["error"]["kind"] == "delegation_required"
    text, _ = run_executor(sim, executor.script_text(), _gpo_request(), delegated=True)
    assert json.loads(text)["results"][0]["data"] == {"available": True, "exists": False, "policy": None}
