"""The simulated registry: case rules, access faults, and .reg export/import exactly as reg.exe."""

from __future__ import annotations

import pytest

from vipctl.sim.model.errors import AccessDenied, BadArgument, WrongType
from vipctl.sim.model.regfile import export_bytes, export_text, import_bytes, import_text
from vipctl.sim.model.registry import Registry, split_path
from vipctl.sim.model.regvalue import RegValue

KEY = r"HKLM\SOFTWARE\Vendor\App"


def test_names_are_case_insensitive_and_keep_their_spelling() -> None:
    reg = Registry()
    reg.set_value(KEY, "PreferLoopback", RegValue("REG_DWORD", 1))
    reg.set_value(r"hklm\software\VENDOR\app", "preferloopback", RegValue("REG_DWORD", 2))
    key = reg.find(r"HKEY_LOCAL_MACHINE\Software\vendor\APP")
    assert key is not None and key.name == "App"
    assert [name for name, _ in key.value_items()] == ["PreferLoopback"]
    assert reg.get_value(KEY, "PREFERLOOPBACK") == RegValue("REG_DWORD", 2)


@pytest.mark.parametrize("path", [r"HKCU\Software\x", "SOFTWARE\\x", "", r"HKLM\A\\B", 7])
def test_only_hklm_paths(path: object) -> None:
    with pytest.raises(BadArgument):
        split_path(path)


def test_denied_paths_cover_the_subtree_for_reads_writes_and_deletes() -> None:
    reg = Registry()
    reg.set_value(KEY + r"\Sub", "x", RegValue("REG_SZ", "y"))
    reg.deny(KEY + r"\Sub")
    with pytest.raises(AccessDenied):
        reg.get_value(KEY + r"\Sub", "x")
    with pytest.raises(AccessDenied):
        reg.set_value(KEY + r"\Sub\Deeper", "x", RegValue("REG_SZ", "y"))
    with pytest.raises(AccessDenied):
        reg.delete_key(KEY)  # the parent's tree holds the denied key
    reg.set_value(KEY, "Other", RegValue("REG_DWORD", 1))  # a sibling value is fine
    reg.clear_denials()
    assert reg.delete_key(KEY)


def test_typed_value_validation() -> None:
    assert RegValue.from_json("REG_BINARY", "00ff").data == b"\x00\xff"
    with pytest.raises(BadArgument):
        RegValue.from_json("REG_WORD", 1)
    for type_name, value in [
        ("REG_DWORD", -1),
        ("REG_DWORD", 2**32),
        ("REG_DWORD", True),
        ("REG_QWORD", 2**64),
        ("REG_SZ", 5),
        ("REG_MULTI_SZ", ["a", ""]),
        ("REG_MULTI_SZ", "a"),
        ("REG_BINARY", "0F"),
        ("REG_BINARY", "abc"),
    ]:
        with pytest.raises(WrongType):
            RegValue.from_json(type_name, value)


def sample() -> Registry:
    reg = Registry()
    reg.set_value(KEY, "", RegValue("REG_SZ", "default"))
    reg.set_value(KEY, "Path", RegValue("REG_SZ", 'C:\\Program Files\\"App"'))
    reg.set_value(KEY, "Count", RegValue("REG_DWORD", 0x2A))
    reg.set_value(KEY, "Big", RegValue("REG_QWORD", 2**32))
    reg.set_value(KEY, "Exp", RegValue("REG_EXPAND_SZ", "%A%"))
    reg.set_value(KEY, "Blob", RegValue("REG_BINARY", bytes(range(30))))
    reg.set_value(KEY, "Empty", RegValue("REG_MULTI_SZ", ()))
    reg.set_value(KEY + r"\zeta", "z", RegValue("REG_DWORD", 0))
    reg.set_value(KEY + r"\Alpha", "a", RegValue("REG_DWORD", 1))
    return reg


def test_export_text_is_byte_for_byte_reg_export() -> None:
    expected = (
        "Windows Registry Editor Version 5.00\r\n"
        "\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App]\r\n"
        '@="default"\r\n'
        '"Path"="C:\\\\Program Files\\\\\\"App\\""\r\n'
        '"Count"=dword:0000002a\r\n'
        '"Big"=hex(b):00,00,00,00,01,00,00,00\r\n'
        '"Exp"=hex(2):25,00,41,00,25,00,00,00\r\n'
        '"Blob"=hex:00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,\\\r\n'
        "  16,17,18,19,1a,1b,1c,1d\r\n"
        '"Empty"=hex(7):00,00\r\n'
        "\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App\\Alpha]\r\n"
        '"a"=dword:00000001\r\n'
        "\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App\\zeta]\r\n"
        '"z"=dword:00000000\r\n'
        "\r\n"
    )
    reg = sample()
    assert export_text(reg, r"hklm\software\vendor\app") == expected
    assert export_bytes(reg, KEY) == b"\xff\xfe" + expected.encode("utf-16-le")


def test_export_of_a_missing_key_is_the_deletion_form() -> None:
    text = export_text(Registry(), KEY)
    assert (
        text == "Windows Registry Editor Version 5.00\r\n\r\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App]\r\n"
    )


def test_import_restores_an_export_exactly() -> None:
    reg = sample()
    data = export_bytes(reg, KEY)
    before = reg.to_json()
    reg.set_value(KEY, "Count", RegValue("REG_DWORD", 7))
    reg.set_value(KEY + r"\New", "n", RegValue("REG_SZ", "x"))
    reg.delete_key(KEY)
    import_bytes(reg, data)
    assert reg.to_json() == before
    assert export_bytes(reg, KEY) == data


def test_import_deletes_keys_and_values() -> None:
    reg = sample()
    import_text(
        reg,
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App\\zeta]\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App]\r\n"
        '"Count"=-\r\n'
        '"Multi"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n',
    )
    assert not reg.exists(KEY + r"\zeta")
    assert reg.get_value(KEY, "Count") is None
    assert reg.get_value(KEY, "Multi") == RegValue("REG_MULTI_SZ", ("a", "b"))


def test_import_refuses_a_file_without_the_header() -> None:
    with pytest.raises(Exception, match="first line"):
        import_text(Registry(), "[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n")
