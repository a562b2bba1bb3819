"""The argument parser: one subcommand per job, shared options on each host command."""

from __future__ import annotations

import argparse

from vipctl.cli import exit_codes
from vipctl.cli.commands.script import MODULES
from vipctl.cli.credentials import AUTH_CHOICES

HOST_COMMANDS = {
    "status": "read each host's settings and findings (vip_status)",
    "audit": "who binds 0.0.0.0 / 127.0.0.1 / the server IP per host, and the farm-wide clash analysis",
    "apply": "plan, show the diff, ask, then write the desired state (--check: plan only)",
    "verify": "prove each session's programs bind their own address (vipctl_verify)",
    "rollback": "restore the newest backup set the modules made (or --set DIR, or all --since TIME)",
}


def _host_options(command: argparse.ArgumentParser, name: str) -> None:
    command.add_argument("-i", "--inventory", required=True, help="Ansible inventory (YAML or INI)")
    command.add_argument("-l", "--limit", help="hosts or groups: 'rdsh', 'vda01,vda02', 'citrix_vdas:!vda03'")
    command.add_argument(
        "--forks",
        type=int,
        default=20,
        help="hosts worked on at once, in total (default 20; many hosts: over worker processes)",
    )
    command.add_argument("--ask-pass", action="store_true", help="prompt for the WinRM password")
    command.add_argument(
        "--auth",
        choices=AUTH_CHOICES,
        help="authentication for every host, overriding ansible_winrm_transport / ansible_psrp_auth"
        " (kerberos and negotiate use the ticket from kinit; negotiate needs the psrp connection)",
    )
    command.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    command.add_argument("--report", metavar="FILE", help="also write a report: FILE.html or FILE.md")
    command.add_argument(
        "-d", "--desired", metavar="FILE", help="desired state (YAML with the roles' vipctl_* variables)"
    )
    if name in ("apply", "rollback"):
        command.add_argument("--check", action="store_true", help="show what would change; change nothing")
    if name == "apply":
        command.add_argument("-y", "--yes", action="store_true", help="apply without asking")
    if name == "rollback":
        command.add_argument(
            "--set", dest="backup_set", metavar="DIR", help="backup set folder (name or path)"
        )
        command.add_argument(
            "--since",
            metavar="TIME",
            help="restore every set made since this ISO time (no zone = UTC), newest first",
        )
        command.add_argument("-y", "--yes", action="store_true", help="accepted for symmetry with apply")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vipctl",
        description="Configure and verify per-session addressing on Windows RDSH / Citrix farms.",
        epilog=exit_codes.HELP + ". Credentials: the inventory, overridden by VIPCTL_USER / VIPCTL_PASSWORD,"
        " overridden by --ask-pass.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in HOST_COMMANDS.items():
        _host_options(commands.add_parser(name, help=help_text, description=help_text), name)
    script = commands.add_parser("script", help="print a standalone PowerShell script for one module")
    script.add_argument("module", choices=MODULES)
    script.add_argument("-d", "--desired", metavar="FILE", help="desired state (YAML)")
    script.add_argument("--check", action="store_true", help="the script reports changes but writes nothing")
    loopback = commands.add_parser("loopback", help="session ID <-> loopback address")
    loopback.add_argument("values", nargs="+", metavar="SESSION_ID|ADDRESS")
    loopback.add_argument("--json", action="store_true")
    sim = commands.add_parser("sim", help="the Windows farm simulator (vipctl sim serve ...)", add_help=False)
    sim.add_argument("sim_args", nargs=argparse.REMAINDER)
    return parser
