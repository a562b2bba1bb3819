"""tsvip_get and tsvip_set: WMI Win32_TSVirtualIP in root\\CIMv2\\TerminalServices."""

from __future__ import annotations

from typing import Any

from vipctl import registry_map
from vipctl.sim.model.registry import split_path
from vipctl.sim.twin.context import OpContext, Outcome


def op_tsvip_get(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    tsvip = ctx.host.tsvip
    if not tsvip.available:
        return False, {"available": False, "properties": None}
    return False, {"available": True, "properties": tsvip.properties()}


def op_tsvip_set(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    tsvip = ctx.host.tsvip
    changes = tsvip.plan(args.get("properties"))  # type: ignore[arg-type]
    backup = None
    if changes and ctx.writing:
        # The local store is what the Set* methods write: save it as a .reg file first.
        backup = ctx.backup_registry_key(split_path(registry_map.RDS_LOCAL_KEY))
        tsvip.apply(changes)
    return bool(changes), {"changes": changes, "backup": backup}
