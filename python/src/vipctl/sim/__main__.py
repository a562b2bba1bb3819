"""`vipctl sim serve --farm FILE --https --state-dir DIR --connection winrm|psrp`, and the admin's
actions on a running farm: `vipctl sim restart|logoff|logon|policy-refresh HOST...`."""

from __future__ import annotations

import argparse
import sys

from vipctl.sim.actions import ACTIONS, SimActionError, run_action
from vipctl.sim.serve import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vipctl.sim", description="Windows farm simulator")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve a farm on loopback until SIGTERM / SIGINT")
    run.add_argument("--farm", default=None, help="farm file (YAML); default: the embedded farm")
    run.add_argument("--https", action="store_true", help="also listen on HTTPS with a generated CA")
    run.add_argument("--state-dir", default=".vipctl-sim", help="where inventory.yml, sim.json, CA go")
    run.add_argument("--connection", choices=("winrm", "psrp"), default="winrm")
    run.add_argument("--admin-port", type=int, default=0, help="admin API port (default: any free one)")
    for word, what in (
        ("restart", "restart hosts (sessions end; users log on again with `logon`)"),
        ("logoff", "log every user session off"),
        ("logon", "log the users who were logged off on again, in new sessions"),
        ("policy-refresh", "a VDA fetches its controller's Citrix policy (gpupdate)"),
    ):
        action = commands.add_parser(word, help=what)
        action.add_argument("hosts", nargs="+", metavar="HOST")
        action.add_argument("--state-dir", default=".vipctl-sim", help="the running simulator's state dir")
    args = parser.parse_args(argv)
    if args.command in ACTIONS:
        try:
            print("\n".join(run_action(args.state_dir, args.command, args.hosts)))
        except SimActionError as exc:
            print(f"vipctl sim: error: {exc}", file=sys.stderr)
            return 3
        return 0
    serve(
        args.farm,
        https=args.https,
        state_dir=args.state_dir,
        connection=args.connection,
        admin_port=args.admin_port,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
