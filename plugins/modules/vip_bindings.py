#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module runs as the action plugin plugins/action/vip_bindings.py.

DOCUMENTATION = r"""
---
module: vip_bindings
short_description: See who binds which address and port per session, and prove per-session addressing
version_added: 0.1.0
description:
  - The TCPView procedure from Citrix's virtual IP guidance, automated. Lists TCP and UDP endpoints with
    the owning process, its path and its session, like TCPView with name resolution off.
  - Flags programs that bind C(0.0.0.0), C(127.0.0.1) or the server's own address, finds the same
    program wanting the same port in several sessions (a clash, including instances whose bind
    failed), and recommends virtual IP, virtual loopback or both per program.
  - With I(expect), computes the address each running instance of the listed programs should bind in
    its session (its virtual IP, or C(127.X.X.X) for Citrix virtual loopback) and fails with a
    per-instance table when one binds the wrong address or does not listen.
  - Read-only; C(changed) is always false.
extends_documentation_fragment:
  - vipctl.farm.common
options:
  process:
    description: Only endpoints of these process names (case-insensitive, for example C(crmclient.exe)).
    type: list
    elements: str
  port:
    description: Only endpoints on this local port.
    type: int
  protocol:
    description: Only TCP or only UDP endpoints.
    type: str
    choices: [tcp, udp]
  state:
    description: Only TCP endpoints in this state (for example C(Listen)).
    type: str
  include_system:
    description:
      - Also analyse session 0 (services). They are never virtualized, so they are left out by default.
    type: bool
    default: false
  expect:
    description: Verify that listed programs bind their session's own address.
    type: dict
    suboptions:
      programs:
        description: Exe names to verify.
        type: list
        elements: str
        required: true
      feature:
        description:
          - Which feature should give the address; C(auto) decides from the host's settings.
        type: str
        choices: [auto, citrix_loopback, rds_ip]
        default: auto
      port:
        description: Only verify endpoints on this port.
        type: int
author:
  - vipctl maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Which programs need per-session addressing?
  vipctl.farm.vip_bindings:
  register: bindings

- name: Prove that each session's CRM client listens on its own loopback address
  vipctl.farm.vip_bindings:
    expect:
      programs: [crmclient.exe]
      feature: citrix_loopback
      port: 9000
"""

RETURN = r"""
endpoints:
  description: Endpoints after the filters, with protocol, addresses, ports, state, pid, process, path, session.
  returned: always
  type: list
  elements: dict
exposures:
  description: Processes that bind 0.0.0.0, 127.0.0.1 or a server address.
  returned: always
  type: list
  elements: dict
clashes:
  description: Programs wanting the same port in several sessions, with failed binds counted.
  returned: always
  type: list
  elements: dict
recommendations:
  description: Per program, C(virtual_ip), C(virtual_loopback), C(both) or C(none), with the reason.
  returned: always
  type: list
  elements: dict
verification:
  description: With I(expect), per instance the expected and actual address and a verdict.
  returned: when expect is given
  type: dict
"""
