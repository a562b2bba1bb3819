"""`vipctl sim restart|logoff|logon|policy-refresh HOST`: what an admin does to a simulated host.

They act through the admin API of a running `vipctl sim serve`, found through its `sim.json` in the
state directory (default `.vipctl-sim`), so nobody needs to handle the admin token by hand.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Final

from vipctl.sim.admin_client import AdminClient

# CLI word -> admin API action.
ACTIONS: Final = {
    "restart": "reboot",
    "logoff": "logoff",
    "logon": "logon",
    "policy-refresh": "policy_refresh",
}
RESTART_WAIT_S: Final = 30.0


class SimActionError(RuntimeError):
    """The simulator is not running, or the host or action is unknown; the message says which."""


def client_for(state_dir: str | Path) -> AdminClient:
    sim_json = Path(state_dir) / "sim.json"
    if not sim_json.is_file():
        raise SimActionError(
            f"no running simulator: {sim_json} is missing; start one with `vipctl sim serve` "
            "(in another terminal, from the same directory) or pass --state-dir"
        )
    return AdminClient.from_state_dir(state_dir)


def run_action(state_dir: str | Path, word: str, hosts: list[str]) -> list[str]:
    """Run one action on each host, in order; one line per host for the person who asked."""
    admin = client_for(state_dir)
    try:
        known = admin.hosts()
    except OSError as exc:
        raise SimActionError(
            f"the simulator in {state_dir} does not answer ({exc}); is it still running?"
        ) from None
    unknown = [h for h in hosts if h not in known]
    if unknown:
        raise SimActionError(f"unknown host(s) {', '.join(unknown)}; the farm has {', '.join(known)}")
    lines = []
    for host in hosts:
        admin.action(host, ACTIONS[word])
        if word == "restart":
            deadline = time.monotonic() + RESTART_WAIT_S
            while not admin.snapshot(host)["up"] and time.monotonic() < deadline:
                time.sleep(0.05)
        lines.append(f"{host}: {word} done")
    return lines
