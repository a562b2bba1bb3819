"""`vipctl script MODULE`: a standalone PowerShell script for admins who run it by hand.

The output is the shipped executor, byte for byte, inside a script block, then one call with the
request as base64 data: user values never become PowerShell code. The request is exactly what the
module task builds (captured from the task itself, not rebuilt here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from vipctl.desired_state import DesiredState, DesiredStateError
from vipctl.executor import bootstrap, script_sha256, script_text
from vipctl.executor.codec import Response
from vipctl.tasks import TASKS

# The modules that make one request from their settings; vip_rollback first lists what is there.
MODULES: Final = tuple(name for name in TASKS if name != "vip_rollback")


class _Captured(Exception):
    def __init__(self, request: dict[str, Any]) -> None:
        super().__init__("request captured")
        self.request = request


def _capture(request: dict[str, Any]) -> Response:
    raise _Captured(request)


def module_params(module: str, desired: DesiredState | None) -> dict[str, Any]:
    chosen = {
        "rds_ip_virtualization": desired.rds_ip_virtualization if desired else None,
        "citrix_virtual_loopback": desired.citrix_virtual_loopback if desired else None,
        "citrix_prefer_loopback": desired.prefer_loopback if desired else None,
        "vip_bindings": (desired.verify_params() if desired else None) or {},
        "vip_status": {},
    }[module]
    if chosen is None:
        raise DesiredStateError(
            f"script {module} needs its settings in the desired-state file (--desired FILE)"
        )
    return chosen


def build_request_for(module: str, params: Mapping[str, Any], *, check: bool) -> dict[str, Any]:
    """Run the module's task up to its one host call and keep the request it sends."""
    try:
        TASKS[module](params, check=check, runner=_capture)
    except _Captured as captured:
        return captured.request
    raise RuntimeError(f"{module} finished without sending a request")


def render_script(module: str, request: dict[str, Any]) -> str:
    encoded = bootstrap.request_base64(request)
    mode = "check mode (changes nothing)" if request.get("check") else "writes (backs up first)"
    return (
        f"# vipctl {module}: {mode}. Run as administrator in Windows PowerShell 5.1, e.g.\n"
        "#   powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\vipctl-task.ps1\n"
        "#   Invoke-Command -ComputerName HOST -FilePath .\\vipctl-task.ps1\n"
        f"# The block below is the vipctl executor (sha256 {script_sha256()}); the request is data.\n"
        "$vipctlExecutor = {\n"
        f"{script_text().rstrip(chr(10))}\n"
        "}\n"
        # Splatting keeps the parameter name out of the command text (see bootstrap.py).
        f"$vipctlArguments = @{{ RequestBase64 = '{encoded}' }}\n"
        "& $vipctlExecutor @vipctlArguments\n"
    )
