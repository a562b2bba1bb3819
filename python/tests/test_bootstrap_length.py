"""The bootstrap's command line fits cmd.exe's 8,191 characters, however Ansible wraps it.

Measured on Ansible's own code: the PowerShell shell plugin's encoder and the winrm connection's
`exec_command`, with only the network call (`_winrm_exec`) replaced by a recorder. A winrm
connection that does not recognise a command as already encoded (ansible-core's own before it
learnt to skip that, or our command line, which uses powershell.exe and -ExecutionPolicy Bypass)
encodes it a second time: UTF-16LE then base64, 8/3 of its length.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import pytest
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader, init_plugin_loader
from ansible.plugins.shell.powershell import ShellModule

from vipctl.action_plugin.connection_runner import ConnectionRunner
from vipctl.executor import bootstrap
from vipctl.sim.winrs_command_line import is_bootstrap, powershell_script

REQUEST: dict[str, Any] = {"v": 1, "check": True, "backup_dir": None, "ops": [{"op": "host_facts"}]}


class RecordingWinrm:
    """Ansible's real winrm connection plugin; `_winrm_exec` records the command line it would send."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "already configured" when another test loaded plugins first
            init_plugin_loader()
        context = PlayContext()
        context.remote_addr = "127.0.0.1"
        self.plugin = connection_loader.get("winrm", context, io.StringIO())
        self.plugin._connected = True  # nothing to dial: the command line is what is measured
        self.sent: list[str] = []
        self.plugin._winrm_exec = self._record

    def _record(self, command: str, args: list[str], **kwargs: Any) -> tuple[int, bytes, bytes]:
        # pywinrm sends Command and Arguments apart; WinRS starts the process with both, space-joined.
        self.sent.append(" ".join([command, *args]))
        return 0, b'{"v":1,"ok":true,"results":[],"backups":[]}', b""


def test_command_line_fits_its_budget() -> None:
    line = bootstrap.command_line()
    assert len(line) <= bootstrap.COMMAND_LINE_BUDGET
    assert is_bootstrap(powershell_script(line) or "")


@pytest.mark.parametrize(("strict_mode", "preserve_rc"), [(False, False), (True, True)])
def test_doubly_encoded_command_line_fits_cmd_limit(strict_mode: bool, preserve_rc: bool) -> None:
    # The shell plugin wrapping our whole command line once more, with and without its additions.
    line = ShellModule()._encode_script(
        bootstrap.command_line(), as_list=False, strict_mode=strict_mode, preserve_rc=preserve_rc
    )
    assert len(line) > 2 * len(bootstrap.command_line())  # it really is encoded twice
    assert len(line) <= bootstrap.CMD_LINE_LIMIT
    assert is_bootstrap(powershell_script(line) or "")


def test_ansible_winrm_exec_command_sends_a_line_within_cmd_limit() -> None:
    winrm = RecordingWinrm()
    response = ConnectionRunner(winrm.plugin, "rdsh01")(REQUEST)
    assert response.ok is True
    (line,) = winrm.sent
    assert len(line) <= bootstrap.CMD_LINE_LIMIT
    assert is_bootstrap(powershell_script(line) or "")


def test_ansible_winrm_double_encoding_of_our_command_line_fits_cmd_limit() -> None:
    # Our own command line handed to exec_command is not in Ansible's encoded form: it is encoded again.
    winrm = RecordingWinrm()
    winrm.plugin.exec_command(bootstrap.command_line(), in_data=bootstrap.stdin_frame(REQUEST))
    (line,) = winrm.sent
    assert len(line) > 2 * len(bootstrap.command_line())
    assert len(line) <= bootstrap.CMD_LINE_LIMIT
    assert is_bootstrap(powershell_script(line) or "")


def test_docstring_states_the_measured_lengths() -> None:
    # The module's claim about its length is the one this file measures.
    doc = bootstrap.__doc__ or ""
    assert "COMMAND_LINE_BUDGET" in doc and "8191" in doc


def test_any_line_within_the_budget_still_fits_when_encoded_again() -> None:
    # The budget is what keeps the margin: a line of exactly that length, wrapped with Ansible's
    # additions and encoded a second time, must still be accepted by cmd.exe.
    prefix = bootstrap.command_line().rsplit(" ", 1)[0] + " "
    longest = prefix + "A" * (bootstrap.COMMAND_LINE_BUDGET - len(prefix))
    line = ShellModule()._encode_script(longest, as_list=False, strict_mode=True, preserve_rc=True)
    assert len(line) <= bootstrap.CMD_LINE_LIMIT
