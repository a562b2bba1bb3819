"""Option defaults live in one place, the module docs: the roles carry no copies, pass every option
with `default(omit)`, and the parsers the CLI uses default exactly as the docs say."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from vipctl.action_plugin.argspecs import documentation_of
from vipctl.desired_state import MODULES, parse_desired_state
from vipctl.settings import parse_citrix_loopback_policy, parse_prefer_loopback, parse_rds_ip_virtualization

ROOT = Path(__file__).resolve().parents[2]

# role -> (its variable, its module, the module task's name in tasks/main.yml)
ROLES = {
    "rds_ip_virtualization": ("vipctl_rds_ip_virtualization", "rds_ip_virtualization"),
    "citrix_virtual_loopback": ("vipctl_citrix_virtual_loopback", "citrix_virtual_loopback"),
    "citrix_prefer_loopback": ("vipctl_prefer_loopback", "citrix_prefer_loopback"),
}
PARSERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "rds_ip_virtualization": parse_rds_ip_virtualization,
    "citrix_virtual_loopback": parse_citrix_loopback_policy,
    "citrix_prefer_loopback": parse_prefer_loopback,
}
# Options a minimal valid call must give (the docs default them to something that needs more).
MINIMAL = {
    "rds_ip_virtualization": {},
    "citrix_virtual_loopback": {"programs": ["crmclient.exe"]},
    "citrix_prefer_loopback": {"processes": ["crmclient.exe"]},
}
# Run parameters of a module, not desired state (set by the roles themselves).
RUN_PARAMETERS = {"citrix_prefer_loopback": {"assume_enabled"}}


def module_options(module: str) -> dict[str, Any]:
    options: dict[str, Any] = documentation_of(ROOT / "plugins" / "modules" / f"{module}.py")["options"]
    return options


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("role", [*ROLES, "vip_verify"])
def test_roles_carry_no_default_for_their_desired_state(role: str) -> None:
    defaults = load(ROOT / "roles" / role / "defaults" / "main.yml") or {}
    spec = load(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    (variable,) = spec
    assert variable not in defaults
    assert "default" not in spec[variable] and "options" not in spec[variable], spec[variable]
    assert not spec[variable].get("required"), "a missing variable gets the role's own message"


@pytest.mark.parametrize("role", ROLES)
def test_roles_pass_every_documented_option_with_default_omit(role: str) -> None:
    variable, module = ROLES[role]
    tasks = load(ROOT / "roles" / role / "tasks" / "main.yml")
    (call,) = [t[f"vipctl.farm.{module}"] for t in tasks if f"vipctl.farm.{module}" in t]
    documented = set(module_options(module)) - RUN_PARAMETERS.get(module, set())
    assert set(call) - RUN_PARAMETERS.get(module, set()) == documented
    for option in documented:
        assert re.fullmatch(rf"\{{\{{ {variable}\.{option} \| default\(omit\) \}}\}}", call[option]), call[
            option
        ]


@pytest.mark.parametrize("module", PARSERS)
def test_parsers_default_as_the_module_docs_say(module: str) -> None:
    documented = {
        name: option["default"] for name, option in module_options(module).items() if "default" in option
    }
    for name in RUN_PARAMETERS.get(module, set()):
        documented.pop(name, None)
    parse = PARSERS[module]
    minimal = MINIMAL[module]
    assert parse(minimal) == parse({**documented, **minimal})


def test_the_cli_desired_state_adds_no_default_of_its_own() -> None:
    given = {"vipctl_prefer_loopback": {"processes": ["crmclient.exe"]}}
    state = parse_desired_state(given)
    assert state.prefer_loopback == given["vipctl_prefer_loopback"]
    assert set(MODULES) == {
        "vipctl_rds_ip_virtualization",
        "vipctl_citrix_virtual_loopback",
        "vipctl_prefer_loopback",
        "vipctl_verify",
    }
