"""Win32_TSVirtualIP: per-value precedence of the policy key over the local store."""

from __future__ import annotations

import pytest

from vipctl import registry_map
from vipctl.sim.model.errors import BadArgument, Failed, NotAvailable, PolicyControlled
from vipctl.sim.model.network import Adapter
from vipctl.sim.model.registry import Registry
from vipctl.sim.model.regvalue import RegValue
from vipctl.sim.model.tsvip import TsVip

NIC = Adapter("Ethernet", "00:15:5D:0A:00:02", "10.0.0.12", 24)
P = registry_map.RDS_POLICY_KEY


def make(role: bool = True) -> tuple[Registry, TsVip]:
    reg = Registry()
    return reg, TsVip(reg, [NIC], lambda: role)


def test_defaults_with_nothing_configured() -> None:
    _, tsvip = make()
    props = tsvip.properties()
    assert props["VirtualIPActive"] == 0
    assert props["VirtualIPMode"] == 1
    assert props["ProgramList"] == []
    assert props["NetworkAdapterMacList"] == [NIC.mac]
    assert all(props[k] == 0 for k in props if k.startswith("PolicySource"))
    assert tsvip.effective().active is False


def test_policy_wins_per_value_and_local_fills_the_rest() -> None:
    reg, tsvip = make()
    tsvip.set_local({"VirtualIPActive": 0, "VirtualIPMode": 0, "ProgramList": ["old.exe"]})
    reg.set_value(P, registry_map.ENABLE_VIRTUAL_IP.name, RegValue("REG_DWORD", 1))
    reg.set_value(P, registry_map.VIP_ADAPTER.name, RegValue("REG_SZ", "10.0.0.0/24"))
    props = tsvip.properties()
    assert (props["VirtualIPActive"], props["PolicySourceVirtualIPActive"]) == (1, 1)
    assert (props["VirtualIPMode"], props["PolicySourceVirtualIPMode"]) == (0, 0)
    assert (props["ProgramList"], props["PolicySourceProgramList"]) == (["old.exe"], 0)
    assert (props["NetworkAdapterMacAddress"], props["PolicySourceNetworkAdapter"]) == (NIC.mac, 1)
    settings = tsvip.effective()
    assert settings.active and not settings.per_program and settings.adapter == NIC


def test_a_cidr_matching_no_adapter_leaves_virtualization_off() -> None:
    reg, tsvip = make()
    reg.set_value(P, registry_map.ENABLE_VIRTUAL_IP.name, RegValue("REG_DWORD", 1))
    reg.set_value(P, registry_map.VIP_ADAPTER.name, RegValue("REG_SZ", "172.16.0.0/16"))
    assert tsvip.properties()["NetworkAdapterMacAddress"] == ""
    assert tsvip.effective().active is False


def test_set_fails_only_for_a_differing_value_under_policy() -> None:
    reg, tsvip = make()
    reg.set_value(P, registry_map.ENABLE_VIRTUAL_IP.name, RegValue("REG_DWORD", 1))
    assert tsvip.plan({"VirtualIPActive": 1}) == []  # already so: no Set call, no failure
    with pytest.raises(PolicyControlled, match="SetVirtualIPActive"):
        tsvip.plan({"VirtualIPMode": 0, "VirtualIPActive": 0})
    changes = tsvip.plan({"VirtualIPMode": 0})
    assert changes == [{"name": "VirtualIPMode", "before": 1, "after": 0}]
    tsvip.apply(changes)
    assert tsvip.properties()["VirtualIPMode"] == 0
    assert reg.get_value(registry_map.RDS_LOCAL_KEY, "VirtualMode") == RegValue("REG_DWORD", 0)


def test_bad_property_and_missing_role() -> None:
    _, tsvip = make()
    with pytest.raises(BadArgument):
        tsvip.plan({"VirtualIPActive": 2})
    with pytest.raises(BadArgument):
        tsvip.plan({"Nonsense": 1})
    _, absent = make(role=False)
    with pytest.raises(NotAvailable):
        absent.properties()
    assert absent.effective().active is False


def test_select_network_adapter_fails_while_the_mode_is_per_session() -> None:
    # docs/windows-facts.md#selectnetworkadapter-fails-in-per-session-mode
    _, tsvip = make()
    tsvip.set_local({"VirtualIPMode": 0})
    with pytest.raises(Failed, match="per session"):
        tsvip.invoke_method("NetworkAdapterMacAddress", NIC.mac)
    tsvip.invoke_method("VirtualIPMode", 1)
    tsvip.invoke_method("NetworkAdapterMacAddress", NIC.mac)
    assert tsvip.properties()["NetworkAdapterMacAddress"] == NIC.mac


def test_each_wmi_method_refuses_a_value_under_policy() -> None:
    reg, tsvip = make()
    reg.set_value(P, registry_map.ENABLE_VIRTUAL_IP.name, RegValue("REG_DWORD", 1))
    with pytest.raises(PolicyControlled, match="SetVirtualIPActive"):
        tsvip.invoke_method("VirtualIPActive", 0)
    tsvip.invoke_method("VirtualizeLoopbackAddressesEnabled", 1)
    assert tsvip.properties()["VirtualizeLoopbackAddressesEnabled"] == 1
