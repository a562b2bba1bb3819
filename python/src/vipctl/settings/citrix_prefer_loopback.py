"""Desired state of Citrix preferred loopback (PreferLoopback registry values)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from vipctl.settings.errors import SettingsError
from vipctl.settings.fields import as_mapping, get_bool, reject_unknown_keys
from vipctl.settings.names import parse_exe_names

OPTIONS: Final = ("enabled", "processes", "force")


@dataclass(frozen=True)
class PreferLoopback:
    """`force` skips the guard that both RD IP Virtualization and virtual loopback are enabled."""

    enabled: bool = True
    processes: tuple[str, ...] = ()
    force: bool = False


def parse_prefer_loopback(params: Mapping[str, object]) -> PreferLoopback:
    params = as_mapping("citrix_prefer_loopback", params)
    reject_unknown_keys("", params, OPTIONS)
    enabled = get_bool("enabled", params.get("enabled"), True)
    processes = parse_exe_names("processes", params.get("processes"))
    if enabled and not processes:
        raise SettingsError(
            "processes",
            params.get("processes"),
            "PreferLoopback acts only on listed processes: list at least one exe",
        )
    return PreferLoopback(
        enabled=enabled, processes=tuple(processes), force=get_bool("force", params.get("force"), False)
    )
