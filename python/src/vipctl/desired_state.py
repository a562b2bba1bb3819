"""The desired state: the roles' variables, checked up front, for the CLI and the roles alike.

A key left out means "do not manage that feature": nothing is turned on because a default says so.
A key that is present holds module options; an option left out takes the module's documented
default (the roles pass `| default(omit)`, the parsers default the same way, and
tests/integration/test_option_defaults.py holds them to the module docs). Everything is validated by
the same parsers the modules use, so a bad value is reported before any host is contacted. The
roles run `problem_of` through the `vipctl.farm.desired_state_problem` filter, so a playbook fails
with the CLI's own words.
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

KEYS: Final = (RDS, CITRIX_LOOPBACK, PREFER, VERIFY)
# Which module each key holds the options of (what to read with ansible-doc).
MODULES: Final = {
    RDS: "rds_ip_virtualization",
    CITRIX_LOOPBACK: "citrix_virtual_loopback",
    PREFER: "citrix_prefer_loopback",
    VERIFY: "vip_bindings (expect)",
}


class DesiredStateError(ValueError):
    """The desired-state file is unusable; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class DesiredState:
    """Module parameters per feature; None for a feature the file does not mention."""

    rds_ip_virtualization: dict[str, Any] | None = None
    citrix_virtual_loopback: dict[str, Any] | None = None
    prefer_loopback: dict[str, Any] | None = None
    verify: dict[str, Any] | None = None
    # vipctl_fail_on_unsupported: false leaves unsupported hosts out (reported, exit code unaffected).
    fail_on_unsupported: bool = True

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


# The connection variables of ours that inventories set beside Ansible's own; read by
# vipctl.transport.ansible_vars (not imported here: the filter plugin loads this module without the
# transports' dependencies). tests/unit/test_connection_variables.py holds the two together.
CONNECTION_VARIABLES = frozenset(
    {
        "vipctl_connection_retries",
        "vipctl_command_timeout",
        "vipctl_request_deadline",
        "vipctl_allow_basic_over_http",
    }
)


# Variables the collection's own roles and playbooks register or set on a host: not desired state,
# so a check of a host's `vipctl_*` variables leaves them out.
RESULT_VARIABLES = frozenset(
    {
        "vipctl_status",
        "vipctl_rds_result",
        "vipctl_citrix_result",
        "vipctl_prefer_result",
        "vipctl_verify_result",
        "vipctl_reboot_required",
        "vipctl_restart_needed",
        "vipctl_audit",
        "vipctl_rollback_result",
        "vipctl_restart_result",
    }
)


def _options(key: str, value: Any, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DesiredStateError(f"{source}: {key} must be a mapping of options, not {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def parse_desired_state(data: Any, source: str = "desired state") -> DesiredState:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DesiredStateError(f"{source}: expected a mapping with keys {', '.join(KEYS)}")
    unknown = sorted(str(k) for k in data if k not in KEYS and k not in PLAYBOOK_ONLY_KEYS)
    if unknown:
        raise DesiredStateError(f"{source}: unknown key(s) {', '.join(unknown)}; use {', '.join(KEYS)}")
    params = {key: _options(key, data[key], source) for key in KEYS if data.get(key) is not None}
    fail_on_unsupported = data.get("vipctl_fail_on_unsupported", True)
    if not isinstance(fail_on_unsupported, bool):
        raise DesiredStateError(f"{source}: vipctl_fail_on_unsupported must be true or false")
    state = DesiredState(
        rds_ip_virtualization=params.get(RDS),
        citrix_virtual_loopback=params.get(CITRIX_LOOPBACK),
        prefer_loopback=params.get(PREFER),
        verify=params.get(VERIFY),
        fail_on_unsupported=fail_on_unsupported,
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


def missing_message(key: str) -> str:
    return (
        f"{key} is not set, and nothing is enabled unless asked: pass the desired state, e.g. "
        f"-e @inventory/sim-desired-state.yml, or set {key} in group_vars (the options of "
        f"{MODULES[key]}, see ansible-doc)"
    )


def problem_of(variables: dict[str, Any], required: list[str] | None = None) -> str:
    """The CLI's error for a host's `vipctl_*` variables, or "" when they are usable.

    `required` names keys that must be present (a role's own variable)."""
    # A host's variables also hold how to reach it: those are the transports', not desired state.
    skipped = RESULT_VARIABLES | CONNECTION_VARIABLES
    data = {k: v for k, v in variables.items() if k not in skipped}
    for key in required or []:
        if data.get(key) is None:
            return missing_message(key)
    try:
        parse_desired_state(data)
    except DesiredStateError as exc:
        return str(exc)
    return ""
