"""`vipctl rollback`: restore one backup set the modules made (newest first, or `--set DIR`).

Each module run saves what it changes into its own set folder (`<UTC stamp>-<module>`), so
restoring the newest set undoes the most recent run exactly; run again to step further back.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from vipctl import registry_map
from vipctl.cli import exit_codes
from vipctl.cli.context import Context, Outcome
from vipctl.cli.output import host_problem, host_summary, summary_line, table
from vipctl.cli.targets import Target
from vipctl.executor.codec import build_request
from vipctl.tasks.common import Response, Runner, failure_message

HEADERS = ("HOST", "SET", "RESULT", "FILES")


def restore_op(directory: str, name: str) -> dict[str, Any] | None:
    """The executor op that restores one backup file, by its kind; None for files we did not write."""
    path = f"{directory}\\{name}"
    if name.lower().endswith(".reg"):
        return {"op": "registry_restore", "file": path}
    if name.startswith("citrix_policy_") and name.lower().endswith(".json"):
        return {"op": "citrix_policy_restore", "file": path}
    return None


def choose_set(sets: list[Mapping[str, Any]], wanted: str | None) -> Mapping[str, Any] | None:
    if wanted is None:
        return sets[0] if sets else None
    for entry in sets:
        directory = str(entry["dir"])
        if wanted.lower() in (directory.lower(), directory.rsplit("\\", 1)[-1].lower()):
            return entry
    return None


def _result(msg: str, *, failed: bool = False, changed: bool = False, **data: Any) -> dict[str, Any]:
    return {
        "module": "rollback",
        "changed": changed,
        "failed": failed,
        "msg": msg,
        "data": data,
        "diff": None,
        "reboot_required": False,
        "warnings": [],
        "backups": [],
    }


def rollback_work(check: bool, wanted: str | None) -> Any:
    def work(target: Target, runner: Runner) -> list[dict[str, Any]]:
        del target
        listing = Response(
            runner(
                build_request(
                    [{"op": "backup_list", "id": "list", "root": registry_map.DEFAULT_BACKUP_ROOT}],
                    check=True,
                    backup_dir=None,
                )
            )
        )
        failure = listing.first_failure()
        if failure is not None:
            return [_result(failure_message(listing, failure), failed=True)]
        sets = list(listing.data("list").get("sets") or [])
        chosen = choose_set(sets, wanted)
        if chosen is None:
            if wanted is None:
                return [_result("no backups to restore", sets=[])]
            names = ", ".join(str(s["dir"]) for s in sets) or "none"
            return [_result(f"no backup set {wanted!r} here; sets: {names}", failed=True)]
        directory = str(chosen["dir"])
        ops = [op for op in (restore_op(directory, str(f)) for f in chosen.get("files") or []) if op]
        files = [op["file"] for op in ops]
        if check:
            return [
                _result(f"would restore {len(ops)} file(s)", changed=bool(ops), set=directory, files=files)
            ]
        restored = Response(runner(build_request(ops, check=False, backup_dir=None)))
        failure = restored.first_failure()
        if failure is not None:
            return [_result(failure_message(restored, failure), failed=True, set=directory, files=files)]
        return [_result(f"restored {len(ops)} file(s)", changed=bool(ops), set=directory, files=files)]

    return work


def _row(record: dict[str, Any]) -> list[Any]:
    if not record["results"]:
        return [record["host"], "", "FAILED", host_problem(record)]
    result = record["results"][0]
    state = "FAILED" if result["failed"] else result["msg"]
    return [record["host"], result["data"].get("set", "-"), state, len(result["data"].get("files", []))]


def run(ctx: Context) -> Outcome:
    start = time.monotonic()
    records = ctx.run(rollback_work(ctx.check, ctx.backup_set))
    summary = host_summary(records)
    text = table(HEADERS, [_row(r) for r in records])
    text += "\n\n" + summary_line(
        summary, time.monotonic() - start, "would restore" if ctx.check else "restored"
    )
    document = {"command": "rollback", "check": ctx.check, "summary": summary, "hosts": records}
    drift = ctx.check and summary["changed"] > 0
    return Outcome(document, text, exit_codes.combine(errors=summary["failed"] > 0, drift=drift))
