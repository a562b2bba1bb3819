"""One entry point per module, called by the Ansible action plugins and the CLI.

`TASKS` is the one table from module name to its task: `vipctl.action_plugin.action` looks the
module up here, and so does the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from vipctl.tasks.citrix_prefer_loopback import run_citrix_prefer_loopback
from vipctl.tasks.citrix_virtual_loopback import run_citrix_virtual_loopback
from vipctl.tasks.common import TaskResult
from vipctl.tasks.rds_ip_virtualization import run_rds_ip_virtualization
from vipctl.tasks.vip_bindings import run_vip_bindings
from vipctl.tasks.vip_rollback import run_vip_rollback
from vipctl.tasks.vip_status import run_vip_status

# Called as task(params, check=..., runner=...[, now=...]).
TaskFunction = Callable[..., TaskResult]

TASKS: Final[dict[str, TaskFunction]] = {
    "vip_status": run_vip_status,
    "vip_bindings": run_vip_bindings,
    "rds_ip_virtualization": run_rds_ip_virtualization,
    "citrix_virtual_loopback": run_citrix_virtual_loopback,
    "citrix_prefer_loopback": run_citrix_prefer_loopback,
    "vip_rollback": run_vip_rollback,
}
