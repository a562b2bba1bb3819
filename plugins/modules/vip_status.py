#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module runs as the action plugin plugins/action/vip_status.py.

DOCUMENTATION = r"""
---
module: vip_status
short_description: Report per-session addressing on a Windows RDSH / Citrix host (read-only)
version_added: 0.1.0
description:
  - Reads, in one round trip, everything that decides which address a session's programs bind
    on this host, and says whether it is compliant.
  - The OS and a support verdict with its reason (Windows Server 2016 and later; not Windows 10/11
    Enterprise multi-session, client OS or domain controllers; Server 2025 with a warning).
  - Whether the RD Session Host role is installed; RD IP Virtualization as in effect, with the
    source of each value (C(policy), C(local) or C(default)); the Server 2019/2022 Winsock fix.
  - Citrix VDA or Delivery Controller details; on a controller the virtual loopback policy;
    PreferLoopback; current sessions with their expected Citrix loopback addresses; findings such
    as PreferLoopback set while virtual loopback is off.
  - Never changes anything, so C(changed) is always false.
extends_documentation_fragment:
  - vipctl.farm.common
options:
  policy_name:
    description: Name of the Citrix policy to report on a Delivery Controller.
    type: str
    default: vipctl virtual loopback
  scope:
    description: Where that policy lives, the site database or an Active Directory GPO.
    type: str
    choices: [site, ad_gpo]
    default: site
  gpo:
    description: Name of the AD GPO when I(scope=ad_gpo).
    type: str
  controller:
    description: Delivery Controller that serves the site policies.
    type: str
    default: localhost
author:
  - vipctl maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Report per-session addressing
  vipctl.farm.vip_status:
  register: vip

- name: Fail on hosts that cannot use the features
  ansible.builtin.assert:
    that: vip.support.supported
    fail_msg: "{{ vip.support.reason }}"

# Ad hoc, from the collection root:
#   ansible all -i inventory/sim.yml -m vip_status
"""

RETURN = r"""
os:
  description: C(computer_name), C(product_name) and C(build) read from the host.
  returned: always
  type: dict
support:
  description: C(kind), C(supported), C(reason), C(needs_winsock_fix) and C(warnings).
  returned: always
  type: dict
rds_role_installed:
  description: Whether the RD Session Host role (RDS-RD-Server) is installed.
  returned: always
  type: bool
rds_ip_virtualization:
  description: Each setting in effect with its value and source (C(policy), C(local), C(default)).
  returned: always
  type: dict
winsock_fix:
  description:
    - C(not_applicable) (not Server 2019/2022), C(needed) (the KB 4501072 catalog entry is there),
      C(applied) (vipctl renamed it) or C(absent) (the entry is not there at all).
  returned: always
  type: str
citrix_vda:
  description: C(installed), C(version) (BrokerAgent file version) and C(list_of_ddcs).
  returned: always
  type: dict
citrix_controller:
  description: C(installed) (the Citrix Group Policy snap-in is registered).
  returned: always
  type: dict
citrix_loopback_applied:
  description:
    - Whether the VDA's cached Citrix policy has virtual loopback on; null when the cache holds no value.
    - The cached value names are an assumption (see the README), so M(vipctl.farm.vip_bindings) with
      I(expect) is the dependable check.
  returned: always
  type: bool
loopback_policy:
  description: On a Delivery Controller, the loopback policy named by I(policy_name); null elsewhere.
  returned: always
  type: dict
prefer_loopback:
  description: The PreferLoopback values on the host.
  returned: always
  type: dict
sessions:
  description:
    - Sessions with id, user, state, virtual IP and the expected Citrix and Microsoft loopback addresses.
    - C(admin) marks an C(mstsc /admin) session and C(not_virtualized) says why a session gets no
      per-session address (session 0, /admin). Windows offers no dependable way to detect /admin
      sessions, so on real hosts C(admin) is always false.
  returned: always
  type: list
  elements: dict
findings:
  description: Problems worth an admin's attention, in words.
  returned: always
  type: list
  elements: str
"""
