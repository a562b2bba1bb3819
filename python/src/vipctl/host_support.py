"""Classify a Windows host into a support verdict.

Facts: docs/windows-facts.md#supported-operating-systems and
docs/windows-facts.md#identifying-the-operating-system.

The input is the `data` of the executor's `host_facts` op. The same rule is also expressed as
executor `require` conditions (`support_conditions`), so a host refuses writes on an unsupported
OS inside the single request that also reads the facts.

Assumptions (UNCONFIRMED, kept in `SERVER_BUILDS` only):
- Server 2025 (build 26100) is treated as supported with a warning; no primary source confirms
  the Citrix virtual IP/loopback features on it. Whether it needs the Winsock fix of KB 4501072
  is also unknown: vipctl applies that fix only on the builds the KB names (2019, 2022).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

# EditionID and SKU of Windows 10/11 Enterprise multi-session (GetProductInfo:
# PRODUCT_SERVERRDSH = 0xAF). It reports ProductType 3 like a server, so it is checked first.
MULTI_SESSION_EDITION_ID: Final = "ServerRdsh"
MULTI_SESSION_SKU: Final = 175
# Windows 11 builds start at 22000; multi-session builds below are Windows 10.
FIRST_WINDOWS_11_BUILD: Final = 22000

PRODUCT_TYPE_WORKSTATION: Final = 1
PRODUCT_TYPE_DOMAIN_CONTROLLER: Final = 2
PRODUCT_TYPE_SERVER: Final = 3


@dataclass(frozen=True)
class ServerBuild:
    kind: str
    name: str
    needs_winsock_fix: bool
    warning: str | None = None


# The only place server builds are listed. Supported = listed here.
SERVER_BUILDS: Final[Mapping[int, ServerBuild]] = {
    14393: ServerBuild("server_2016", "Windows Server 2016", needs_winsock_fix=False),
    17763: ServerBuild("server_2019", "Windows Server 2019", needs_winsock_fix=True),
    20348: ServerBuild("server_2022", "Windows Server 2022", needs_winsock_fix=True),
    26100: ServerBuild(
        "server_2025",
        "Windows Server 2025",
        needs_winsock_fix=False,
        warning=(
            "Windows Server 2025 support is UNCONFIRMED: Citrix documents Server 2016 and later, "
            "no source confirms 2025; vipctl treats it like 2022 but does not apply the Winsock fix "
            "(KB 4501072 names only 2019 and 2022). Verify bindings with vip_bindings."
        ),
    ),
}
FIRST_SUPPORTED_SERVER_BUILD: Final = min(SERVER_BUILDS)
WINSOCK_FIX_BUILDS: Final = tuple(sorted(b for b, info in SERVER_BUILDS.items() if info.needs_winsock_fix))


@dataclass(frozen=True)
class HostVerdict:
    kind: str
    supported: bool
    reason: str
    needs_winsock_fix: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "supported": self.supported,
            "reason": self.reason,
            "needs_winsock_fix": self.needs_winsock_fix,
            "warnings": list(self.warnings),
        }


def _int_or_none(value: object) -> int | None:
    # Strict on purpose: the host compares with JSON equality, so "3" must not pass here either.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _build_number(facts: Mapping[str, Any]) -> int | None:
    return _int_or_none(facts.get("build_number"))


def _describe(facts: Mapping[str, Any]) -> str:
    name = facts.get("product_name") or "unknown product"
    return f"{name} (build {_build_number(facts)})"


def classify(facts: Mapping[str, Any]) -> HostVerdict:
    """Classify `host_facts` data: multi-session first, then client, DC, then server by build."""
    build = _build_number(facts)
    if (
        facts.get("edition_id") == MULTI_SESSION_EDITION_ID
        or _int_or_none(facts.get("sku")) == MULTI_SESSION_SKU
    ):
        is_win11 = build is not None and build >= FIRST_WINDOWS_11_BUILD
        version = "11" if is_win11 else "10"
        return HostVerdict(
            kind=f"windows{version}_multisession",
            supported=False,
            reason=(
                f"{_describe(facts)} is Windows {version} Enterprise multi-session; Citrix virtual IP and "
                "virtual loopback support only Windows Server 2016 and later server OS"
            ),
        )
    product_type = _int_or_none(facts.get("product_type"))
    if product_type == PRODUCT_TYPE_WORKSTATION:
        return HostVerdict(
            kind="client",
            supported=False,
            reason=f"{_describe(facts)} is a desktop (client) OS; supported: Windows Server 2016 or later",
        )
    if product_type == PRODUCT_TYPE_DOMAIN_CONTROLLER:
        return HostVerdict(
            kind="domain_controller",
            supported=False,
            reason=(
                f"{_describe(facts)} is a domain controller; vipctl manages RD Session Hosts, "
                "which should not run on a domain controller"
            ),
        )
    if product_type != PRODUCT_TYPE_SERVER:
        return HostVerdict(
            kind="unknown",
            supported=False,
            reason=f"{_describe(facts)} has ProductType {facts.get('product_type')!r}; expected 3 (server)",
        )
    if build is None:
        return HostVerdict(kind="unknown", supported=False, reason="host facts carry no build number")
    known = SERVER_BUILDS.get(build)
    if known is not None:
        return HostVerdict(
            kind=known.kind,
            supported=True,
            reason=f"{known.name} (build {build}) is supported",
            needs_winsock_fix=known.needs_winsock_fix,
            warnings=(known.warning,) if known.warning else (),
        )
    listed = ", ".join(f"{b} ({info.name})" for b, info in SERVER_BUILDS.items())
    if build < FIRST_SUPPORTED_SERVER_BUILD:
        return HostVerdict(
            kind="server_legacy",
            supported=False,
            reason=f"{_describe(facts)} is older than Windows Server 2016, the first supported release",
        )
    newer = "newer than any known" if build > max(SERVER_BUILDS) else "not a known"
    return HostVerdict(
        kind="server_unknown",
        supported=False,
        reason=f"{_describe(facts)} is {newer} server build; supported builds are {listed}",
    )


def support_conditions(facts_op_id: str) -> list[dict[str, Any]]:
    """Executor `require` conditions that hold exactly when `classify` says supported.

    They reference the `host_facts` op with id `facts_op_id` and compare raw fields only, so the
    host can refuse writes without a round trip back to the controller.
    """

    def on(key: str, test: str, values: list[Any]) -> dict[str, Any]:
        return {"ref": facts_op_id, "path": ["data", key], test: values}

    return [
        on("edition_id", "not_in", [MULTI_SESSION_EDITION_ID]),
        on("sku", "not_in", [MULTI_SESSION_SKU]),
        on("product_type", "in", [PRODUCT_TYPE_SERVER]),
        on("build_number", "in", sorted(SERVER_BUILDS)),
    ]


def winsock_fix_conditions(facts_op_id: str) -> list[dict[str, Any]]:
    """Executor `when` conditions: the host is a build that needs the KB 4501072 Winsock fix."""
    return [{"ref": facts_op_id, "path": ["data", "build_number"], "in": list(WINSOCK_FIX_BUILDS)}]
