"""Inventory parsing: YAML and INI, groups, children, ranges, host_vars/group_vars, --limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from vipctl.inventory_file import InventoryError, load_inventory

YAML = """
all:
  vars: {ansible_connection: winrm, ansible_port: 5985}
  children:
    rdsh:
      vars: {ansible_port: 5986}
      hosts:
        vda[01:03]:
    citrix_vdas:
      hosts:
        vda02: {ansible_port: 6000}
"""
INI = """
ddc01 ansible_host=10.0.0.10 ansible_port=5985

[rdsh]
vda[1:2] ansible_user="corp\\\\admin"

[citrix:children]
rdsh

[citrix:vars]
ansible_connection=psrp
"""


def test_yaml_groups_ranges_and_precedence(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(YAML, encoding="utf-8")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "rdsh.yml").write_text("ansible_user: fromdir\nansible_port: 7000\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "vda03.yml").write_text("ansible_port: 8000\n")
    inventory = load_inventory(path)
    assert list(inventory.hosts) == ["vda01", "vda02", "vda03"]
    # group_vars/ beats inventory-file group vars; inventory host vars beat both; host_vars/ beats all.
    assert inventory.hosts["vda01"]["ansible_port"] == 7000
    assert inventory.hosts["vda02"]["ansible_port"] == 6000
    assert inventory.hosts["vda03"]["ansible_port"] == 8000
    assert inventory.hosts["vda01"]["ansible_user"] == "fromdir"
    assert inventory.groups_of("vda02") == ["citrix_vdas", "rdsh"]
    assert inventory.select("rdsh:!citrix_vdas") == ["vda01", "vda03"]
    assert inventory.select("rdsh,&citrix_vdas") == ["vda02"]
    assert inventory.select("vda0[13]") == ["vda01", "vda03"]
    with pytest.raises(InventoryError, match="nosuch"):
        inventory.select("nosuch")


def test_ini_children_vars_and_literals(tmp_path: Path) -> None:
    path = tmp_path / "hosts.ini"
    path.write_text(INI, encoding="utf-8")
    inventory = load_inventory(path)
    assert list(inventory.hosts) == ["ddc01", "vda1", "vda2"]
    assert inventory.hosts["ddc01"]["ansible_port"] == 5985  # a host-line literal
    assert inventory.hosts["vda1"]["ansible_user"] == "corp\\admin"
    assert inventory.hosts["vda2"]["ansible_connection"] == "psrp"
    assert "ansible_connection" not in inventory.hosts["ddc01"]
    assert inventory.select("citrix") == ["vda1", "vda2"]


def test_bad_inventory_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.ini"
    path.write_text("[rdsh:weird]\nvda1\n", encoding="utf-8")
    with pytest.raises(InventoryError, match="unknown section kind 'weird'"):
        load_inventory(path)
    with pytest.raises(InventoryError, match="cannot read inventory"):
        load_inventory(tmp_path / "missing.yml")


def test_inventories_are_parsed_by_libyaml_where_pyyaml_has_it() -> None:
    # The pure-Python loader spends about 2 ms per host of a generated inventory; libyaml, a tenth.
    import yaml

    from vipctl import inventory_file

    expected = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    assert inventory_file.SAFE_LOADER is expected
