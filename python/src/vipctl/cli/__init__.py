"""`vipctl`: the command line over the same task logic the Ansible modules use.

Every host command reads an Ansible inventory, checks all input (inventory, connection
settings, desired state) before contacting a host, runs `vipctl.tasks` through one transport per
host, and ends with a summary and a documented exit code (see `exit_codes`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from vipctl.cli import exit_codes
from vipctl.cli.commands import apply, audit, loopback, rollback, script, status, verify
from vipctl.cli.context import Context, Outcome
from vipctl.cli.credentials import Redactor, resolve_credentials
from vipctl.cli.output import json_text
from vipctl.cli.parser import build_parser
from vipctl.cli.targets import build_targets
from vipctl.desired_state import DesiredStateError, load_desired_state
from vipctl.display import terminal_text
from vipctl.inventory_file import InventoryError, load_inventory
from vipctl.loopback import LoopbackError
from vipctl.report import ReportError, write_report
from vipctl.settings import SettingsError
from vipctl.transport import ConnectionSettingsError

COMMANDS: dict[str, Callable[[Context], Outcome]] = {
    "status": status.run,
    "audit": audit.run,
    "apply": apply.run,
    "verify": verify.run,
    "rollback": rollback.run,
}
BAD_INPUT_ERRORS = (
    InventoryError,
    DesiredStateError,
    ConnectionSettingsError,
    SettingsError,
    LoopbackError,
    ReportError,
)


def _context(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, stdin: TextIO) -> Context:
    inventory = load_inventory(args.inventory)
    hosts = inventory.select(args.limit)
    if not hosts:
        raise InventoryError(f"--limit {args.limit!r} selects no host")
    if args.forks < 1:
        raise InventoryError("--forks must be at least 1")
    credentials = resolve_credentials(ask_pass=args.ask_pass, auth=args.auth)
    redactor = Redactor([credentials.password])
    desired = load_desired_state(args.desired) if args.desired else None
    return Context(
        targets=build_targets(inventory, hosts, credentials, redactor),
        desired=desired,
        redactor=redactor,
        forks=args.forks,
        check=getattr(args, "check", False),
        assume_yes=getattr(args, "yes", False),
        backup_set=getattr(args, "backup_set", None),
        since=getattr(args, "since", None),
        limit=args.limit,
        json=args.json,
        out=stdout,
        err=stderr,
        stdin=stdin,
    )


def _dispatch(
    args: argparse.Namespace, stdout: TextIO, stderr: TextIO, stdin: TextIO
) -> tuple[Outcome, Redactor]:
    if args.command == "loopback":
        return loopback.run(args.values), Redactor()
    if args.command == "script":
        desired = load_desired_state(args.desired) if args.desired else None
        params = script.module_params(args.module, desired)
        request = script.build_request_for(args.module, params, check=args.check)
        return Outcome({}, script.render_script(args.module, request), exit_codes.OK), Redactor()
    ctx = _context(args, stdout, stderr, stdin)
    try:
        return COMMANDS[args.command](ctx), ctx.redactor
    finally:
        ctx.close()


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    out, err, inp = stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["sim"]:
        # Delegated whole, so `vipctl sim serve --help` shows the simulator's own options.
        try:
            from vipctl.sim.__main__ import main as sim_main
        except ImportError as exc:
            # The simulator's dependencies are the `sim` extra, not part of every controller.
            err.write(
                f"vipctl: error: the simulator needs its extra dependencies ({exc.name} is missing): "
                "pip install 'vipctl[sim]' (or -r requirements-sim.txt)\n"
            )
            return exit_codes.BAD_INPUT
        return sim_main(arguments[1:])
    try:
        # argparse prints usage errors itself: to this call's stderr, like every other message.
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            args = build_parser().parse_args(arguments)
    except SystemExit as exc:
        # argparse exits 2 on bad usage; our 2 means drift, so bad usage becomes 3.
        return exit_codes.OK if exc.code == 0 else exit_codes.BAD_INPUT
    try:
        outcome, redactor = _dispatch(args, out, err, inp)
    except BAD_INPUT_ERRORS as exc:
        err.write(f"vipctl: error: {terminal_text(str(exc), keep_newlines=False)}\n")
        return exit_codes.BAD_INPUT
    # The output boundary: the one place every document and text is redacted, each once.
    if getattr(args, "report", None):
        try:
            path = write_report(redactor.data(outcome.document), args.report)
        except ReportError as exc:
            err.write(f"vipctl: error: {exc}\n")
            return exit_codes.BAD_INPUT
        err.write(f"report written to {path}\n")
    if getattr(args, "json", False):
        document = {**outcome.document, "exit_code": outcome.exit_code}
        out.write(redactor.json_text(json_text(document)))
    else:
        # Host data (process and product names) may carry terminal escape sequences.
        out.write(terminal_text(redactor.text(outcome.text)) + "\n")
    return outcome.exit_code
