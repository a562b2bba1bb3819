"""The per-session addressing settings in force on a host, as the expectation needs them.

Built from what one read-only request returns: `tsvip_get` (WMI Win32_TSVirtualIP), the RD IP
Virtualization policy key, the PreferLoopback key and the Citrix policy a VDA cached. Policy
wins over the WMI (local) value one value at a time
(docs/windows-facts.md#policy-values-win-over-local-values-one-at-a-time).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from vipctl import registry_map as rm
from vipctl.bindings.model import program_key
from vipctl.rds_in_effect import effective_rds


class Feature(StrEnum):
    CITRIX_LOOPBACK = "citrix_loopback"
    RDS_IP = "rds_ip"
    AUTO = "auto"


def _keys(names: Iterable[str]) -> frozenset[str]:
    return frozenset(program_key(name) for name in names if name.strip())


@dataclass(frozen=True)
class EffectiveSettings:
    citrix_loopback_enabled: bool = False
    citrix_loopback_programs: frozenset[str] = frozenset()
    rds_ip_active: bool = False
    rds_ip_per_program: bool = True  # VirtualMode 1 (the default); False = per session
    rds_ip_programs: frozenset[str] = frozenset()
    ms_loopback_virtualization: bool = False
    prefer_loopback: bool = False
    prefer_loopback_processes: frozenset[str] = frozenset()
    prompt_on_ip_lease_fail: bool = False

    @classmethod
    def create(
        cls,
        *,
        citrix_loopback_enabled: bool = False,
        citrix_loopback_programs: Iterable[str] = (),
        rds_ip_active: bool = False,
        rds_ip_per_program: bool = True,
        rds_ip_programs: Iterable[str] = (),
        ms_loopback_virtualization: bool = False,
        prefer_loopback: bool = False,
        prefer_loopback_processes: Iterable[str] = (),
        prompt_on_ip_lease_fail: bool = False,
    ) -> EffectiveSettings:
        """Settings with program names normalised to `program_key` (so `CRM.EXE` matches `crm`)."""
        return cls(
            citrix_loopback_enabled=citrix_loopback_enabled,
            citrix_loopback_programs=_keys(citrix_loopback_programs),
            rds_ip_active=rds_ip_active,
            rds_ip_per_program=rds_ip_per_program,
            rds_ip_programs=_keys(rds_ip_programs),
            ms_loopback_virtualization=ms_loopback_virtualization,
            prefer_loopback=prefer_loopback,
            prefer_loopback_processes=_keys(prefer_loopback_processes),
            prompt_on_ip_lease_fail=prompt_on_ip_lease_fail,
        )

    def citrix_applies(self, program: str) -> bool:
        return self.citrix_loopback_enabled and program_key(program) in self.citrix_loopback_programs

    def rds_applies(self, program: str) -> bool:
        if not self.rds_ip_active:
            return False
        return not self.rds_ip_per_program or program_key(program) in self.rds_ip_programs

    def loopback_preferred(self, program: str) -> bool:
        return self.prefer_loopback and program_key(program) in self.prefer_loopback_processes

    def asserting(self, feature: Feature, programs: Iterable[str]) -> EffectiveSettings:
        """These settings with `programs` put under `feature`, as a verification claims they are.

        `vip_bindings` with `expect` checks that a rollout took effect: the programs are expected
        to behave as if listed, whatever the host's cached policy says (the Citrix value names on
        a VDA are UNCONFIRMED, docs/windows-facts.md#what-a-vda-caches-from-citrix-policy, so
        behaviour is the dependable check).
        """
        keys = _keys(programs)
        if feature is Feature.CITRIX_LOOPBACK:
            return replace(
                self,
                citrix_loopback_enabled=True,
                citrix_loopback_programs=self.citrix_loopback_programs | keys,
            )
        if feature is Feature.RDS_IP:
            if self.rds_ip_active and not self.rds_ip_per_program:
                return self  # per-session mode already covers every program
            return replace(
                self, rds_ip_active=True, rds_ip_per_program=True, rds_ip_programs=self.rds_ip_programs | keys
            )
        return self


def _typed(values: Mapping[str, object], name: str) -> object:
    entry = values.get(name)
    return entry.get("value") if isinstance(entry, Mapping) else None


def _flag(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value == 1


def _names(value: object) -> list[str]:
    if isinstance(value, str):  # PowerShell 5.1 unwraps a one-element array
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _values(key_data: Mapping[str, object] | None) -> Mapping[str, object]:
    if not key_data or not key_data.get("exists"):
        return {}
    values = key_data.get("values")
    return values if isinstance(values, Mapping) else {}


def effective_settings(
    *,
    tsvip: Mapping[str, object] | None,
    rds_policy_key: Mapping[str, object] | None = None,
    prefer_loopback_key: Mapping[str, object] | None = None,
    citrix_applied_key: Mapping[str, object] | None = None,
) -> EffectiveSettings:
    """Settings from the `data` of `tsvip_get` and of `registry_get` on the keys in registry_map.

    RD IP Virtualization goes through `vipctl.rds_in_effect.effective_rds`, the one place that knows
    the policy-over-local precedence, so status and this verification never disagree.
    """
    props = tsvip.get("properties") if tsvip and tsvip.get("available") else None
    rds = effective_rds(_values(rds_policy_key), props if isinstance(props, Mapping) else None)
    prefer = _values(prefer_loopback_key)
    citrix = _values(citrix_applied_key)
    return EffectiveSettings.create(
        citrix_loopback_enabled=_flag(_typed(citrix, rm.CITRIX_APPLIED_LOOPBACK_SUPPORT.name)),
        citrix_loopback_programs=_names(_typed(citrix, rm.CITRIX_APPLIED_LOOPBACK_PROGRAMS.name)),
        rds_ip_active=bool(rds["enabled"].value),
        rds_ip_per_program=rds["mode"].value != "per_session",
        rds_ip_programs=_names(rds["programs"].value),
        ms_loopback_virtualization=bool(rds["virtualize_loopback"].value),
        prefer_loopback=_flag(_typed(prefer, rm.PREFER_LOOPBACK.name)),
        prefer_loopback_processes=_names(_typed(prefer, rm.PREFER_LOOPBACK_PROCESSES.name)),
        prompt_on_ip_lease_fail=not rds["fallback_to_server_ip"].value,
    )
