"""tsvip_get, tsvip_set and tsvip_restore: WMI Win32_TSVirtualIP in root\\CIMv2\\TerminalServices."""

from __future__ import annotations

import json
from typing import Any

from vipctl.sim.model.errors import BadArgument, NotFound
from vipctl.sim.twin.args import require_str
from vipctl.sim.twin.context import OpContext, Outcome

ADAPTER = "NetworkAdapterMacAddress"


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
        # The local store is written only through WMI
        # (docs/windows-facts.md#the-local-store-is-written-only-through-wmi): the backup is the
        # WMI values before, which tsvip_restore puts back through the same Set* methods.
        backup = ctx.backup_tsvip(changes)
        tsvip.apply(changes)
    return bool(changes), {"changes": changes, "backup": backup}


def _no_adapter(value: object) -> bool:
    return value is None or value == ""


def op_tsvip_restore(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    file = require_str(args, "file")
    content = ctx.host.files.read(file)
    if content is None:
        raise NotFound(f"Cannot find path '{file}' because it does not exist.")
    try:
        saved = json.loads(content.decode("utf-8-sig"))
    except ValueError as exc:
        raise BadArgument(f"not a vipctl tsvip backup (not JSON): {file}") from exc
    properties = saved.get("properties") if isinstance(saved, dict) else None
    if not isinstance(properties, dict):
        raise BadArgument(f"not a vipctl tsvip backup (no 'properties' object): {file}")
    tsvip = ctx.host.tsvip
    wanted = dict(properties)
    not_restored: list[str] = []
    if ADAPTER in wanted and _no_adapter(wanted[ADAPTER]):
        # SelectNetworkAdapter selects an adapter; WMI has no method that selects none again.
        del wanted[ADAPTER]
        if tsvip.available and not _no_adapter(tsvip.properties()[ADAPTER]):
            not_restored.append(ADAPTER)
    changes = tsvip.plan(wanted)
    if changes and ctx.writing:
        tsvip.apply(changes)
    return bool(changes), {"file": file, "changes": changes, "not_restored": not_restored}
