"""The collection as Ansible sees it: module docs, docs = argument specs, role specs, playbook syntax."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from vipctl.action_plugin.argspecs import argument_spec_for

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
MODULES = (
    "vip_status",
    "vip_bindings",
    "rds_ip_virtualization",
    "citrix_virtual_loopback",
    "citrix_prefer_loopback",
    "vip_rollback",
)
ROLES = sorted(path.parent.parent for path in (REPO / "roles").glob("*/meta/argument_specs.yml"))
PLAYBOOKS = [*sorted((REPO / "playbooks").glob("*.yml")), REPO / "site.yml"]
# The keys Ansible's argument spec validation acts on; descriptions and the like are docs only.
COMPARED_KEYS = ("type", "required", "default", "choices", "elements", "aliases", "no_log")
TINY_INVENTORY = """\
all:
  children:
    rdsh:
      hosts: {rdsh01: {}}
    citrix_vdas:
      hosts: {vda01: {}}
    citrix_controllers:
      hosts: {ddc01: {}}
  vars:
    ansible_connection: winrm
"""


def ansible(tool: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    # The repository's ansible.cfg makes vipctl.farm resolve through the .collections symlink.
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        [str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def docs() -> dict[str, Any]:
    proc = ansible("ansible-doc", "--json", *(f"vipctl.farm.{module}" for module in MODULES))
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def option_names(options: dict[str, Any], prefix: str = "") -> set[str]:
    names = set()
    for name, option in (options or {}).items():
        names.add(prefix + name)
        names |= option_names(option.get("suboptions") or {}, f"{prefix}{name}.")
    return names


def spec_names(spec: dict[str, Any], prefix: str = "") -> set[str]:
    names = set()
    for name, entry in spec.items():
        names.add(prefix + name)
        names |= spec_names(entry.get("options") or {}, f"{prefix}{name}.")
    return names


def comparable(options: dict[str, Any]) -> dict[str, Any]:
    """Documented options in argument spec form (type defaults to str, as in Ansible)."""
    out: dict[str, Any] = {}
    for name, option in (options or {}).items():
        entry = {key: option[key] for key in COMPARED_KEYS if key in option}
        entry.setdefault("type", "str")
        if entry.get("required") is False:
            del entry["required"]
        if "suboptions" in option:
            entry["options"] = comparable(option["suboptions"])
        out[name] = entry
    return out


def normalized_spec(spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, entry in spec.items():
        copied = {key: value for key, value in entry.items() if key != "options"}
        if copied.get("required") is False:
            del copied["required"]
        if "options" in entry:
            copied["options"] = normalized_spec(entry["options"])
        out[name] = copied
    return out


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_text_shows_every_option(module: str) -> None:
    proc = ansible("ansible-doc", f"vipctl.farm.{module}")
    assert proc.returncode == 0, proc.stderr
    assert "[WARNING]" not in proc.stderr, proc.stderr
    spec = argument_spec_for(str(REPO / "plugins" / "modules" / f"{module}.py"))
    missing = [name for name in spec_names(spec) if name.rsplit(".", 1)[-1] not in proc.stdout]
    assert not missing, f"ansible-doc vipctl.farm.{module} does not show {missing}"


@pytest.mark.parametrize("module", MODULES)
def test_documented_options_equal_the_argument_spec(docs: dict[str, Any], module: str) -> None:
    documented = docs[f"vipctl.farm.{module}"]["doc"]
    # ansible-doc merged the shared doc fragment, so this is what users read.
    assert documented["module"] == module
    spec = argument_spec_for(str(REPO / "plugins" / "modules" / f"{module}.py"))
    assert option_names(documented.get("options") or {}) == spec_names(spec)
    assert comparable(documented.get("options") or {}) == normalized_spec(spec)


@pytest.mark.parametrize("module", MODULES)
def test_shared_fragment_is_merged(docs: dict[str, Any], module: str) -> None:
    documented = docs[f"vipctl.farm.{module}"]["doc"]
    assert any("winrm" in note for note in documented.get("notes", []))
    assert documented["attributes"]["check_mode"]["support"] == "full"


def test_every_role_has_an_argument_spec() -> None:
    assert {role.name for role in ROLES} == {
        path.name for path in (REPO / "roles").iterdir() if path.is_dir()
    }


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_role_argument_specs_parse(role: Path) -> None:
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    entry_points = specs["argument_specs"]
    assert "main" in entry_points
    for name, entry in entry_points.items():
        assert entry.get("short_description"), f"{role.name}:{name} has no short_description"
        for option, details in (entry.get("options") or {}).items():
            assert isinstance(details, dict), f"{role.name}:{name}:{option}"
            assert details.get("description"), f"{role.name}:{name}:{option} has no description"


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim = REPO / "inventory" / "sim.yml"
    if sim.is_file():
        return sim
    # The simulator writes inventory/sim.yml; without it a tiny inventory with the play's groups does.
    path = tmp_path_factory.mktemp("inventory") / "hosts.yml"
    path.write_text(TINY_INVENTORY, encoding="utf-8")
    return path


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=lambda path: str(path.relative_to(REPO)))
def test_playbook_syntax(inventory: Path, playbook: Path) -> None:
    proc = ansible("ansible-playbook", "--syntax-check", "-i", str(inventory), str(playbook))
    assert proc.returncode == 0, proc.stdout + proc.stderr
