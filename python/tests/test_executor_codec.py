"""The executor codec (requests and responses) and the WinRS bootstrap framing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from vipctl.executor import bootstrap, script_bytes
from vipctl.executor.codec import OP_SPECS, OpResult, build_request, decode_response
from vipctl.executor.errors import ExecutorError, MalformedResponse, OpFailed, RequestError

BACKUP_DIR = r"C:\ProgramData\vipctl\backups\20261126T120000Z-1a2b"
POLICY_KEY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services\TSAppSrv\VirtualIP"


def one(op: dict[str, Any], *, check: bool = False, backup_dir: str | None = BACKUP_DIR) -> dict[str, Any]:
    return build_request([op], check=check, backup_dir=backup_dir)


def refused_field(ops: list[Any], *, backup_dir: str | None = BACKUP_DIR) -> str:
    with pytest.raises(RequestError) as caught:
        build_request(ops, check=False, backup_dir=backup_dir)
    assert caught.value.host is None
    return caught.value.field


# ---------------------------------------------------------------- build_request


def test_build_request_has_the_protocol_envelope() -> None:
    ops: list[dict[str, Any]] = [
        {"op": "host_facts", "id": "facts"},
        {
            "op": "registry_set",
            "path": POLICY_KEY,
            "values": [
                {"name": "EnableVirtualIP", "state": "present", "type": "REG_DWORD", "value": 1},
                {"name": "PerApp", "state": "present", "type": "REG_MULTI_SZ", "value": ["app.exe"]},
                {"name": "Old", "state": "absent"},
            ],
            "when": [{"ref": "facts", "path": ["data", "rds_role_installed"], "in": [True]}],
        },
    ]
    request = build_request(ops, check=True, backup_dir=BACKUP_DIR)
    assert request == {"v": 1, "check": True, "backup_dir": BACKUP_DIR, "ops": ops}
    assert request["ops"][0] is not ops[0]  # detached from the caller's objects


def test_build_request_accepts_every_op_in_minimal_form() -> None:
    minimal: dict[str, dict[str, Any]] = {
        "host_facts": {},
        "registry_get": {"path": POLICY_KEY},
        "registry_set": {"path": POLICY_KEY, "values": []},
        "registry_rename_key": {"path": r"HKEY_LOCAL_MACHINE\SOFTWARE\A\B", "new_name": "B.off"},
        "registry_restore": {
            "file": r"C:\b\x.reg",
            "managed_keys": [{"key": r"HKLM\SOFTWARE\x", "floor": r"HKLM\SOFTWARE"}],
        },
        "backup_list": {"root": r"C:\b"},
        "tsvip_get": {},
        "tsvip_set": {"properties": {"VirtualIPActive": 1, "ProgramList": ["a.exe"]}},
        "tsvip_restore": {"file": r"C:\b\tsvip.json"},
        "citrix_policy_get": {"name": "VIP", "scope": "site"},
        "citrix_policy_set": {"name": "VIP", "scope": "ad_gpo", "gpo": "Farm GPO", "state": "absent"},
        "citrix_policy_restore": {"file": r"C:\b\citrix_policy_VIP.json"},
        "feature_install": {"name": "RDS-RD-Server"},
        "net_endpoints": {"protocols": ["tcp"]},
        "sessions": {},
        "restart_state": {},
        "restart_mark": {"reasons": ["a change needs a restart"]},
        "address_match": {"cidr": "10.0.0.0/24"},
        "require": {"conditions": [{"ref": "first", "path": ["ok"], "not_in": [False]}], "message": "m"},
    }
    assert set(minimal) == set(OP_SPECS)
    ops = [{"op": "sessions", "id": "first"}] + [{"op": name, **args} for name, args in minimal.items()]
    assert len(build_request(ops, check=False, backup_dir=BACKUP_DIR)["ops"]) == len(ops)


@pytest.mark.parametrize(
    ("op", "field"),
    [
        ({"op": "format_disk"}, "ops[0].op"),
        ({"id": "x"}, "ops[0].op"),
        ({"op": "registry_get"}, "ops[0].path"),
        ({"op": "registry_get", "path": r"HKCU\Software\X"}, "ops[0].path"),
        ({"op": "registry_get", "path": "SOFTWARE\\X"}, "ops[0].path"),
        ({"op": "registry_get", "path": "HKLM\\"}, "ops[0].path"),
        ({"op": "registry_get", "path": r"HKLM\A\\B"}, "ops[0].path"),
        ({"op": "registry_get", "path": 'HKLM\\A"B'}, "ops[0].path"),
        ({"op": "registry_get", "path": POLICY_KEY, "names": "EnableVirtualIP"}, "ops[0].names"),
        ({"op": "registry_get", "path": POLICY_KEY, "value": 1}, "ops[0].value"),
        ({"op": "registry_set", "path": POLICY_KEY, "values": {}}, "ops[0].values"),
        ({"op": "registry_set", "path": POLICY_KEY, "values": ["x"]}, "ops[0].values[0]"),
        (
            {"op": "registry_set", "path": POLICY_KEY, "values": [{"state": "absent"}]},
            "ops[0].values[0].name",
        ),
        (
            {"op": "registry_set", "path": POLICY_KEY, "values": [{"name": "a", "state": "on"}]},
            "ops[0].values[0].state",
        ),
        (
            {
                "op": "registry_set",
                "path": POLICY_KEY,
                "values": [{"name": "a", "state": "absent", "typo": 1}],
            },
            "ops[0].values[0].typo",
        ),
        (
            {
                "op": "registry_set",
                "path": POLICY_KEY,
                "values": [{"name": "a", "state": "present", "type": "DWORD"}],
            },
            "ops[0].values[0].type",
        ),
        ({"op": "registry_rename_key", "path": POLICY_KEY, "new_name": r"a\b"}, "ops[0].new_name"),
        ({"op": "registry_restore", "file": ""}, "ops[0].file"),
        ({"op": "registry_restore", "file": "C:\\b\\x.reg"}, "ops[0].managed_keys"),
        ({"op": "registry_restore", "file": "x", "managed_keys": []}, "ops[0].managed_keys"),
        (
            {
                "op": "registry_restore",
                "file": "x",
                "managed_keys": [{"key": r"HKLM\A\B", "floor": r"HKLM\C"}],
            },
            "ops[0].managed_keys[0].floor",
        ),
        ({"op": "tsvip_set", "properties": []}, "ops[0].properties"),
        (
            {"op": "tsvip_set", "properties": {"NetworkAdapterDescription": "x"}},
            "ops[0].properties.NetworkAdapterDescription",
        ),
        ({"op": "tsvip_set", "properties": {"VirtualIPActive": 2}}, "ops[0].properties.VirtualIPActive"),
        ({"op": "tsvip_set", "properties": {"VirtualIPActive": True}}, "ops[0].properties.VirtualIPActive"),
        ({"op": "tsvip_set", "properties": {"ProgramList": "a.exe"}}, "ops[0].properties.ProgramList"),
        (
            {"op": "tsvip_set", "properties": {"NetworkAdapterMacAddress": 5}},
            "ops[0].properties.NetworkAdapterMacAddress",
        ),
        ({"op": "citrix_policy_get", "name": "VIP", "scope": "farm"}, "ops[0].scope"),
        ({"op": "citrix_policy_get", "name": "VIP", "scope": "ad_gpo"}, "ops[0].gpo"),
        ({"op": "citrix_policy_set", "name": "VIP", "scope": "site", "state": "present"}, "ops[0].policy"),
        ({"op": "citrix_policy_set", "name": "VIP", "scope": "site", "state": "gone"}, "ops[0].state"),
        (
            {"op": "citrix_policy_set", "name": "VIP", "scope": "site", "state": "present", "policy": []},
            "ops[0].policy",
        ),
        ({"op": "net_endpoints", "protocols": ["icmp"]}, "ops[0].protocols"),
        ({"op": "require", "message": "m"}, "ops[0].conditions"),
        ({"op": "require", "conditions": [], "message": ""}, "ops[0].message"),
        (
            {"op": "require", "conditions": [{"ref": "nobody", "path": [], "in": []}], "message": "m"},
            "ops[0].conditions[0].ref",
        ),
        ({"op": "sessions", "when": {"ref": "a"}}, "ops[0].when"),
        ({"op": "sessions", "when": [{"ref": "a", "path": [], "in": [], "not_in": []}]}, "ops[0].when[0]"),
        ({"op": "sessions", "when": [{"ref": "a", "path": []}]}, "ops[0].when[0]"),
        ({"op": "sessions", "when": [{"ref": "a", "path": "data", "in": []}]}, "ops[0].when[0].path"),
        ({"op": "sessions", "when": [{"ref": "a", "path": [1.5], "in": []}]}, "ops[0].when[0].path"),
        ({"op": "sessions", "when": [{"ref": "a", "path": [], "in": 1}]}, "ops[0].when[0].in"),
        (
            {"op": "sessions", "when": [{"ref": "a", "path": [], "in": [], "code": "x"}]},
            "ops[0].when[0].code",
        ),
        ({"op": "sessions", "when": [{"ref": "later", "path": [], "in": []}]}, "ops[0].when[0].ref"),
        ({"op": "sessions", "id": ""}, "ops[0].id"),
        ({"op": "sessions", "id": 7}, "ops[0].id"),
    ],
)
def test_build_request_names_the_bad_field(op: dict[str, Any], field: str) -> None:
    assert refused_field([op]) == field


@pytest.mark.parametrize(
    ("reg_type", "value"),
    [
        ("REG_SZ", 1),
        ("REG_EXPAND_SZ", ["a"]),
        ("REG_DWORD", -1),
        ("REG_DWORD", 2**32),
        ("REG_DWORD", "1"),
        ("REG_DWORD", True),
        ("REG_QWORD", 2**64),
        ("REG_QWORD", 1.0),
        ("REG_MULTI_SZ", "a"),
        ("REG_MULTI_SZ", ["a", 1]),
        ("REG_BINARY", "abc"),
        ("REG_BINARY", "zz"),
    ],
)
def test_build_request_refuses_values_that_do_not_fit_their_type(reg_type: str, value: Any) -> None:
    entry = {"name": "v", "state": "present", "type": reg_type, "value": value}
    assert (
        refused_field([{"op": "registry_set", "path": POLICY_KEY, "values": [entry]}])
        == "ops[0].values[0].value"
    )


@pytest.mark.parametrize(
    ("reg_type", "value"),
    [("REG_DWORD", 4294967295), ("REG_QWORD", 2**64 - 1), ("REG_BINARY", "00FFab"), ("REG_MULTI_SZ", [])],
)
def test_build_request_accepts_boundary_values(reg_type: str, value: Any) -> None:
    entry = {"name": "", "state": "present", "type": reg_type, "value": value}
    assert one({"op": "registry_set", "path": POLICY_KEY, "values": [entry]})["ops"][0]["values"] == [entry]


def test_build_request_refuses_duplicate_ids() -> None:
    assert refused_field([{"op": "sessions", "id": "a"}, {"op": "host_facts", "id": "a"}]) == "ops[1].id"


@pytest.mark.parametrize("op", ["registry_set", "registry_rename_key", "tsvip_set", "citrix_policy_set"])
def test_write_ops_need_a_backup_folder(op: str) -> None:
    all_args: dict[str, dict[str, Any]] = {
        "registry_set": {"path": POLICY_KEY, "values": []},
        "registry_rename_key": {"path": POLICY_KEY, "new_name": "x"},
        "tsvip_set": {"properties": {}},
        "citrix_policy_set": {"name": "VIP", "scope": "site", "state": "absent"},
    }
    args = all_args[op]
    assert refused_field([{"op": op, **args}], backup_dir=None) == "backup_dir"


def test_reads_need_no_backup_folder() -> None:
    assert one({"op": "registry_get", "path": POLICY_KEY}, backup_dir=None)["backup_dir"] is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ops": "host_facts", "check": False, "backup_dir": None}, "ops"),
        ({"ops": [], "check": "yes", "backup_dir": None}, "check"),
        ({"ops": [], "check": False, "backup_dir": ""}, "backup_dir"),
        ({"ops": [{"op": "registry_set", "path": POLICY_KEY, "values": [], "extra": None}], "check": False,
          "backup_dir": BACKUP_DIR}, "ops[0].extra"),
    ],
)  # fmt: skip
def test_build_request_checks_its_envelope(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(RequestError) as caught:
        build_request(**kwargs)
    assert caught.value.field == field
    assert str(caught.value).startswith(field)


def test_build_request_refuses_values_that_are_not_json() -> None:
    op = {
        "op": "citrix_policy_set",
        "name": "VIP",
        "scope": "site",
        "state": "present",
        "policy": {"x": {1, 2}},
    }
    assert refused_field([op]) == "ops"


# ---------------------------------------------------------------- decode_response


def response_text(results: list[Any], **extra: Any) -> str:
    document = {
        "v": 1,
        "ok": all(isinstance(r, dict) and r.get("ok") is True for r in results),
        "results": results,
        "backups": [],
        **extra,
    }
    return json.dumps(document)


GOOD = [
    {"op": "host_facts", "id": "facts", "ok": True, "changed": False, "data": {"build_number": 17763}},
    {"op": "registry_set", "ok": True, "changed": True, "data": {"changes": [], "backup": None}},
]


def test_decode_response_types_the_results() -> None:
    response = decode_response(response_text(GOOD), 0, host="rdsh01")
    assert response.ok and response.host == "rdsh01" and response.error is None
    facts = response.by_id("facts")
    assert facts == OpResult("host_facts", "facts", True, False, False, {"build_number": 17763}, None)
    assert response.results[1].changed is True and response.results[1].id is None
    response.raise_for_error()  # nothing failed


def test_decode_response_tolerates_bom_blank_lines_and_clixml() -> None:
    noisy = (
        '\ufeff#< CLIXML\r\n<Objs Version="1.1.0.1"><Obj S="progress"/></Objs>\r\n'
        + response_text(GOOD)
        + "\r\n\r\n"
    )
    assert decode_response(noisy, 0, host="h").results[0].data == {"build_number": 17763}


def test_by_id_names_the_host_when_missing() -> None:
    response = decode_response(response_text(GOOD), 0, host="rdsh01")
    with pytest.raises(KeyError, match="rdsh01"):
        response.by_id("nope")


def test_failed_and_skipped_ops() -> None:
    results = [
        {
            "op": "registry_set",
            "id": "w",
            "ok": False,
            "error": {"kind": "access_denied", "message": "denied"},
        },
        {"op": "sessions", "ok": False, "skipped": True, "error": {"kind": "skipped", "message": "not run"}},
    ]
    response = decode_response(response_text(results), 0, host="rdsh02")
    assert not response.ok
    assert response.results[1].skipped and response.results[1].error is not None
    with pytest.raises(OpFailed) as caught:
        response.raise_for_error()
    failure = caught.value
    assert (failure.kind, failure.op, failure.op_id, failure.host) == (
        "access_denied",
        "registry_set",
        "w",
        "rdsh02",
    )
    assert str(failure).startswith("rdsh02: ") and isinstance(failure, ExecutorError)


def test_refused_request_is_a_response_with_an_error() -> None:
    text = json.dumps(
        {
            "v": 1,
            "ok": False,
            "error": {"kind": "bad_request", "message": "v must be 1"},
            "results": [],
            "backups": [],
        }
    )
    for exit_code in (1, 0):  # PSRP has no exit code, so 0 is accepted too
        response = decode_response(text, exit_code, host="h")
        assert response.error is not None and response.error.kind == "bad_request"
        with pytest.raises(OpFailed, match="v must be 1"):
            response.raise_for_error()


@pytest.mark.parametrize(
    ("stdout", "exit_code", "fragment"),
    [
        ("", 0, "no response"),
        ("#< CLIXML\n<Objs/>", 1, "no response"),
        ("not json", 0, "not one JSON document"),
        (response_text(GOOD) + response_text(GOOD), 0, "not one JSON document"),
        ('{"v": 1, "ok": true, "results": [], "backups": [], "x": NaN}', 0, "not one JSON document"),
        ("[1]", 0, "not a JSON object"),
        (json.dumps({"v": 2, "ok": True, "results": [], "backups": []}), 0, "version"),
        (json.dumps({"v": True, "ok": True, "results": [], "backups": []}), 0, "version"),
        (json.dumps({"v": 1, "ok": True, "results": {}, "backups": []}), 0, "results"),
        (json.dumps({"v": 1, "ok": "yes", "results": [], "backups": []}), 0, "ok"),
        (json.dumps({"v": 1, "ok": True, "results": [], "backups": [3]}), 0, "backups"),
        (response_text(GOOD), 1, "exit"),
        (response_text(GOOD), 3, "exit"),
        (response_text([{"ok": True, "changed": False, "data": {}}]), 0, "results[0]"),
        (response_text([{"op": "x", "id": 3, "ok": True, "changed": False, "data": {}}]), 0, "results[0]"),
        (response_text(["x"]), 0, "results[0] is not an object"),
        (response_text([{"op": "x", "ok": True, "changed": False}]), 0, "results[0]"),
        (response_text([{"op": "x", "ok": True, "changed": False, "data": {}, "skipped": 1}]), 0, "skipped"),
        (response_text([{"op": "x", "ok": False, "error": "boom"}]), 0, "results[0].error"),
        (response_text([{"op": "x", "ok": False, "error": {"kind": "oops", "message": "m"}}]), 0, "kind"),
        (json.dumps({"v": 1, "ok": True, "results": [GOOD[0]], "backups": [], "error": {"kind": "bad_request",
                     "message": "m"}}), 0, "ok disagrees"),
        (json.dumps({"v": 1, "ok": False, "results": GOOD, "backups": []}), 0, "ok disagrees"),
    ],
)  # fmt: skip
def test_decode_response_refuses_malformed_output(stdout: str, exit_code: int, fragment: str) -> None:
    with pytest.raises(MalformedResponse) as caught:
        decode_response(stdout, exit_code, host="vda07")
    assert caught.value.host == "vda07"
    assert str(caught.value).startswith("vda07: ")
    assert fragment in str(caught.value)


def test_request_error_can_name_a_host() -> None:
    error = RequestError("ops[0].path", "bad", host="rdsh01")
    assert str(error) == "rdsh01: ops[0].path: bad" and error.field == "ops[0].path"


# ---------------------------------------------------------------- bootstrap framing


def test_stdin_frame_round_trip() -> None:
    request = one({"op": "registry_get", "path": POLICY_KEY, "names": ["Prénom", "名前"]})
    frame = bootstrap.stdin_frame(request)
    lines = frame.split(b"\r\n")
    assert len(lines) == 3 and lines[2] == b""  # two CRLF-terminated lines
    script, request_json = bootstrap.parse_stdin_frame(frame)
    assert script == script_bytes()
    assert json.loads(request_json) == request


def test_parse_stdin_frame_accepts_lf_and_blank_lines() -> None:
    frame = bootstrap.stdin_frame(one({"op": "sessions"})).replace(b"\r\n", b"\n\n")
    assert json.loads(bootstrap.parse_stdin_frame(frame)[1])["ops"] == [{"op": "sessions"}]


@pytest.mark.parametrize("data", [b"", b"only-one-line\r\n", b"@@@\r\n@@@\r\n", "é\r\né".encode()])
def test_parse_stdin_frame_refuses_bad_frames(data: bytes) -> None:
    with pytest.raises(ValueError):
        bootstrap.parse_stdin_frame(data)


def test_request_base64_is_utf8_json() -> None:
    request = one({"op": "feature_install", "name": "RDS-RD-Server"})
    assert json.loads(base64.b64decode(bootstrap.request_base64(request)).decode("utf-8")) == request


def test_encoded_command_round_trip() -> None:
    encoded = bootstrap.encode_powershell(bootstrap.BOOTSTRAP_PS1)
    assert base64.b64decode(encoded)[:2] == "$".encode("utf-16-le")
    assert bootstrap.decode_powershell(encoded) == bootstrap.BOOTSTRAP_PS1


def test_command_line_stays_far_below_cmd_limit() -> None:
    line = bootstrap.command_line()
    assert line.startswith(
        "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand "
    )
    assert len(line) < 8191 // 2
    decoded = bootstrap.decode_powershell(line.rsplit(" ", 1)[1])
    assert decoded == bootstrap.normalize_script(bootstrap.BOOTSTRAP_PS1)


def test_bootstrap_carries_no_request_data() -> None:
    # Data never becomes code: the command line is the same whatever the request says.
    assert "RequestBase64" in bootstrap.BOOTSTRAP_PS1
    assert bootstrap.command_line() == bootstrap.command_line()
    assert "HKLM" not in bootstrap.decode_powershell(bootstrap.command_line().rsplit(" ", 1)[1])
