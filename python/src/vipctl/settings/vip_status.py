"""Options of the read-only status module: which Citrix policy to look up on controllers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from vipctl.settings.citrix_virtual_loopback import PolicyLocation, parse_location
from vipctl.settings.fields import as_mapping, reject_unknown_keys

OPTIONS: Final = ("policy_name", "scope", "gpo", "controller")


@dataclass(frozen=True)
class StatusQuery:
    location: PolicyLocation = field(default_factory=PolicyLocation)


def parse_status_query(params: Mapping[str, object]) -> StatusQuery:
    params = as_mapping("vip_status", params)
    reject_unknown_keys("", params, OPTIONS)
    return StatusQuery(location=parse_location(params))
