"""The parts of the model's `Farm` / `SimHost` the front door uses (docs/simulator-model-api.md).

Typed structurally so the front door depends on the documented API, not on the model's modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class WinRMEndpointLike(Protocol):
    address: str
    http_port: int
    https_port: int
    username: str
    password: str
    allow_unencrypted: bool
    basic: bool
    ntlm: bool
    kerberos: bool
    credssp: bool
    cbt_hardening_level: str
    spn_host: str


class SimHostLike(Protocol):
    name: str
    groups: list[str]
    winrm: WinRMEndpointLike

    def snapshot(self) -> dict[str, Any]: ...

    def is_up(self) -> bool: ...


class FarmLike(Protocol):
    @property
    def hosts(self) -> Mapping[str, SimHostLike]: ...
