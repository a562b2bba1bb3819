"""`PsrpShell` driven by psrpcore's client classes, bytes only: what pypsrp and Ansible rely on."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from ansible.plugins.shell.powershell import ShellModule
from psrpcore import (
    ClientGetCommandMetadata,
    ClientPowerShell,
    ClientRunspacePool,
    GetRunspaceAvailabilityEvent,
    PipelineHostCallEvent,
    PipelineOutputEvent,
    PipelineStateEvent,
    PSRPEvent,
    PSRPPayload,
    RunspacePoolStateEvent,
    SetRunspaceAvailabilityEvent,
    StreamType,
)
from psrpcore.types import (
    ErrorRecord,
    HostInfo,
    HostMethodIdentifier,
    PSInvocationState,
    RunspacePoolState,
)
from pypsrp.messages import SetMaxRunspaces, SetMinRunspaces
from pypsrp.powershell import Fragmenter
from pypsrp.serializer import Serializer

from vipctl.executor import bootstrap, script_text
from vipctl.sim.errors import ScriptRejected
from vipctl.sim.psrp import PsrpShell
from vipctl.sim.psrp.outbox import Outbox

REQUEST = {"v": 1, "check": False, "backup_dir": None, "ops": [{"op": "host_facts", "id": "facts"}]}
TERMINATE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate"
PS_CTRL_C = "powershell/signal/crtl_c"


class FakeHost:
    """Stands in for the host model: accepts only the shipped executor, answers canned JSON."""

    def __init__(self, exit_code: int = 0, padding: int = 0) -> None:
        self.calls: list[tuple[str, str]] = []
        self.exit_code = exit_code
        self.padding = padding

    def run_executor(self, script_text_: str, request_json: str) -> tuple[str, int]:
        if script_text_ != script_text():
            raise ScriptRejected(script_text_.strip().splitlines()[0] if script_text_.strip() else "")
        self.calls.append((script_text_, request_json))
        ops = json.loads(request_json)["ops"]
        results = [
            {"op": op["op"], "ok": True, "changed": False, "data": {"pad": "x" * self.padding}} for op in ops
        ]
        return json.dumps({"v": 1, "ok": True, "results": results, "backups": []}) + "\n", self.exit_code


class Client:
    """A psrpcore client runspace pool wired to a `PsrpShell` the way the WS-Man front door is."""

    def __init__(self, shell: PsrpShell, with_host: bool = True) -> None:
        self.shell = shell
        host = HostInfo(IsHostNull=False, IsHostUINull=False, IsHostRawUINull=True, UseRunspaceHost=False)
        self.pool = ClientRunspacePool(host=host if with_host else None)
        self.pool.open()
        assert shell.create(self._outgoing()) is None
        self.pool_events = self.drain_pool()
        assert self.pool.state == RunspacePoolState.Opened

    def _outgoing(self) -> bytes:
        data = b""
        while (payload := self.pool.data_to_send()) is not None:
            data += payload.data
        return data

    def flush(self, command_id: str | None = None) -> None:
        """Send what the client queued: pool messages and pipeline input / host responses."""
        while (payload := self.pool.data_to_send()) is not None:
            stream = "pr" if payload.stream_type == StreamType.prompt_response else "stdin"
            target = command_id if payload.pipeline_id is not None and stream == "stdin" else None
            self.shell.send(target, stream, payload.data, end=False)

    def drain_pool(self) -> list[PSRPEvent[Any, Any]]:
        events: list[PSRPEvent[Any, Any]] = []
        while (result := self.shell.receive(None)) is not None:
            assert not result.done and result.exit_code is None
            for chunk in result.chunks:
                assert chunk.name == "stdout"
                self.pool.receive_data(PSRPPayload(chunk.data, StreamType.default, None))
            while (event := self.pool.next_event()) is not None:
                events.append(event)
        return events

    def start(self, ps: ClientPowerShell | ClientGetCommandMetadata) -> str:
        ps.start()
        payload = self.pool.data_to_send()
        assert payload is not None and payload.pipeline_id == ps.pipeline_id
        command_id = str(ps.pipeline_id).upper()
        self.shell.command(command_id, "", [payload.data])
        self.flush(command_id)
        return command_id

    def collect(self, command_id: str, limit: int = 100) -> tuple[list[PSRPEvent[Any, Any]], int]:
        """Receive until the command is done; returns the events and how many Receives it took."""
        events: list[PSRPEvent[Any, Any]] = []
        for receives in range(1, limit + 1):
            result = self.shell.receive(command_id)
            assert result is not None, "a finished pipeline always has something to say"
            for chunk in result.chunks:
                assert chunk.name == "stdout" and chunk.command_id == command_id
                self.pool.receive_data(PSRPPayload(chunk.data, StreamType.default, uuid.UUID(command_id)))
            while (event := self.pool.next_event()) is not None:
                events.append(event)
            if result.done:
                assert result.chunks[-1].end if result.chunks else True
                return events, receives
        raise AssertionError("the command never finished")

    def run(self, ps: ClientPowerShell | ClientGetCommandMetadata) -> list[PSRPEvent[Any, Any]]:
        return self.collect(self.start(ps))[0]


def _executor(
    client: Client, request: dict[str, Any] | None = None, script: str | None = None
) -> ClientPowerShell:
    ps = ClientPowerShell(client.pool)
    ps.add_script(script_text() if script is None else script)
    ps.add_parameter("RequestBase64", bootstrap.request_base64(request or REQUEST))
    return ps


def _outputs(events: list[PSRPEvent[Any, Any]]) -> list[Any]:
    return [event.data for event in events if isinstance(event, PipelineOutputEvent)]


def _final_state(events: list[PSRPEvent[Any, Any]]) -> PipelineStateEvent:
    states = [event for event in events if isinstance(event, PipelineStateEvent)]
    assert states, "no PIPELINE_STATE received"
    return states[-1]


def _exit_calls(events: list[PSRPEvent[Any, Any]]) -> list[list[Any]]:
    return [
        event.method_parameters
        for event in events
        if isinstance(event, PipelineHostCallEvent)
        and event.method_identifier == HostMethodIdentifier.SetShouldExit
    ]


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()


@pytest.fixture
def client(host: FakeHost) -> Client:
    return Client(PsrpShell(host))


def test_pool_opens_from_creation_xml_and_answers_on_the_pool_receive(client: Client) -> None:
    states = [event.state for event in client.pool_events if isinstance(event, RunspacePoolStateEvent)]
    assert states == [RunspacePoolState.Opened]
    assert client.pool.their_capability is not None
    assert client.pool.application_private_data["PSVersionTable"]["PSRemotingProtocolVersion"]
    assert client.shell.receive(None) is None  # nothing more: the front door sends its timeout fault


def test_executor_runs_with_request_base64_and_writes_one_json_string(client: Client, host: FakeHost) -> None:
    events = client.run(_executor(client))
    assert [script for script, _ in host.calls] == [script_text()]
    assert [json.loads(request) for _, request in host.calls] == [REQUEST]
    (output,) = _outputs(events)
    assert isinstance(output, str)
    assert json.loads(output)["results"][0]["op"] == "host_facts"
    assert _final_state(events).state == PSInvocationState.Completed
    assert _exit_calls(events) == [[0]]


def test_bootstrap_reads_the_two_line_frame_from_pipeline_input(client: Client, host: FakeHost) -> None:
    # What Ansible's psrp connection makes of `PowerShell ... -EncodedCommand <bootstrap>` + stdin:
    # the decoded script, run in the runspace, the stdin lines as pipeline input.
    ps = ClientPowerShell(client.pool, no_input=False)
    ps.add_script(bootstrap.BOOTSTRAP_PS1)
    command_id = client.start(ps)
    assert client.shell.receive(command_id) is not None  # the Running state
    assert client.shell.receive(command_id) is None  # waiting for its input
    for line in bootstrap.stdin_frame(REQUEST).decode("ascii").splitlines():
        ps.send(line)
    ps.send_eof()
    client.flush(command_id)
    events, _ = client.collect(command_id)
    assert [json.loads(request) for _, request in host.calls] == [REQUEST]
    assert json.loads(_outputs(events)[0])["ok"] is True
    assert _exit_calls(events) == [[0]]
    assert _final_state(events).state == PSInvocationState.Completed


def test_bootstrap_as_encoded_by_ansibles_powershell_shell_plugin_is_recognised(
    client: Client, host: FakeHost
) -> None:
    # An adapter may build the command with the play's shell plugin (`_encode_script`), which adds
    # Set-StrictMode and an exit-code line and strips every line; the psrp plugin decodes it.
    command = ShellModule()._encode_script(bootstrap.BOOTSTRAP_PS1)
    ps = ClientPowerShell(client.pool, no_input=False)
    ps.add_script(bootstrap.decode_powershell(command.split()[-1]), use_local_scope=True)
    command_id = client.start(ps)
    for line in bootstrap.stdin_frame(REQUEST).decode("ascii").splitlines():
        ps.send(line)
    ps.send_eof()
    client.flush(command_id)
    events, _ = client.collect(command_id)
    assert [json.loads(request) for _, request in host.calls] == [REQUEST]
    assert _exit_calls(events) == [[0]]


def test_bootstrap_without_a_frame_answers_bad_request_and_exit_code_1(
    client: Client, host: FakeHost
) -> None:
    ps = ClientPowerShell(client.pool, no_input=False)
    ps.add_script(bootstrap.BOOTSTRAP_PS1)
    command_id = client.start(ps)
    ps.send("only one line")
    ps.send_eof()
    client.flush(command_id)
    events, _ = client.collect(command_id)
    reply = json.loads(_outputs(events)[0])
    assert reply["ok"] is False and reply["error"]["kind"] == "bad_request"
    assert _exit_calls(events) == [[1]]
    assert host.calls == []


def test_bootstrap_frame_with_bad_base64_fails_the_pipeline(client: Client) -> None:
    ps = ClientPowerShell(client.pool, no_input=False)
    ps.add_script(bootstrap.BOOTSTRAP_PS1)
    command_id = client.start(ps)
    ps.send("not*base64")
    ps.send("still not")
    ps.send_eof()
    client.flush(command_id)
    state = _final_state(client.collect(command_id)[0])
    assert state.state == PSInvocationState.Failed
    assert state.reason is not None and "FromBase64String" in str(state.reason)


def test_bootstrap_started_as_a_child_process_sees_no_stdin(client: Client, host: FakeHost) -> None:
    # Ansible's psrp connection runs any other command line as `<line>\nexit $LASTEXITCODE`;
    # the child powershell.exe does not get the runspace's pipeline input.
    ps = ClientPowerShell(client.pool, no_input=False)
    ps.add_script(f"{bootstrap.command_line()}\nexit $LASTEXITCODE")
    command_id = client.start(ps)
    for line in bootstrap.stdin_frame(REQUEST).splitlines():
        ps.send(line.decode("ascii"))
    ps.send_eof()
    client.flush(command_id)
    events, _ = client.collect(command_id)
    assert json.loads(_outputs(events)[0])["error"]["message"].startswith("vipctl bootstrap: expected two")
    assert _exit_calls(events) == [[1]]
    assert host.calls == []


def test_foreign_script_fails_with_an_error_record_naming_its_first_line(
    client: Client, host: FakeHost
) -> None:
    ps = ClientPowerShell(client.pool)
    ps.add_script("\n  Get-Process | Stop-Process\nRemove-Item C:\\ -Recurse")
    events = client.run(ps)
    state = _final_state(events)
    assert state.state == PSInvocationState.Failed
    record = state.reason
    assert isinstance(record, ErrorRecord)
    assert "Get-Process | Stop-Process" in str(record)
    assert record.FullyQualifiedErrorId == "CommandNotFoundException"
    assert record.CategoryInfo.Reason == "CommandNotFoundException"
    assert _outputs(events) == [] and _exit_calls(events) == []
    assert host.calls == []


def test_invoke_expression_wrapper_of_execute_ps_names_the_wrapped_script(client: Client) -> None:
    ps = ClientPowerShell(client.pool)
    ps.add_command("Invoke-Expression").add_parameter("Command", "$PSVersionTable\nexit 3")
    ps.add_command("Out-String").add_parameter("Stream")
    state = _final_state(client.run(ps))
    assert state.state == PSInvocationState.Failed
    assert "'$PSVersionTable'" in str(state.reason)


def test_script_rejected_by_the_host_becomes_the_same_error(client: Client) -> None:
    events = client.run(_executor(client, script="# an older vipctl.ps1\nparam($RequestBase64)"))
    state = _final_state(events)
    assert state.state == PSInvocationState.Failed
    assert "# an older vipctl.ps1" in str(state.reason)


def test_request_that_is_not_base64_is_a_bad_request_with_exit_code_1(client: Client, host: FakeHost) -> None:
    ps = ClientPowerShell(client.pool)
    ps.add_script(script_text()).add_parameter("RequestBase64", "%%%")
    events = client.run(ps)
    assert json.loads(_outputs(events)[0])["error"]["kind"] == "bad_request"
    assert _exit_calls(events) == [[1]]
    assert host.calls == []


def test_exit_code_is_only_reported_to_a_client_that_has_a_host() -> None:
    host = FakeHost(exit_code=1)
    client = Client(PsrpShell(host), with_host=False)
    events = client.run(_executor(client))
    assert _exit_calls(events) == []
    assert len(_outputs(events)) == 1 and _final_state(events).state == PSInvocationState.Completed


def test_pool_runs_many_pipelines_one_after_another(client: Client, host: FakeHost) -> None:
    for n in range(5):
        request = {**REQUEST, "ops": [{"op": "registry_get", "path": f"HKLM\\SOFTWARE\\K{n}"}]}
        events = client.run(_executor(client, request))
        assert _final_state(events).state == PSInvocationState.Completed
        foreign = ClientPowerShell(client.pool).add_script(f"Write-Output {n}")
        assert _final_state(client.run(foreign)).state == PSInvocationState.Failed
    assert [json.loads(request)["ops"][0]["path"] for _, request in host.calls] == [
        f"HKLM\\SOFTWARE\\K{n}" for n in range(5)
    ]


def test_large_output_is_fragmented_over_several_receives() -> None:
    host = FakeHost(padding=200_000)
    client = Client(PsrpShell(host, Outbox(fragment_size=16 * 1024, receive_budget=48 * 1024)))
    events, receives = client.collect(client.start(_executor(client)))
    assert receives >= 4
    assert len(json.loads(_outputs(events)[0])["results"][0]["data"]["pad"]) == 200_000


def test_signal_stops_a_pipeline_waiting_for_input(client: Client, host: FakeHost) -> None:
    ps = ClientPowerShell(client.pool, no_input=False)
    ps.add_script(bootstrap.BOOTSTRAP_PS1)
    command_id = client.start(ps)
    client.shell.signal(command_id, PS_CTRL_C)
    state = _final_state(client.collect(command_id)[0])
    assert state.state == PSInvocationState.Stopped
    assert host.calls == []
    # The pool keeps working after a stopped pipeline.
    assert _final_state(client.run(_executor(client))).state == PSInvocationState.Completed


def test_signals_for_finished_or_unknown_commands_are_harmless(client: Client) -> None:
    command_id = client.start(_executor(client))
    client.collect(command_id)
    # Ansible stops its previous pipeline before each new one; pypsrp's close() terminates.
    client.shell.signal(command_id, PS_CTRL_C)
    client.shell.signal(command_id, TERMINATE)
    client.shell.signal(str(uuid.uuid4()).upper(), TERMINATE)
    with pytest.raises(ValueError, match="no command"):
        client.shell.receive(command_id)


def test_terminate_forgets_a_running_pipeline(client: Client) -> None:
    ps = ClientPowerShell(client.pool, no_input=False)
    ps.add_script(bootstrap.BOOTSTRAP_PS1)
    command_id = client.start(ps)
    client.shell.signal(command_id, TERMINATE)
    with pytest.raises(ValueError, match="no command"):
        client.shell.receive(command_id)


def test_runspace_availability_messages_are_answered(client: Client) -> None:
    ci = client.pool.get_available_runspaces()
    client.flush()
    (available,) = [e for e in client.drain_pool() if isinstance(e, GetRunspaceAvailabilityEvent)]
    assert available.ci == ci and available.count == 1
    client.pool.set_max_runspaces(4)
    client.pool.set_min_runspaces(2)
    client.pool.reset_runspace_state()
    client.flush()
    answers = [e for e in client.drain_pool() if isinstance(e, SetRunspaceAvailabilityEvent)]
    assert [answer.success for answer in answers] == [True, True, True]
    assert (client.pool.min_runspaces, client.pool.max_runspaces) == (2, 4)


def test_command_metadata_requests_are_refused(client: Client) -> None:
    state = _final_state(client.run(ClientGetCommandMetadata(client.pool, "Get-*")))
    assert state.state == PSInvocationState.Failed
    assert "Get-Command Get-*" in str(state.reason)


def test_close_ends_the_pool_and_refuses_further_commands(client: Client) -> None:
    ps = ClientPowerShell(client.pool, no_input=False)
    ps.add_script(bootstrap.BOOTSTRAP_PS1)
    client.start(ps)
    client.shell.close()
    client.shell.close()  # Delete may be retried
    with pytest.raises(ValueError, match="closed"):
        client.start(_executor(client))


def test_create_without_creation_xml_is_refused(host: FakeHost) -> None:
    with pytest.raises(ValueError, match="creationXml"):
        PsrpShell(host).create(None)


def test_command_without_arguments_is_refused(client: Client) -> None:
    with pytest.raises(ValueError, match="CREATE_PIPELINE"):
        client.shell.command("A", "", [])


def test_pypsrp_upper_case_call_id_of_set_max_runspaces_is_understood(client: Client) -> None:
    # pypsrp serialises SET_MAX/MIN_RUNSPACES' call id as `CI`; PowerShell reads it case-insensitively.
    fragmenter = Fragmenter(64 * 1024, Serializer())
    rpid = str(client.pool.runspace_pool_id)
    for message in (SetMaxRunspaces(max_runspaces=5, ci=7), SetMinRunspaces(min_runspaces=2, ci=8)):
        for fragment in fragmenter.fragment(message, rpid):
            client.shell.send(None, "stdin", fragment, end=False)
    client.pool._ci_handlers.update({7: None, 8: None})  # the calls came from outside this client
    answers = [e for e in client.drain_pool() if isinstance(e, SetRunspaceAvailabilityEvent)]
    assert [(answer.ci, answer.success) for answer in answers] == [(7, True), (8, True)]
