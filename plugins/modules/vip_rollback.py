#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module runs as the action plugin plugins/action/vip_rollback.py.

DOCUMENTATION = r"""
---
module: vip_rollback
short_description: Restore the backups the vipctl modules made, newest first, exactly
version_added: 0.1.0
description:
  - Every vipctl module call that changes a host first saves what it changes into its own backup
    set, a folder C(<backup_root>\<UTC time stamp>-<module>) holding C(reg export) files, Citrix
    policy JSON files and C(tsvip.json) (the C(Win32_TSVirtualIP) values before). This module puts
    chosen sets back, newest first, so the registry, the Citrix policies and the WMI settings return
    to what they were before the oldest chosen set was made.
  - Which sets, by the options I(since) and I(sets) (at most one of them); with neither, the newest
    set not yet restored (run again to step one module call further back).
  - A C(.reg) file is restored by deleting the key's tree and importing the file; a Citrix policy
    file puts the policy back as saved, deleting it if it did not exist. Files vipctl does not
    write are left alone with a warning.
  - Restored sets are remembered on the host, so rerunning restores nothing and reports
    C(changed=false) with C(nothing to restore). The record is a set folder C(<stamp>-vip_rollback)
    holding one marker file per restored set; the marker key behind it exists only while the
    restore request runs. Set folders themselves are never deleted.
  - Two round trips per host (one in check mode, or when there is nothing to restore) - the first
    lists the sets, the second restores; the file names must be known before the restore request
    can name them, and the executor takes no file names from an earlier op's answer.
  - Only what vipctl wrote is restored. The modules create the backup root with an ACL of its
    own (owner Administrators; Administrators and SYSTEM full control; inheritance off) and keep
    a manifest with the SHA-256 of every file in each set. The task fails, restoring nothing, if
    the root's owner or ACL lets anyone else in (C(insecure_backup_root)), if a chosen set holds
    a file its manifest does not name or one that changed (C(backup_tampered)), or if a C(.reg)
    file names a key outside the keys vipctl manages. Sets made before manifests existed cannot
    be restored with this module.
  - The restore itself is not backed up, so it cannot be undone with this module; running the
    rollout again gets the settings back.
  - Settings behind WMI (C(Win32_TSVirtualIP)) are put back through the same WMI C(Set*) methods
    that changed them, never by writing their registry store; a setting now under group policy
    fails the restore (change the policy instead). WMI can select a network adapter but not
    unselect one, so an adapter selected by the rollout where none was before stays selected, with
    a warning.
extends_documentation_fragment:
  - vipctl.farm.common
options:
  since:
    description:
      - Restore every set made at or after this time that has not been restored yet, newest first.
      - An ISO 8601 time, such as C(2026-11-26T12:00:00Z) or C(2026-11-26T13:00:00+01:00); without a
        zone it is UTC. Set folders are stamped to the microsecond, so several module calls within
        one second still restore in the reverse of the order they ran.
      - Mutually exclusive with I(sets).
    type: str
  sets:
    description:
      - Restore exactly these sets, given as folder names (C(20261126T120000123456Z-rds_ip_virtualization))
        or full paths, newest first whatever their order here.
      - A name that is not there fails the task before anything is restored; a set an earlier
        rollback restored is skipped with a warning.
    type: list
    elements: str
  backup_root:
    description:
      - The folder the modules keep their backup sets in on the host.
      - An absolute local path with a drive letter, at most 80 characters; UNC and device paths,
        C(/), C(.) and C(..) segments, wildcards, quotes, C(:) after the drive, control
        characters and folder names with leading spaces or trailing dots or spaces are refused
        before the host is contacted.
    type: str
    default: C:\ProgramData\vipctl\backups
author:
  - vipctl maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Undo everything vipctl changed on this host since the rollout began
  vipctl.farm.vip_rollback:
    since: "2026-11-26T12:00:00Z"

- name: Undo the most recent module call only
  vipctl.farm.vip_rollback:

- name: Undo two named runs
  vipctl.farm.vip_rollback:
    sets:
      - 20261126T120502331907Z-citrix_prefer_loopback
      - 20261126T120501874211Z-rds_ip_virtualization
"""

RETURN = r"""
sets:
  description: The sets restored (or, in check mode, that would be), newest first, each with C(dir),
    C(name), C(module) and C(files).
  returned: success
  type: list
  elements: dict
already_restored:
  description: Names of chosen sets an earlier rollback restored, skipped this time.
  returned: success
  type: list
  elements: str
backups:
  description: The marker files recording this rollback (in the C(<stamp>-vip_rollback) set).
  returned: always
  type: list
  elements: str
"""
