"""registry_get, registry_set, registry_rename_key, registry_restore, backup_list."""

from __future__ import annotations

import ntpath
from typing import Any

from vipctl.sim.model.errors import BackupTampered, BadArgument, Conflict, NotFound
from vipctl.sim.model.regfile import decode_reg_file, import_text
from vipctl.sim.model.registry import display_path, split_path
from vipctl.sim.model.regvalue import RegValue
from vipctl.sim.twin import backup_store
from vipctl.sim.twin.args import optional_str_list, registry_path, require_str
from vipctl.sim.twin.context import OpContext, Outcome
from vipctl.sim.twin.fields import folded


def op_registry_get(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    parts = registry_path(args)
    names = optional_str_list(args, "names")
    key = ctx.host.registry.find(parts)
    data: dict[str, Any] = {
        "path": display_path(parts),
        "exists": key is not None,
        "values": {},
        "subkeys": [],
    }
    if key is None:
        return False, data
    if names is None:
        data["values"] = {name: value.to_json() for name, value in key.value_items()}
    else:
        # Asked-for names come back as asked (value names are case-insensitive), in the order asked.
        found = {name: key.values[name.lower()][1] for name in names if name.lower() in key.values}
        data["values"] = {name: value.to_json() for name, value in found.items()}
    data["subkeys"] = [sub.name for sub in key.sorted_subkeys()]
    return False, data


def _parse_values(raw: object) -> list[tuple[str, RegValue | None]]:
    if not isinstance(raw, list):
        raise BadArgument("'values' must be a list of {name, state, type, value}")
    out: list[tuple[str, RegValue | None]] = []
    for i, item in enumerate(raw):
        item = folded(item) if isinstance(item, dict) else item
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise BadArgument(
                f"values[{i}]: 'name' is required and must be a string ('' is the default value)"
            )
        state = item.get("state", "present")
        if state == "absent":
            out.append((item["name"], None))
        elif state == "present":
            out.append((item["name"], RegValue.from_json(item.get("type"), item.get("value"))))
        else:
            raise BadArgument(f"values[{i}]: state must be 'present' or 'absent', got {state!r}")
    return out


def op_registry_set(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    parts = registry_path(args)
    wanted = _parse_values(args.get("values"))
    registry = ctx.host.registry
    registry.check_access(parts)
    pending: dict[str, RegValue | None] = {}
    changes: list[dict[str, Any]] = []
    for name, after in wanted:
        before = pending[name.lower()] if name.lower() in pending else registry.get_value(parts, name)
        pending[name.lower()] = after
        if before != after:
            changes.append(
                {
                    "name": name,
                    "before": None if before is None else before.to_json(),
                    "after": None if after is None else after.to_json(),
                }
            )
    backup = None
    if changes and ctx.writing:
        backup = ctx.backup_registry_key(parts)
        for name, after in wanted:
            if after is None:
                registry.delete_value(parts, name)
            else:
                registry.set_value(parts, name, after)
    return bool(changes), {"path": display_path(parts), "changes": changes, "backup": backup}


def op_registry_rename_key(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    parts = registry_path(args)
    new_name = require_str(args, "new_name")
    if "\\" in new_name:
        raise BadArgument("'new_name' must be a leaf key name, without '\\'")
    if len(parts) < 2:
        raise BadArgument(f"cannot rename a top-level key: {display_path(parts)}")
    target = [*parts[:-1], new_name]
    registry = ctx.host.registry
    data = {"path": display_path(parts), "new_path": display_path(target)}
    source_exists, target_exists = registry.exists(parts), registry.exists(target)
    if not source_exists and target_exists:
        return False, {**data, "state": "already"}
    if not source_exists:
        raise NotFound(f"Cannot find path '{display_path(parts)}' because it does not exist.")
    if target_exists:
        raise Conflict(f"A key at this path already exists: {display_path(target)}")
    if ctx.writing:
        # Both ends are saved: restoring the two files undoes the rename exactly.
        ctx.backup_registry_key(parts)
        ctx.backup_registry_key(target)
        registry.rename_key(parts, new_name)
    return True, {**data, "state": "renamed"}


def op_registry_restore(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    file = require_str(args, "file")
    managed = backup_store.parse_managed_keys(args.get("managed_keys"))
    content = ctx.host.files.read(file)
    if content is None:
        raise NotFound(f"Cannot find path '{file}' because it does not exist.")
    backup_store.verify_backup_file(ctx.host.files, file)
    text = decode_reg_file(content)
    # reg import applies every section, whatever key it names: each one is checked first.
    problem = backup_store.reg_file_problem(text, managed)
    if problem is not None:
        raise BackupTampered(f"refusing to restore {file}: {problem}")
    scratch = ctx.host.registry.copy()
    sections = import_text(scratch, text)  # also validates the file before the real hive is touched
    if not sections:
        raise BadArgument(f"{file} holds no registry key")
    key = display_path(split_path(sections[0]))
    if ctx.writing:
        # Exact restore: an import only adds, so the key's tree goes first.
        ctx.host.registry.delete_key(key)
        import_text(ctx.host.registry, text)
    # Always reported as a change: the executor imports without comparing first.
    return True, {"file": file, "key": key}


def op_backup_list(ctx: OpContext, args: dict[str, Any]) -> Outcome:
    root = require_str(args, "root")
    if ctx.host.files.is_dir(root):
        # Files below a root others can write may be planted: nothing there is listed as a set.
        backup_store.assert_root_secure(ctx.host.files, root)
    children = ctx.host.files.children(root)
    # Backup folders are named by UTC time stamp, so name order is age order.
    # Only the folders' own files, by name, as Directory.GetFiles lists them.
    ordered = sorted(children.items(), key=lambda kv: kv[0].lower(), reverse=True)
    sets = [
        backup_store.set_listing(
            ctx.host.files,
            d,
            sorted((ntpath.basename(f) for f in files if ntpath.dirname(f) == d), key=str.lower),
        )
        for d, files in ordered
    ]
    return False, {"sets": sets}
