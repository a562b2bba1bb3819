"""`python -m vipctl.sim serve --farm FILE --https --state-dir DIR --connection winrm|psrp`."""

from __future__ import annotations

import argparse

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
    args = parser.parse_args(argv)
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
