# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin behind vipctl.farm.vip_rollback (logic: vipctl.tasks.vip_rollback)."""

from __future__ import annotations

import os
import sys

try:
    import vipctl  # noqa: F401  # pylint: disable=unused-import
except ImportError:  # an installed collection carries the package under python/src
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "python", "src"))

from vipctl.ansible_glue.action import VipctlAction


class ActionModule(VipctlAction):
    MODULE = "vip_rollback"
