"""The five action plugins run through a fake winrm/psrp connection (see conftest.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from action_harness import MODULES, SECRET, ActionFactory, ActionRun, canned_response
from ansible.errors import AnsibleActionFail

from vipctl.executor import script_bytes
from vipctl.executor.bootstrap import parse_stdin_frame

STANDARD_KEYS = {"changed", "failed", "msg", "reboot_required", "backups"}
READ_ONLY = {"vip_status", "vip_bindings"}
WRITERS = [module for module in MODULES if module not in READ_ONLY]
# vip_rollback lists the backup sets, then restores them: file names are known only after the list.
EXEC_COMMANDS = {"vip_rollback": 2}


@pytest.mark.parametrize("module", MODULES)
def test_one_exec_command_per_module_call(make_action: ActionFactory, module: str) -> None:
    run = make_action(module)
    result = run.run()
    assert len(run.connection.calls) == EXEC_COMMANDS.get(module, 1), result
    for call in run.connection.calls:
        # The shipped executor travels on stdin, behind the bootstrap the shell plugin encoded.
        assert call["script"] == script_bytes()
        assert "-EncodedCommand" in call["cmd"]
        assert call["request"]["ops"], "the request carries the module's ops"


@pytest.mark.parametrize("module", MODULES)
def test_result_has_the_standard_keys(make_action: ActionFactory, module: str) -> None:
    result = make_action(module).run()
    assert set(result) >= STANDARD_KEYS, sorted(result)
    assert isinstance(result["changed"], bool)
    assert isinstance(result["failed"], bool)
    assert isinstance(result["backups"], list)
    assert isinstance(result["reboot_required"], bool)


@pytest.mark.parametrize("module", MODULES)
def test_unknown_option_fails_before_exec_command(make_action: ActionFactory, module: str) -> None:
    run = make_action(module, {"no_such_option": 1})
    with pytest.raises(AnsibleActionFail, match="no_such_option"):
        run.run()
    assert run.connection.calls == []


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("rds_ip_virtualization", {"mode": "sideways"}),
        ("rds_ip_virtualization", {"install_role": "perhaps"}),
        ("vip_bindings", {"port": "eighty"}),
        ("vip_bindings", {"expect": {"feature": "auto"}}),
        ("citrix_virtual_loopback", {"filters": [{"type": "User", "name": "x"}]}),
        ("citrix_prefer_loopback", {"processes": "not-a-list", "force": "sometimes"}),
        ("vip_status", {"scope": "forest"}),
        ("vip_rollback", {"sets": {"not": "a list"}}),
    ],
)
def test_invalid_values_fail_before_exec_command(
    make_action: ActionFactory, module: str, args: dict[str, Any]
) -> None:
    run = make_action(module, args)
    with pytest.raises(AnsibleActionFail):
        run.run()
    assert run.connection.calls == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-11-26T12:00:00Z", "sets": ["20261126T120001Z-x"]}, "since"),
        ({"backup_root": "backups"}, "backup_root"),
    ],
)
def test_rollback_settings_errors_name_the_option(
    make_action: ActionFactory, args: dict[str, Any], field: str
) -> None:
    run = make_action("vip_rollback", args)
    result = run.run()
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith(f"{field}:"), result["msg"]
    assert run.connection.calls == []


@pytest.mark.parametrize("connection", ["ssh", "ansible.builtin.ssh", "ansible.builtin.local"])
@pytest.mark.parametrize("module", MODULES)
def test_unsupported_connection_is_refused(make_action: ActionFactory, module: str, connection: str) -> None:
    run = make_action(module, connection=connection)
    result = run.run()
    assert result["failed"] is True
    assert result["changed"] is False
    assert "winrm" in result["msg"]
    assert "psrp" in result["msg"]
    assert connection.rsplit(".", 1)[-1] in result["msg"]
    assert run.connection.calls == []


@pytest.mark.parametrize("connection", ["winrm", "psrp", "ansible.builtin.psrp"])
def test_winrm_and_psrp_are_accepted(make_action: ActionFactory, connection: str) -> None:
    run = make_action("vip_status", connection=connection)
    result = run.run()
    assert len(run.connection.calls) == 1
    assert "connection" not in str(result.get("msg", ""))


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("check_mode", [True, False])
def test_check_mode_reaches_the_request(make_action: ActionFactory, module: str, check_mode: bool) -> None:
    run = make_action(module, check_mode=check_mode)
    run.run()
    # The read-only modules ask for a check-mode run always: they must never write.
    assert run.connection.requests[0]["check"] is (check_mode or module in READ_ONLY)


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("check_mode", [True, False])
def test_diff_is_dropped_when_diff_mode_is_off(
    make_action: ActionFactory, module: str, check_mode: bool
) -> None:
    result = make_action(module, check_mode=check_mode, diff=False).run()
    assert result["failed"] is False, result["msg"]
    assert "diff" not in result


@pytest.mark.parametrize("module", WRITERS)
def test_diff_is_returned_when_diff_mode_is_on(make_action: ActionFactory, module: str) -> None:
    # Nothing is configured on the canned host, so every writing module reports a change.
    result = make_action(module, check_mode=True, diff=True).run()
    assert result["failed"] is False, result["msg"]
    assert result["changed"] is True, result
    assert {"before", "after"} <= set(result["diff"])
    assert result["diff"]["before"] != result["diff"]["after"]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("connection", ["winrm", "ssh"])
def test_no_password_in_results(make_action: ActionFactory, module: str, connection: str) -> None:
    run = make_action(module, check_mode=True, diff=True, connection=connection)
    result = run.run()
    assert SECRET not in json.dumps(result, default=str)
    for request in run.connection.requests:
        assert SECRET not in json.dumps(request)


def test_a_response_that_is_not_json_fails_the_task(make_action: ActionFactory) -> None:
    run = make_action("vip_status")

    def garbage(cmd: str, in_data: bytes | None = None, sudoable: bool = True) -> tuple[int, bytes, bytes]:
        run.connection.calls.append({"cmd": cmd})
        return 1, b"not json", b"the executor could not start"

    run.connection.exec_command = garbage  # type: ignore[method-assign]
    result = run.run()
    assert result["failed"] is True
    assert "rdsh01" in result["msg"]
    assert "the executor could not start" in result["msg"]
    assert len(run.connection.calls) == 1


def test_executor_stderr_is_quoted_without_the_password() -> None:
    from vipctl.action_plugin.connection_runner import ConnectionRunner, ExecutorTransportError

    class Leaky:
        _load_name = "ansible.builtin.winrm"

        class _shell:
            @staticmethod
            def _encode_script(*_: object, **__: object) -> str:
                return "PowerShell -EncodedCommand x"

        def get_option(self, name: str) -> str:
            return "Sup3r-Secret!" if name == "remote_password" else ""

        def exec_command(self, *_: object, **__: object) -> tuple[int, bytes, bytes]:
            return 1, b"", b"logon failed for vipadmin with Sup3r-Secret!"

    runner = ConnectionRunner(Leaky(), "vda01")
    with pytest.raises(ExecutorTransportError) as caught:
        runner({"v": 1, "check": True, "backup_dir": None, "ops": []})
    assert "Sup3r-Secret!" not in str(caught.value) and "********" in str(caught.value)


def _answering(run: ActionRun, rc: int, stdout: bytes) -> None:
    def answer(cmd: str, in_data: bytes | None = None, sudoable: bool = True) -> tuple[int, bytes, bytes]:
        run.connection.calls.append({"cmd": cmd})
        return rc, stdout, b""

    run.connection.exec_command = answer  # type: ignore[method-assign]


FACTS_ONLY = {
    "op": "host_facts",
    "id": "facts",
    "ok": True,
    "changed": False,
    "data": {"computer_name": "RDSH01"},
}


@pytest.mark.parametrize(
    ("rc", "document", "fragment"),
    [
        (0, {"v": 2, "ok": True, "results": [], "backups": []}, "unsupported protocol version 2"),
        (0, {"v": 1, "ok": False, "results": [FACTS_ONLY], "backups": []}, "ok disagrees"),
        (0, {"v": 1, "ok": True, "results": [{"op": "host_facts", "ok": True}], "backups": []}, "lacks"),
        (3, {"v": 1, "ok": True, "results": [], "backups": []}, "exited with code 3"),
    ],
)
def test_the_ansible_path_decodes_with_the_protocol_codec(
    make_action: ActionFactory, rc: int, document: dict[str, Any], fragment: str
) -> None:
    # The same checks as the CLI's transports: version, ok against the results, exit code.
    run = make_action("vip_status")
    _answering(run, rc, json.dumps(document).encode())
    result = run.run()
    assert result["failed"] is True
    assert fragment in result["msg"] and "rdsh01" in result["msg"]


def test_the_ansible_path_skips_clixml_progress_lines(make_action: ActionFactory) -> None:
    run = make_action("vip_status")
    request: dict[str, Any] = {}

    def answer(cmd: str, in_data: bytes | None = None, sudoable: bool = True) -> tuple[int, bytes, bytes]:
        request.update(json.loads(parse_stdin_frame(in_data or b"")[1]))
        progress = b'#< CLIXML\r\n<Objs Version="1.1.0.1"><Obj S="progress" RefId="0"/></Objs>\r\n'
        return 0, progress + json.dumps(canned_response(request)).encode(), b""

    run.connection.exec_command = answer  # type: ignore[method-assign]
    result = run.run()
    assert result.get("failed") is False, result["msg"]
    assert result["os"]["computer_name"] == "RDSH01"


def test_a_refused_request_reaches_the_task_as_the_host_error(make_action: ActionFactory) -> None:
    run = make_action("vip_status")
    refused = {
        "v": 1,
        "ok": False,
        "error": {"kind": "bad_request", "message": "vipctl bootstrap: expected two base64 lines on stdin"},
        "results": [],
        "backups": [],
    }
    _answering(run, 1, json.dumps(refused).encode())
    result = run.run()
    assert result["failed"] is True
    assert "bad_request" in result["msg"] and "two base64 lines" in result["msg"]
