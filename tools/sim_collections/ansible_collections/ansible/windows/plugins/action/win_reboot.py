# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""win_reboot for the simulated farm: a restart through the simulator's admin API (see README.md)."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Any
from urllib.parse import quote

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):  # type: ignore[misc]
    TRANSFERS_FILES = False
    _requires_connection = False

    def _admin(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            os.environ["VIPCTL_SIM_ADMIN_URL"].rstrip("/") + path,
            data=b"{}" if method == "POST" else None,
            method=method,
            headers={
                "Authorization": f"Bearer {os.environ['VIPCTL_SIM_ADMIN_TOKEN']}",
                "Content-Type": "application/json",
            },
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as reply:
            return json.loads(reply.read())

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        host = quote(str((task_vars or {}).get("inventory_hostname")))
        timeout = float(self._task.args.get("reboot_timeout", 600))
        start = time.monotonic()
        self._admin("POST", f"/hosts/{host}/actions/reboot")
        while not self._admin("GET", f"/hosts/{host}")["up"]:
            if time.monotonic() - start > timeout:
                result.update(failed=True, msg=f"the host did not come back within {timeout:.0f} s")
                return result
            time.sleep(0.1)
        result.update(changed=True, rebooted=True, elapsed=round(time.monotonic() - start, 1))
        return result
