"""tsvip_get, tsvip_set and tsvip_restore: WMI Win32_TSVirtualIP in root\\CIMv2\\TerminalServices."""

from __future__ import annotations

import json
from typing import Any

from vipctl.sim.model.errors import BadArgument, NotFound
from vipctl.sim.model.tsvip import PROPERTIES, TsVip
from vipctl.sim.twin import backup_store
from vipctl.sim.twin.args import require_str
from vipctl.sim.twin.context import OpContext, Outcome
from vipctl.sim.twin.fields import canonical

ADAPTER = "NetworkAdapterMacAddress"
MODE = "VirtualIPMode"


def op_tsvip_get(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    tsvip = ctx.host.tsvip
    if not tsvip.available:
        return False, {"available": False, "properties": None}
    return False, {"available": True, "properties": tsvip.properties()}


def _by_wmi_name(properties: object) -> object:
    # The executor looks each settable name up in an [ordered] table, which ignores case.
    if not isinstance(properties, dict):
        return properties
    return {canonical(name, PROPERTIES): value for name, value in properties.items()}


def op_tsvip_set(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    tsvip = ctx.host.tsvip
    changes = tsvip.plan(_by_wmi_name(args.get("properties")))  # type: ignore[arg-type]
    backup = None
    if changes and ctx.writing:
        # The local store is written only through WMI
        # (docs/windows-facts.md#the-local-store-is-written-only-through-wmi): the backup is the
        # WMI values before, which tsvip_restore puts back through the same Set* methods.
        backup = ctx.backup_tsvip(changes)
        write_changes(tsvip, changes)
    return bool(changes), {"changes": changes, "backup": backup}


def write_changes(tsvip: TsVip, changes: list[dict[str, Any]]) -> None:
    """The executor's Write-TsVipChanges: one WMI method per property; the adapter is selected
    in per-program mode (SelectNetworkAdapter refuses per session) and the wanted mode set after."""
    adapter = next((c for c in changes if c["name"] == ADAPTER), None)
    mode = next((c for c in changes if c["name"] == MODE), None)
    for change in changes:
        if change["name"] not in (ADAPTER, MODE):
            tsvip.invoke_method(change["name"], change["after"])
    current = tsvip.properties()[MODE]
    final = current if mode is None else mode["after"]
    if adapter is not None:
        if current == 0:
            tsvip.invoke_method(MODE, 1)
            current = 1
        tsvip.invoke_method(ADAPTER, adapter["after"])
    if final != current:
        tsvip.invoke_method(MODE, final)


def _no_adapter(value: object) -> bool:
    return value is None or value == ""


def op_tsvip_restore(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    file = require_str(args, "file")
    content = ctx.host.files.read(file)
    if content is None:
        raise NotFound(f"Cannot find path '{file}' because it does not exist.")
    backup_store.verify_backup_file(ctx.host.files, file)
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
        write_changes(tsvip, changes)
    return bool(changes), {"file": file, "changes": changes, "not_restored": not_restored}
