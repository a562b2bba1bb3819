"""restart_state and restart_mark: the twin of executor part 85_restart.ps1.

The marker lives in the host's registry; its time and the boot time come from the host's clock in
.NET's round-trip format ("o"), so they compare as ordinal strings, as the executor compares them
(docs/windows-facts.md#lastbootuptime-is-the-boot-time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vipctl import registry_map
from vipctl.sim.model.errors import BadArgument
from vipctl.sim.model.regvalue import RegValue
from vipctl.sim.twin.args import optional_str_list
from vipctl.sim.twin.context import OpContext, Outcome


def round_trip(moment: datetime) -> str:
    """DateTime.ToUniversalTime().ToString('o'): seven fractional digits and a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _marker(ctx: OpContext) -> dict[str, Any]:
    registry = ctx.host.registry
    key = registry_map.RESTART_MARKER_KEY
    marker: dict[str, Any] = {"exists": registry.exists(key), "set_utc": None, "reasons": []}
    if marker["exists"]:
        set_utc = registry.get_value(key, "SetUtc")
        reasons = registry.get_value(key, "Reasons")
        marker["set_utc"] = None if set_utc is None else str(set_utc.data)
        listed = reasons.data if reasons is not None and isinstance(reasons.data, tuple) else ()
        marker["reasons"] = [str(r) for r in listed]
    return marker


def _since_boot(marker: dict[str, Any], boot: str) -> bool:
    return marker["set_utc"] is not None and str(marker["set_utc"]) > boot


def op_restart_state(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    boot = round_trip(ctx.host.booted_at)
    marker = _marker(ctx)
    return False, {"last_boot_utc": boot, "marker": marker, "pending": _since_boot(marker, boot)}


def op_restart_mark(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    wanted = optional_str_list(args, "reasons")
    if wanted is None:
        raise BadArgument("argument 'reasons' must be a list of strings")
    if not wanted:
        raise BadArgument("argument 'reasons' must list at least one reason")
    boot = round_trip(ctx.host.booted_at)
    marker = _marker(ctx)
    pending = _since_boot(marker, boot)
    reasons = list(marker["reasons"]) if pending else []
    added = [r for r in wanted if r not in reasons]
    reasons += list(dict.fromkeys(added))
    changed = bool(added) or not pending
    now = round_trip(datetime.now(UTC))
    if changed and ctx.writing:
        key = registry_map.RESTART_MARKER_KEY
        ctx.host.registry.ensure_key(key)
        ctx.host.registry.set_value(key, "Reasons", RegValue("REG_MULTI_SZ", tuple(reasons)))
        ctx.host.registry.set_value(key, "SetUtc", RegValue("REG_SZ", now))
    return changed, {"last_boot_utc": boot, "set_utc": now, "reasons": reasons, "pending": True}
