"""Module task: Microsoft RD IP Virtualization on a session host."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from vipctl import registry_map
from vipctl.host_requests.common import (
    FACTS,
    PREFER,
    RDS_POLICY,
    TSVIP,
    WINSOCK_KEY,
    WRITE_TSVIP,
    WRITE_WINSOCK,
    backup_dir_for,
)
from vipctl.host_requests.rds_ip_virtualization import rds_request
from vipctl.rds_in_effect import effective_rds
from vipctl.settings import parse_rds_ip_virtualization
from vipctl.tasks.common import (
    Runner,
    TaskResult,
    applied_result,
    collect_changes,
    failed_result,
    host_verdict,
    utc_now,
)

MODULE: Final = "rds_ip_virtualization"


def run_rds_ip_virtualization(
    params: Mapping[str, Any], *, check: bool, runner: Runner, now: datetime | None = None
) -> TaskResult:
    """Validate `params` (SettingsError before any host contact), then one request, one runner call."""
    rds = parse_rds_ip_virtualization(params)
    built = rds_request(rds, check=check, backup_dir=backup_dir_for(MODULE, utc_now(now)))
    response = runner(built.request)
    failure = response.first_failure()
    if failure is not None:
        return failed_result(response, failure)
    verdict = host_verdict(response)
    assert verdict is not None  # the support guard passed, so facts were read
    tsvip = response.data(TSVIP)
    before = effective_rds(
        response.data(RDS_POLICY).get("values") or {},
        tsvip.get("properties") if tsvip.get("available") else None,
    )
    warnings = list(verdict.warnings)
    if (
        rds.enabled
        and verdict.needs_winsock_fix
        and rds.winsock_fix == "skip"
        and response.data(WINSOCK_KEY).get("exists")
    ):
        warnings.append(
            "winsock_fix: skip on a build that needs it (KB 4501072): sessions may not get virtual IPs"
        )
    if (
        response.skipped(WRITE_WINSOCK)
        and verdict.needs_winsock_fix
        and response.data(WINSOCK_KEY).get("exists")
    ):
        warnings.append(
            "the Winsock catalog entry 2C69D9F1 does not look like the one KB 4501072 describes "
            "(AppFullPath svchost.exe, PermittedLspCategories 0x40000000): left alone, check it by hand"
        )
    prefer_values = response.data(PREFER).get("values") or {}
    if not rds.enabled and (prefer_values.get(registry_map.PREFER_LOOPBACK.name) or {}).get("value") == 1:
        warnings.append(
            "PreferLoopback is still set: Citrix says to use it only while both features are enabled; "
            "remove it first (citrix_prefer_loopback with enabled: false)"
        )
    if response.skipped(WRITE_TSVIP):
        warnings.append(
            "the WMI settings were not applied: the RD Session Host role is being installed; "
            "restart the host and run this module again"
        )
    if rds.enabled and rds.adapter is None and before["adapter"].value is None:
        warnings.append("no adapter is selected: RD IP Virtualization stays off until adapter is set")
    changes = collect_changes(response, built.writes)
    data = {
        "support": verdict.to_dict(),
        "computer_name": response.data(FACTS).get("computer_name"),
        # What the run leaves in place, so a later check-mode guard can count on it (farm_rollout).
        "state": rds.state,
        "before": {name: value.to_dict() for name, value in before.items()},
    }
    return applied_result(response, changes, check=check, data=data, warnings=warnings)
