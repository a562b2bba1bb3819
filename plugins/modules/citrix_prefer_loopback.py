#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module runs as the action plugin plugins/action/citrix_prefer_loopback.py.

DOCUMENTATION = r"""
---
module: citrix_prefer_loopback
short_description: Make Citrix virtual loopback win over RD IP Virtualization for listed processes
version_added: 0.1.0
description:
  - Writes C(PreferLoopback) (REG_DWORD 1) and C(PreferLoopbackProcesses) (REG_MULTI_SZ) under
    C(HKLM\SOFTWARE\Wow6432Node\Citrix\VIP) on a VDA, or removes them.
  - Citrix says to use these only when both RD IP Virtualization and virtual loopback are enabled,
    "otherwise you may have unintended results"; the module refuses unless both are, and
    I(force=true) overrides that with a warning.
  - Whether the VDA has virtual loopback is read from the policy it cached; those value names are an
    assumption (see the README), so the dependable proof is M(vipctl.farm.vip_bindings) with I(expect).
  - The key is exported before it is changed.
extends_documentation_fragment:
  - vipctl.farm.common
options:
  enabled:
    description: Whether PreferLoopback is set (C(false) removes both values).
    type: bool
    default: true
  processes:
    description: Exe names (no paths) for which loopback wins. Required when enabled.
    type: list
    elements: str
    default: []
  force:
    description: Write even when RD IP Virtualization or virtual loopback is not enabled.
    type: bool
    default: false
  assume_enabled:
    description:
      - Check mode only, for a dry run of a whole rollout - features that earlier tasks of the same
        run would enable. Their guards count them as enabled (with a warning) instead of refusing on
        the state the host has before those tasks; a real run always checks the host itself.
      - Ignored outside check mode. The C(farm_rollout) role sets it from the results of its own
        earlier tasks.
    type: list
    elements: str
    choices: [rds_ip_virtualization, citrix_virtual_loopback]
    default: []
author:
  - vipctl maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Loopback wins for the CRM client
  vipctl.farm.citrix_prefer_loopback:
    processes: [crmclient.exe]
"""

RETURN = r"""
changes:
  description: Each value changed (or that would change in check mode) with before and after.
  returned: always
  type: list
  elements: dict
backups:
  description: Backup files written on the host before the change.
  returned: always
  type: list
  elements: str
"""
