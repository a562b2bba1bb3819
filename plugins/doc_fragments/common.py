# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option and behaviour docs shared by every vipctl.farm module (one source, merged into each)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
notes:
  - Runs on the controller as an action plugin and reaches the Windows host through the play's own
    connection, which must be C(ansible.builtin.winrm) or C(ansible.builtin.psrp); any other
    connection is refused before anything is sent.
  - Everything the module reads and writes on one host travels in one request to a fixed PowerShell
    executor shipped with the collection; option values are data inside that request and never
    become PowerShell code.
  - Requires Windows PowerShell 5.1 on the host.
requirements:
  - the C(vipctl) Python package (shipped in the collection under C(python/src); added to the import
    path automatically) and its dependencies from the collection's C(requirements.txt).
attributes:
  check_mode:
    support: full
    description: Computes every change exactly as a real run would and writes nothing.
  diff_mode:
    support: full
    description: Shows the settings before and after.
  platform:
    support: full
    platforms: windows
    description: Target OS/families that can be operated against.
"""
