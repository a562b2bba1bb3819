"""Module task: Citrix preferred loopback (PreferLoopback registry values) on a VDA."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from vipctl.changes import FEATURE_LOOPBACK, FEATURE_RDS
from vipctl.citrix_in_effect import LOOPBACK_UNCONFIRMED_WARNING, observed_loopback_applied
from vipctl.host_requests.citrix_prefer_loopback import prefer_loopback_request
from vipctl.host_requests.common import CITRIX_APPLIED, backup_dir_for
from vipctl.settings import SettingsError, parse_prefer_loopback
from vipctl.tasks.common import (
    Runner,
    TaskResult,
    applied_result,
    collect_changes,
    failed_result,
    host_verdict,
    utc_now,
)

MODULE: Final = "citrix_prefer_loopback"
# A run parameter, not desired state: which features earlier tasks of the same check-mode run enable.
ASSUME_ENABLED: Final = "assume_enabled"
ASSUMABLE: Final = {FEATURE_RDS: "RD IP Virtualization", FEATURE_LOOPBACK: "Citrix virtual loopback"}


def parse_assume_enabled(value: object) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or any(item not in ASSUMABLE for item in value):
        raise SettingsError(ASSUME_ENABLED, value, f"give a list of {', '.join(ASSUMABLE)}")
    return frozenset(value)


def run_citrix_prefer_loopback(
    params: Mapping[str, Any], *, check: bool, runner: Runner, now: datetime | None = None
) -> TaskResult:
    """Validate `params` (SettingsError before any host contact), then one request, one runner call.

    The host refuses (`require`) unless RD IP Virtualization is on and virtual loopback is not
    off; `force: true` skips those guards.
    """
    assumed = parse_assume_enabled(params.get(ASSUME_ENABLED))
    prefer = parse_prefer_loopback({k: v for k, v in params.items() if k != ASSUME_ENABLED})
    # Outside check mode the earlier tasks have really run: the host's own state is the truth.
    assumed = assumed if check and prefer.enabled and not prefer.force else frozenset()
    built = prefer_loopback_request(
        prefer, check=check, backup_dir=backup_dir_for(MODULE, utc_now(now)), assume_enabled=assumed
    )
    response = runner(built.request)
    failure = response.first_failure()
    if failure is not None:
        return failed_result(response, failure)
    verdict = host_verdict(response)
    assert verdict is not None  # the support guard passed, so facts were read
    warnings = list(verdict.warnings)
    loopback = observed_loopback_applied(response.data(CITRIX_APPLIED).get("values") or {})
    for feature in sorted(assumed):
        warnings.append(
            f"check mode: {ASSUMABLE[feature]} counted as enabled because an earlier task of this run "
            "enables it; the guard is checked when applied"
        )
    if prefer.enabled and not prefer.force and loopback is None and FEATURE_LOOPBACK not in assumed:
        warnings.append(LOOPBACK_UNCONFIRMED_WARNING)
    if prefer.enabled and prefer.force:
        warnings.append("force: true skipped the check that both features are enabled")
    changes = collect_changes(response, built.writes)
    return applied_result(
        response, changes, check=check, data={"support": verdict.to_dict()}, warnings=warnings
    )
