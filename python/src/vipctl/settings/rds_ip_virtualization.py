"""Desired state of Microsoft RD IP Virtualization."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from vipctl.settings.errors import SettingsError
from vipctl.settings.fields import as_mapping, get_bool, get_choice, reject_unknown_keys
from vipctl.settings.names import parse_exe_names
from vipctl.settings.network import parse_adapter_cidr, parse_mac

STATES: Final = ("enabled", "disabled")
MODES: Final = ("per_session", "per_program")
METHODS: Final = ("policy", "wmi")
WINSOCK_FIX_CHOICES: Final = ("auto", "skip")
OPTIONS: Final = (
    "state",
    "mode",
    "programs",
    "adapter",
    "fallback_to_server_ip",
    "virtualize_loopback",
    "method",
    "winsock_fix",
    "install_role",
)


@dataclass(frozen=True)
class RdsIpVirtualization:
    """`adapter` is a CIDR with method `policy` (VIPAdapter) and a MAC with method `wmi`.

    None for `adapter`, `fallback_to_server_ip` and `virtualize_loopback` means "leave as is".
    """

    state: str = "enabled"
    mode: str = "per_session"
    programs: tuple[str, ...] = ()
    adapter: str | None = None
    fallback_to_server_ip: bool | None = None
    virtualize_loopback: bool | None = None
    method: str = "policy"
    winsock_fix: str = "auto"
    install_role: bool = False

    @property
    def enabled(self) -> bool:
        return self.state == "enabled"


def parse_rds_ip_virtualization(params: Mapping[str, object]) -> RdsIpVirtualization:
    params = as_mapping("rds_ip_virtualization", params)
    reject_unknown_keys("", params, OPTIONS)
    state = get_choice("state", params.get("state"), STATES, "enabled")
    mode = get_choice("mode", params.get("mode"), MODES, "per_session")
    method = get_choice("method", params.get("method"), METHODS, "policy")
    programs = parse_exe_names("programs", params.get("programs"))
    if mode == "per_program" and state == "enabled" and not programs:
        raise SettingsError(
            "programs", params.get("programs"), "mode per_program needs at least one exe name"
        )
    if mode == "per_session" and programs:
        raise SettingsError(
            "programs",
            params.get("programs"),
            "programs apply only to mode per_program: set it, or remove programs",
        )
    adapter: str | None = None
    if params.get("adapter") is not None:
        adapter = (
            parse_adapter_cidr("adapter", params["adapter"])
            if method == "policy"
            else parse_mac("adapter", params["adapter"])
        )
    fallback = get_bool("fallback_to_server_ip", params.get("fallback_to_server_ip"), None)
    if fallback is not None and method == "wmi":
        # PromptOnIPLeaseFail exists only as a policy value; WMI has no property for it.
        raise SettingsError(
            "fallback_to_server_ip",
            fallback,
            "only method policy can set it (no WMI property exists); remove it",
        )
    return RdsIpVirtualization(
        state=state,
        mode=mode,
        programs=tuple(programs),
        adapter=adapter,
        fallback_to_server_ip=fallback,
        virtualize_loopback=get_bool("virtualize_loopback", params.get("virtualize_loopback"), None),
        method=method,
        winsock_fix=get_choice("winsock_fix", params.get("winsock_fix"), WINSOCK_FIX_CHOICES, "auto"),
        install_role=get_bool("install_role", params.get("install_role"), False),
    )
