#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module runs as the action plugin plugins/action/citrix_virtual_loopback.py.

DOCUMENTATION = r"""
---
module: citrix_virtual_loopback
short_description: Manage the Citrix virtual loopback policy on a Delivery Controller
version_added: 0.1.0
description:
  - Sets the Citrix policy settings C(VirtualLoopbackSupport) and C(VirtualLoopbackPrograms) (Studio
    category "Virtual IP") in a named policy, through the Citrix Group Policy PowerShell provider.
  - With virtual loopback on, a listed program in session N that binds C(127.0.0.1) gets
    C(127.X.X.X), where X.X.X is N+1 as a 24-bit number (session 7 gets C(127.0.0.8)).
  - Run it against a Delivery Controller (inventory group C(citrix_controllers)). VDAs receive the
    policy at their next policy refresh; processes started after that use it.
  - Compares the settings' State and Values, the policy's priority, description and filters before
    writing, and saves the policy as it was (JSON) before changing it.
extends_documentation_fragment:
  - vipctl.farm.common
options:
  policy_name:
    description: Name of the Citrix policy that holds the settings.
    type: str
    default: vipctl virtual loopback
  state:
    description: Whether the policy exists (C(absent) deletes it).
    type: str
    choices: [present, absent]
    default: present
  enabled:
    description: Whether the policy is enabled.
    type: bool
    default: true
  programs:
    description: Exe names (no paths) that get a per-session loopback address. Required when present.
    type: list
    elements: str
    default: []
  priority:
    description:
      - Policy priority (1 is highest). Left as it is, or the provider's default, when omitted.
      - The provider numbers each half of a policy (Computer, User) on its own and clamps the value
        to the number of policies in that half, so the priority reported may be lower than asked;
        a rerun compares the clamped value and is not a change.
    type: int
  description:
    description: Policy description. Left as it is when omitted.
    type: str
  scope:
    description:
      - Site policies (C(site)) or an Active Directory GPO (C(ad_gpo)).
      - Writing an AD GPO from a WinRM session is a second hop. Without CredSSP
        (C(ansible_winrm_transport=credssp) or C(ansible_psrp_auth=credssp)) or Kerberos delegation
        the module fails with C(delegation_required). A GPO that does not exist fails with
        C(not_found); none is created.
    type: str
    choices: [site, ad_gpo]
    default: site
  gpo:
    description: Name of the AD GPO, required with I(scope=ad_gpo).
    type: str
  controller:
    description: Delivery Controller to connect the provider to.
    type: str
    default: localhost
  filters:
    description:
      - Assignments (filters) of the policy. Left as they are when omitted; an empty list removes all.
    type: list
    elements: dict
    suboptions:
      type:
        description: Filter type, the provider's folder name under C(Filters).
        type: str
        required: true
        choices: [AccessControl, BranchRepeater, ClientIP, ClientName, ClientPlatform, DeliveryGroupType,
                  DesktopGroup, DesktopKind, DesktopTag, OU, Tag, User]
      name:
        description: Name of the filter.
        type: str
        required: true
      value:
        description: What the filter matches, for example a delivery group name.
        type: str
        required: true
      enabled:
        description: Whether the filter is enabled.
        type: bool
        default: true
      mode:
        description: Allow or deny the matching sessions.
        type: str
        choices: [Allow, Deny]
        default: Allow
author:
  - vipctl maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Per-session loopback for the CRM client, for one delivery group
  vipctl.farm.citrix_virtual_loopback:
    programs: [crmclient.exe]
    priority: 5
    filters:
      - type: DesktopGroup
        name: CRM users
        value: Shared Desktops
"""

RETURN = r"""
loopback_enabled:
  description: Whether the policy the run leaves (or, in check mode, would leave) enables virtual loopback.
  returned: success
  type: bool
changes:
  description: Each field changed (or that would change in check mode) with before and after.
  returned: always
  type: list
  elements: dict
policy_name:
  description: The policy the module managed.
  returned: always
  type: str
scope:
  description: C(site) or C(ad_gpo).
  returned: always
  type: str
existed:
  description: Whether the policy existed before the run.
  returned: always
  type: bool
policy_before:
  description:
    - The policy as it was before the run, or null.
    - C(name), C(settings) (both halves), and C(halves) with C(Computer) and C(User), each null when
      the policy has no such half, else its C(enabled), C(priority), C(description) and C(filters).
  returned: always
  type: dict
backups:
  description: Backup files written on the controller before the change.
  returned: always
  type: list
  elements: str
"""
