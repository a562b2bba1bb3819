"""Every `ansible_winrm_*` / `ansible_psrp_*` variable the docs and examples name is one Ansible reads.

The psrp plugin reads only the variables its DOCUMENTATION lists; the winrm plugin also passes
`ansible_winrm_<arg>` through to pywinrm's `Protocol` for any argument that `Protocol` takes.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import yaml
from ansible.plugins.connection import psrp, winrm
from winrm.protocol import Protocol

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    [
        REPO / "README.md",
        *REPO.glob("docs/*.md"),
        *REPO.glob("roles/*/README.md"),
        *REPO.glob("inventory/*.yml"),
    ]
)
VARIABLE = re.compile(r"\bansible_(?:winrm|psrp)_[a-z0-9_]+\b")


def _documented_vars(module: object) -> set[str]:
    options = yaml.safe_load(module.DOCUMENTATION)["options"]  # type: ignore[attr-defined]
    return {var["name"] for option in options.values() for var in option.get("vars", [])}


def _known() -> set[str]:
    pywinrm_args = set(inspect.signature(Protocol.__init__).parameters) - {"self"}
    return _documented_vars(psrp) | _documented_vars(winrm) | {f"ansible_winrm_{arg}" for arg in pywinrm_args}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_named_connection_variables_exist(source: Path) -> None:
    named = set(VARIABLE.findall(source.read_text(encoding="utf-8")))
    unknown = sorted(named - _known())
    assert not unknown, f"{source.relative_to(REPO)} names variables Ansible does not read: {unknown}"


def test_the_ca_variables_are_the_real_ones() -> None:
    assert {"ansible_psrp_ca_cert", "ansible_winrm_ca_trust_path"} <= _known()
    assert "ansible_psrp_ca_path" not in _known()
