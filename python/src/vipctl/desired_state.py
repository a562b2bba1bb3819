"""The CLI's desired-state file: the roles' variables, with the roles' defaults, checked up front.

A key left out of the file means "do not manage that feature" (the CLI never turns a feature on
because a default says so). A key that is present is merged over its role's defaults exactly as
the role tasks do (`| default(...)` per option), then validated by the same parsers the modules
use, so a bad value is reported before any host is contacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from vipctl.bindings.query import parse_bindings_query
from vipctl.settings import (
    SettingsError,
    parse_citrix_loopback_policy,
    parse_prefer_loopback,
    parse_rds_ip_virtualization,
)

RDS: Final = "vipctl_rds_ip_virtualization"
CITRIX_LOOPBACK: Final = "vipctl_citrix_virtual_loopback"
PREFER: Final = "vipctl_prefer_loopback"
VERIFY: Final = "vipctl_verify"

# Copies of roles/*/defaults/main.yml (a test keeps them equal): the package cannot read the roles
# at run time, because it is installed without the collection.
ROLE_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    RDS: {
        "state": "enabled",
        "mode": "per_session",
        "programs": [],
        "method": "policy",
        "winsock_fix": "auto",
        "install_role": False,
    },
    CITRIX_LOOPBACK: {
        "policy_name": "vipctl virtual loopback",
        "state": "present",
        "enabled": True,
        "programs": [],
        "scope": "site",
        "controller": "localhost",
    },
    PREFER: {"enabled": False, "processes": [], "force": False},
    VERIFY: {"programs": [], "feature": "auto"},
}
KEYS: Final = tuple(ROLE_DEFAULTS)


class DesiredStateError(ValueError):
    """The desired-state file is unusable; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class DesiredState:
    """Module parameters per feature; None for a feature the file does not mention."""

    rds_ip_virtualization: dict[str, Any] | None = None
    citrix_virtual_loopback: dict[str, Any] | None = None
    prefer_loopback: dict[str, Any] | None = None
    verify: dict[str, Any] | None = None

    def verify_params(self) -> dict[str, Any] | None:
        """vip_bindings parameters proving the rollout, or None when no program is listed."""
        if not self.verify or not self.verify.get("programs"):
            return None
        return {"expect": {k: v for k, v in self.verify.items() if v is not None}}


# Variables of the roles and playbooks that steer Ansible, not the hosts' state: the same vars file
# serves both, so the CLI accepts them and has nothing to do with them.
PLAYBOOK_ONLY_KEYS = frozenset(
    {
        "vipctl_fail_on_unsupported",
        "vipctl_reboot",
        "vipctl_reboot_timeout",
        "vipctl_serial",
        "vipctl_max_fail_percentage",
        "vipctl_rollback_since",
        "vipctl_rollback_mode",
        "vipctl_task_timeout",
    }
)


def _merged(key: str, value: Any, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DesiredStateError(f"{source}: {key} must be a mapping of options, not {type(value).__name__}")
    return {**ROLE_DEFAULTS[key], **{str(k): v for k, v in value.items()}}


def parse_desired_state(data: Any, source: str = "desired state") -> DesiredState:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DesiredStateError(f"{source}: expected a mapping with keys {', '.join(KEYS)}")
    unknown = sorted(str(k) for k in data if k not in KEYS and k not in PLAYBOOK_ONLY_KEYS)
    if unknown:
        raise DesiredStateError(f"{source}: unknown key(s) {', '.join(unknown)}; use {', '.join(KEYS)}")
    params = {key: _merged(key, data[key], source) for key in KEYS if data.get(key) is not None}
    state = DesiredState(
        rds_ip_virtualization=params.get(RDS),
        citrix_virtual_loopback=params.get(CITRIX_LOOPBACK),
        prefer_loopback=params.get(PREFER),
        verify=params.get(VERIFY),
    )
    _validate(state, source)
    return state


def _validate(state: DesiredState, source: str) -> None:
    """Run every module's own parser now, so bad input never reaches a host."""
    checks: list[tuple[str, Any]] = []
    if state.rds_ip_virtualization is not None:
        checks.append((RDS, lambda: parse_rds_ip_virtualization(state.rds_ip_virtualization or {})))
    if state.citrix_virtual_loopback is not None:
        checks.append(
            (CITRIX_LOOPBACK, lambda: parse_citrix_loopback_policy(state.citrix_virtual_loopback or {}))
        )
    if state.prefer_loopback is not None:
        checks.append((PREFER, lambda: parse_prefer_loopback(state.prefer_loopback or {})))
    if state.verify_params() is not None:
        checks.append((VERIFY, lambda: parse_bindings_query(state.verify_params())))
    for key, check in checks:
        try:
            check()
        except SettingsError as exc:
            raise DesiredStateError(f"{source}: {key}.{exc}") from None


def load_desired_state(path: str | Path) -> DesiredState:
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise DesiredStateError(f"cannot read desired state {target}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise DesiredStateError(
            f"{target}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    except ValueError:
        # A path holding NUL or a lone surrogate names no file the system can open.
        raise DesiredStateError(f"cannot read desired state {str(target)!r}: not a file name") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DesiredStateError(f"{target}: not valid YAML: {exc}") from None
    return parse_desired_state(data, str(target))
