#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module runs as the action plugin plugins/action/rds_ip_virtualization.py.

DOCUMENTATION = r"""
---
module: rds_ip_virtualization
short_description: Configure Microsoft RD IP Virtualization on an RD Session Host
version_added: 0.1.0
description:
  - Gives each session (I(mode=per_session)) or each listed program (I(mode=per_program)) its own
    IP address leased from DHCP, so several sessions can run a program that listens on a fixed port.
  - With I(method=policy) (the default) it writes the group policy values under
    C(HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services\TSAppSrv\VirtualIP), which take
    precedence over the local settings; with I(method=wmi) it uses C(Win32_TSVirtualIP), which fails
    for a value that group policy controls.
  - On Windows Server 2019 and 2022 the Winsock catalog entry C(2C69D9F1) (KB 4501072) stops IP
    virtualization working; with I(winsock_fix=auto) it is renamed (kept, so rollback can restore it).
  - Refuses unsupported operating systems (Windows 10/11 Enterprise multi-session, client OS, domain
    controllers, Server 2012 R2 and older) before writing anything.
  - Every touched registry key is exported before its first write; see the rollback playbook.
  - Addresses are leased at session start, and enabling the feature or applying the Winsock fix needs
    a restart; C(reboot_required) says so.
extends_documentation_fragment:
  - vipctl.farm.common
options:
  state:
    description: Whether RD IP Virtualization is on.
    type: str
    choices: [enabled, disabled]
    default: enabled
  mode:
    description: One address per session, or only for the programs in I(programs).
    type: str
    choices: [per_session, per_program]
    default: per_session
  programs:
    description:
      - Exe names (no paths, no wildcards) that get their own address in I(mode=per_program).
      - Compared case-insensitively; duplicates are dropped.
    type: list
    elements: str
    default: []
  adapter:
    description:
      - The network adapter whose DHCP scope leases the addresses.
      - With I(method=policy) a CIDR that contains the adapter's address, for example C(192.0.2.0/24).
      - With I(method=wmi) the adapter's MAC address, for example C(00:15:5D:01:02:03); other spellings are accepted and normalised.
      - Left as it is when omitted.
    type: str
  fallback_to_server_ip:
    description:
      - Whether a session that gets no lease falls back to the server's own address.
      - C(false) writes C(PromptOnIPLeaseFail=1), so such a session has no network at all.
      - Only with I(method=policy). Left as it is when omitted.
    type: bool
  virtualize_loopback:
    description:
      - Microsoft's own loopback virtualization (C(127.0.0.1) becomes C(127.0.0.<session+1>)).
      - Set through WMI. Left as it is when omitted.
    type: bool
  method:
    description: Write group policy values (C(policy)) or the local settings through WMI (C(wmi)).
    type: str
    choices: [policy, wmi]
    default: policy
  winsock_fix:
    description: Apply the KB 4501072 Winsock fix where it is needed (C(auto)) or leave it (C(skip)).
    type: str
    choices: [auto, skip]
    default: auto
  install_role:
    description: Install the RD Session Host role (RDS-RD-Server) when it is missing; needs a restart.
    type: bool
    default: false
author:
  - vipctl maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: One IP per session
  vipctl.farm.rds_ip_virtualization:
    state: enabled
    mode: per_session
    adapter: 192.0.2.0/24

- name: Only the licence client gets its own IP
  vipctl.farm.rds_ip_virtualization:
    mode: per_program
    programs: [licclient.exe]
    adapter: 192.0.2.0/24
    fallback_to_server_ip: true
"""

RETURN = r"""
changes:
  description: Each value changed (or that would change in check mode) with before and after.
  returned: always
  type: list
  elements: dict
state:
  description: The state the run leaves (or, in check mode, would leave) RD IP Virtualization in.
  returned: success
  type: str
  sample: enabled
reboot_required:
  description: Whether a restart is needed before new sessions get their addresses.
  returned: always
  type: bool
backups:
  description: Backup files written on the host before the change.
  returned: always
  type: list
  elements: str
"""
