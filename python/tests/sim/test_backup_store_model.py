"""The simulator's folder ACLs and the backup store's checks, without a wire: what a user may
plant where, and which `.reg` sections a restore accepts."""

from __future__ import annotations

import pytest

from vipctl import registry_map
from vipctl.sim.model.files import (
    ADMINISTRATORS,
    CREATOR_OWNER,
    ORDINARY_USER,
    SYSTEM,
    USERS,
    FileStore,
)
from vipctl.sim.twin.backup_store import (
    ensure_root,
    parse_managed_keys,
    reg_file_problem,
    root_problem,
)

ROOT = registry_map.DEFAULT_BACKUP_ROOT
HEADER = "Windows Registry Editor Version 5.00\r\n\r\n"
MANAGED = parse_managed_keys([k.to_protocol() for k in registry_map.MANAGED_KEYS])


def test_programdata_lets_users_create_below_it_and_the_creator_owns_what_it_made() -> None:
    files = FileStore()
    assert files.may_create("C:\\ProgramData", ORDINARY_USER)
    files.make_dir("C:\\ProgramData\\vipctl", ORDINARY_USER)
    acl = files.acl("C:\\ProgramData\\vipctl")
    assert acl.owner == ORDINARY_USER and not acl.protected
    # CREATOR OWNER flows in as an entry for the folder's owner.
    assert any(a.sid == ORDINARY_USER and a.rights == "full" for a in acl.aces)
    assert all(a.sid != CREATOR_OWNER for a in acl.aces)
    assert root_problem(files, "C:\\ProgramData\\vipctl") is not None


def test_a_root_made_by_the_executor_admits_no_user_and_a_grant_widens_it() -> None:
    files = FileStore()
    ensure_root(files, ROOT)
    assert root_problem(files, ROOT) is None
    assert not files.may_create(ROOT + "\\set", ORDINARY_USER)
    assert {a.sid for a in files.acl(ROOT).aces} == {ADMINISTRATORS, SYSTEM}
    files.grant(ROOT, USERS, "modify")
    assert files.may_create(ROOT, ORDINARY_USER)
    problem = root_problem(files, ROOT)
    assert problem is not None and USERS in problem


def test_an_implied_folder_inherits_and_is_not_a_safe_root() -> None:
    files = FileStore()
    files.write("D:\\Backups\\set\\x.reg", b"")
    assert files.is_dir("D:\\Backups")
    assert (
        root_problem(files, "D:\\Backups")
        == "it inherits permissions from its parent folder (inheritance is on)"
    )


ACCEPTED = [
    f"[HKEY_LOCAL_MACHINE\\{registry_map.RDS_POLICY_KEY[5:]}]",
    f"[HKEY_LOCAL_MACHINE\\{registry_map.RDS_POLICY_KEY[5:]}\\Sub]",
    f"[-HKEY_LOCAL_MACHINE\\{registry_map.RDS_POLICY_KEY[5:]}]",
    "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies]",  # the floor: a missing level vipctl's write created
    "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Wow6432Node\\Citrix]",
    f"[hkey_local_machine\\{registry_map.PREFER_LOOPBACK_KEY[5:].lower()}]",
]
REFUSED = [
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run]",
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies]",  # writing at the floor is not restoring a key
    "[-HKEY_LOCAL_MACHINE\\SOFTWARE]",  # above every floor
    "[-HKEY_LOCAL_MACHINE]",
    "[HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run]",
    "[HKEY_USERS\\.DEFAULT\\Software\\x]",
    "[HKLM\\SOFTWARE\\Wow6432Node\\Citrix\\VIP]",  # only the full hive name, as the executor matches
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Wow6432Node\\Citrix\\VIPX]",  # a sibling sharing a prefix
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\WinSock2\\Parameters\\AppId_Catalog]",
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services\\TSAppSrv\\VirtualIP",
]


@pytest.mark.parametrize("header", ACCEPTED)
def test_sections_within_the_managed_keys_are_accepted(header: str) -> None:
    assert reg_file_problem(HEADER + header + "\r\n", MANAGED) is None


@pytest.mark.parametrize("header", REFUSED)
def test_sections_outside_the_managed_keys_are_refused(header: str) -> None:
    text = HEADER + f"[HKEY_LOCAL_MACHINE\\{registry_map.PREFER_LOOPBACK_KEY[5:]}]\r\n\r\n" + header + "\r\n"
    assert reg_file_problem(text, MANAGED) is not None


def test_lines_end_only_at_cr_or_lf_as_in_the_executor() -> None:
    # U+2028 is not a line break for File.ReadAllLines (nor for reg.exe): the bracket is value text.
    hidden = '"x"="a\u2028[HKEY_LOCAL_MACHINE\\SOFTWARE\\Evil]"'
    text = HEADER + f"[HKEY_LOCAL_MACHINE\\{registry_map.PREFER_LOOPBACK_KEY[5:]}]\r\n{hidden}\r\n"
    assert reg_file_problem(text, MANAGED) is None
    assert reg_file_problem(text.replace("\u2028", "\r"), MANAGED) is not None
