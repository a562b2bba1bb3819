"""The executor of a simulated host, as the front door's shells call it.

The script sent must be the shipped executor, byte for byte (a host runs nothing else); then the
twin runs the request over the host model, one request at a time per host. The model never calls
this: calls run from the front door through the twin into the model, never back.
"""

from __future__ import annotations

from vipctl import executor
from vipctl.sim.errors import ScriptRejected
from vipctl.sim.model.host import SimHost, mangle_reply
from vipctl.sim.twin.dispatch import run_request


def run_executor(
    host: SimHost, script_text: str, request_json: str, delegated: bool = False
) -> tuple[str, int]:
    """Run `script_text` (must be the shipped executor) on `request_json`: (stdout, exit code).

    `delegated` says the connection carries delegated credentials (CredSSP, or a forwarded
    Kerberos ticket), which a domain GPO needs. Raises `ScriptRejected` for any other script."""
    # Compared at call time: the shipped file is the reference, whatever it holds right now.
    if script_text != executor.script_text():
        lines = script_text.strip().splitlines()
        raise ScriptRejected(lines[0] if lines else "")
    with host.lock:
        host.executor_runs += 1
        out, code = run_request(host, request_json, delegated)
        # The ops ran (and wrote) before the reply is spoiled: a client must never resend.
        return mangle_reply(host.reply_fault, out), code


class TwinExecutor:
    """`shell_api.ExecutorBackend` for one host."""

    def __init__(self, host: SimHost) -> None:
        self.host = host

    def run_executor(self, script_text: str, request_json: str, delegated: bool = False) -> tuple[str, int]:
        return run_executor(self.host, script_text, request_json, delegated)
