# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin behind vipctl.farm.citrix_virtual_loopback (logic: vipctl.tasks.citrix_virtual_loopback)."""

from __future__ import annotations

from ansible_collections.vipctl.farm.plugins.plugin_utils.action_base import VipctlAction


class ActionModule(VipctlAction):
    MODULE = "citrix_virtual_loopback"
