"""Odd input is a SettingsError (CLI: exit 3 with a message) before any host is contacted.

Property: for every option of every module, any value gives either a request the executor
protocol accepts and that travels as UTF-8, or a SettingsError; never another exception. The same
for every CLI argument: exit 3 with a message, or the run reaches a host with a valid request.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vipctl.cli import jobs, main
from vipctl.cli.commands.script import build_request_for
from vipctl.executor import bootstrap
from vipctl.executor.codec import build_request
from vipctl.settings import SettingsError
from vipctl.tasks.vip_rollback import run_vip_rollback

# Text a user or a copy-paste can produce that str methods misread: non-ASCII digits, line and
# paragraph separators, lone surrogates, bidi and zero-width characters, very long digit runs.
ODD_TEXT = st.sampled_from(
    [
        "²",
        "١٢",
        "٣",
        "1_000",
        "+5",
        " 7 ",
        "-0",
        "9" * 5000,
        "\ud800",
        "app\udcff.exe",
        "a\u2028b.exe",
        "a\u0085b.exe",
        "\u202eexe.gpj",
        "crm\u200bclient.exe",
        "\ufeffapp.exe",
        "..",
        ".",
        "C:\\x\\..\\y",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "",
        " ",
        "\x00",
        "\x1b[31m.exe",
    ]
)
CHARS = st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr))
TEXT = st.one_of(ODD_TEXT, st.text(CHARS, max_size=30))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT)
VALUE = st.one_of(
    SCALAR,
    st.lists(SCALAR, max_size=4),
    st.dictionaries(TEXT, SCALAR, max_size=3),
    st.lists(
        st.dictionaries(st.sampled_from(["type", "name", "value", "enabled", "mode"]), SCALAR), max_size=2
    ),
)

BASES: dict[str, dict[str, Any]] = {
    "rds_ip_virtualization": {
        "state": "enabled",
        "mode": "per_program",
        "programs": ["app.exe"],
        "method": "policy",
        "winsock_fix": "auto",
        "install_role": False,
    },
    "citrix_virtual_loopback": {
        "policy_name": "vipctl virtual loopback",
        "state": "present",
        "enabled": True,
        "programs": ["app.exe"],
    },
    "citrix_prefer_loopback": {"enabled": True, "processes": ["app.exe"], "force": False},
    "vip_bindings": {"process": None, "port": None, "protocol": None, "state": None, "expect": None},
    "vip_status": {"policy_name": None, "scope": None, "gpo": None, "controller": None},
}
FIELDS = sorted(
    [(module, name) for module, base in BASES.items() for name in base]
    + [
        ("rds_ip_virtualization", "adapter"),
        ("rds_ip_virtualization", "fallback_to_server_ip"),
        ("rds_ip_virtualization", "virtualize_loopback"),
        ("citrix_virtual_loopback", "priority"),
        ("citrix_virtual_loopback", "description"),
        ("citrix_virtual_loopback", "gpo"),
        ("citrix_virtual_loopback", "filters"),
        ("vip_bindings", "include_system"),
        ("vip_bindings", "expect.programs"),
        ("vip_bindings", "expect.port"),
        ("vip_bindings", "expect.feature"),
    ]
)
ROLLBACK_FIELDS = ("since", "sets", "backup_root")


def _assert_valid(request: Mapping[str, Any]) -> None:
    """What the executor would accept, and bytes the transports can send."""
    build_request(request["ops"], check=request["check"], backup_dir=request["backup_dir"])
    bootstrap.request_base64(dict(request))
    bootstrap.stdin_frame(dict(request))


def _params(module: str, name: str, value: Any) -> dict[str, Any]:
    params = json.loads(json.dumps(BASES[module]))
    if name.startswith("expect."):
        params["expect"] = {"programs": ["app.exe"], name.split(".", 1)[1]: value}
    else:
        params[name] = value
    return params


@pytest.mark.parametrize(("module", "name"), FIELDS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUE, check=st.booleans())
def test_any_value_of_any_module_option_is_a_valid_request_or_a_settings_error(
    module: str, name: str, value: Any, check: bool
) -> None:
    try:
        request = build_request_for(module, _params(module, name, value), check=check)
    except SettingsError:
        return
    _assert_valid(request)


class _Captured(Exception):
    pass


@pytest.mark.parametrize("name", ROLLBACK_FIELDS)
@settings(max_examples=60, deadline=None)
@given(value=VALUE)
def test_any_rollback_option_is_a_valid_request_or_a_settings_error(name: str, value: Any) -> None:
    sent: list[dict[str, Any]] = []

    def runner(request: dict[str, Any]) -> Mapping[str, Any]:
        sent.append(request)
        raise _Captured

    try:
        run_vip_rollback({name: value}, check=True, runner=runner)
    except SettingsError:
        assert not sent
        return
    except _Captured:
        pass
    _assert_valid(sent[0])


# ---------------------------------------------------------------- the CLI


class _NoContact:
    """Stands in for a host session: records each request and fails it, so nothing leaves."""

    requests: list[dict[str, Any]] = []

    def __init__(self, settings: Any) -> None:
        del settings
        self.requests = 0

    def __call__(self, request: dict[str, Any]) -> Mapping[str, Any]:
        _NoContact.requests.append(request)
        raise ConnectionRefusedError("the test stops here")

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("odd")
    inventory = base / "inventory.yml"
    inventory.write_text(
        "all:\n  hosts:\n    vda01: {ansible_host: 127.0.0.1, ansible_port: 1, ansible_user: u,"
        " ansible_password: p, ansible_winrm_transport: ntlm}\n  children:\n    rdsh:\n      hosts:\n"
        "        vda01:\n",
        encoding="utf-8",
    )
    desired = base / "desired.yml"
    desired.write_text(
        "vipctl_rds_ip_virtualization: {mode: per_program, programs: [app.exe]}\n", encoding="utf-8"
    )
    return {"inventory": inventory, "desired": desired}


def _cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(jobs, "HostSession", _NoContact)
    _NoContact.requests = []
    code = main(argv, stdout=out, stderr=err, stdin=io.StringIO())
    return code, out.getvalue(), err.getvalue()


COMMAND_LINES = [
    ("status", "-l", "{}"),
    ("status", "--forks", "{}"),
    ("audit", "-l", "{}"),
    ("apply", "-l", "{}", "--check", "-d", "@desired"),
    ("rollback", "--since", "{}"),
    ("rollback", "--set", "{}", "--check"),
    ("status", "-i", "{}"),
    ("apply", "-d", "{}", "--check"),
    ("script", "vip_status", "-d", "{}"),
    ("loopback", "{}"),
]


@pytest.mark.parametrize("template", COMMAND_LINES, ids=lambda t: " ".join(t))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=TEXT)
def test_any_cli_argument_exits_3_with_a_message_or_reaches_a_host_with_a_valid_request(
    template: tuple[str, ...], value: str, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    if value.startswith("-"):
        value = "x" + value  # argparse reads a leading dash as the next option
    argv = [
        value if part == "{}" else str(files["desired"]) if part == "@desired" else part for part in template
    ]
    if "-i" not in argv and template[0] not in ("script", "loopback"):
        argv[1:1] = ["-i", str(files["inventory"])]
    code, out, err = _cli(argv, monkeypatch)
    assert code in (0, 1, 2, 3), (argv, code, err)
    if code == 3:
        assert not _NoContact.requests and (err.startswith("vipctl: error:") or "usage:" in err), err
    for request in _NoContact.requests:
        _assert_valid(request)
    assert "Traceback" not in out + err


# ---------------------------------------------------------------- the cases issue 14 names


def _desired(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "desired.yml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("argv_tail", "content", "fragment"),
    [
        (
            ("apply", "--check"),
            "vipctl_citrix_virtual_loopback: {programs: [a.exe], priority: '²'}\n",
            "priority: invalid value '²'",
        ),
        (("verify",), "vipctl_verify: {programs: [a.exe], port: '²'}\n", "port: invalid value '²'"),
        (("apply", "--check"), b"vipctl_rds_ip_virtualization: {programs: [caf\xe9.exe]}\n", "not UTF-8"),
        (
            ("apply", "--check"),
            'vipctl_rds_ip_virtualization: {mode: per_program, programs: ["a\\ud800.exe"]}\n',
            "lone surrogate",
        ),
        (
            ("apply", "--check"),
            'vipctl_rds_ip_virtualization: {mode: per_program, programs: ["\\u202eexe.gpj"]}\n',
            "U+202E",
        ),
    ],
)
def test_odd_desired_state_is_exit_3_before_contact(
    argv_tail: tuple[str, ...],
    content: str | bytes,
    fragment: str,
    files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = [argv_tail[0], "-i", str(files["inventory"]), "-d", _desired(tmp_path, content), *argv_tail[1:]]
    code, _, err = _cli(argv, monkeypatch)
    assert code == 3 and fragment in err, err
    assert not _NoContact.requests


def test_a_lone_surrogate_makes_script_exit_3_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desired = _desired(
        tmp_path, 'vipctl_rds_ip_virtualization: {mode: per_program, programs: ["a\\udc80.exe"]}\n'
    )
    code, out, err = _cli(["script", "rds_ip_virtualization", "-d", desired], monkeypatch)
    assert code == 3 and "lone surrogate" in err and out == ""


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_rollback_since_out_of_range_is_exit_3(
    since: str, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _cli(["rollback", "-i", str(files["inventory"]), "--since", since], monkeypatch)
    assert code == 3 and "since" in err and "out of range" in err, err


@pytest.mark.parametrize("value", ["²", "٣", "9" * 5000])
def test_loopback_with_a_non_ascii_or_huge_number_is_exit_3(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _cli(["loopback", value], monkeypatch)
    assert code == 3 and err.startswith("vipctl: error:"), err
