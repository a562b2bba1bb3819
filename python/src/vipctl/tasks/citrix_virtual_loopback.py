"""Module task: the Citrix virtual loopback policy, run on a Delivery Controller."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from vipctl.host_requests.citrix_virtual_loopback import citrix_loopback_request
from vipctl.host_requests.common import CITRIX_POLICY, backup_dir_for
from vipctl.settings import parse_citrix_loopback_policy
from vipctl.tasks.common import (
    Runner,
    TaskResult,
    applied_result,
    collect_changes,
    failed_result,
    utc_now,
)

MODULE: Final = "citrix_virtual_loopback"


def run_citrix_virtual_loopback(
    params: Mapping[str, Any], *, check: bool, runner: Runner, now: datetime | None = None
) -> TaskResult:
    """Validate `params` (SettingsError before any host contact), then one request, one runner call."""
    policy = parse_citrix_loopback_policy(params)
    built = citrix_loopback_request(policy, check=check, backup_dir=backup_dir_for(MODULE, utc_now(now)))
    response = runner(built.request)
    failure = response.first_failure()
    if failure is not None:
        return failed_result(response, failure)
    current = response.data(CITRIX_POLICY)
    data = {
        "policy_name": policy.location.policy_name,
        "scope": policy.location.scope,
        "existed": bool(current.get("exists")),
        "policy_before": current.get("policy"),
        # What the run leaves in place, so a later check-mode guard on the VDAs can count on it.
        "loopback_enabled": policy.state == "present" and policy.enabled,
    }
    return applied_result(response, collect_changes(response, built.writes), check=check, data=data)
