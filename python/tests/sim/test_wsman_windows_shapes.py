"""The simulator's WS-Man replies have the shapes real Windows gives, exchange by exchange.

Each test sends the simulator the request a client sent in a recorded conversation with a real
Windows host and checks the reply's structure where clients depend on it: the addressing header
(exact Action, RelatesTo = the request's MessageID, To anonymous, a `uuid:` MessageID), body
element names and namespaces, attribute names, the children of `rsp:Shell` on Create, and the
SOAP fault layout. Values that belong to one machine (ids, addresses, owner names) are not
compared.

The expected shapes were written by hand from reading these recorded conversations in the public
pypsrp repository (https://github.com/jborean93/pypsrp), none of which is copied here:

- tests/tests_pypsrp/responses/test_winrs_stderr_rc.yml: cmd Create, Command, Receive with
  stdout + stderr output and CommandState Done + ExitCode, Signal, Delete.
- tests/tests_pypsrp/responses/test_winrs_operation_timeout.yml: cmd Create and the Receive
  fault w:TimedOut 2150858793.
- tests/tests_pypsrp/responses/test_winrs_bad_cmd_id.yml: Receive for an unknown CommandId,
  the w:InvalidSelectors fault 2150858843 with its w:FaultDetail.
- tests/tests_pypsrp/responses/test_psrp_with_input.yml: Microsoft.PowerShell Create, the
  pool's Receive, Command with a client-chosen CommandId, Send, Delete.
- tests/tests_pypsrp/responses/test_psrp_stream_no_output_invocation.yml: Microsoft.PowerShell
  Create (the same rsp:Shell children again, from a second session).
- tests/tests_pypsrp/responses/test_psrp_is_alive_invalid_selectors.yml: an IdleTimeOut asked
  for in Create echoed back with milliseconds, and the InvalidSelectors fault for a shell that
  no longer exists.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

import pytest
from psrpcore import ClientPowerShell, ClientRunspacePool, PSRPPayload, StreamType
from psrpcore.types import RunspacePoolState
from pypsrp.shell import WinRS
from pypsrp.wsman import WSMan

from vipctl.executor import bootstrap
from vipctl.sim.psrp import PsrpShell
from vipctl.sim.shell_api import Shell
from vipctl.sim.winrs_shell import WinrsShell
from vipctl.sim.wsman import Outcome, PendingReceive, WsmanEndpoint, ns

TO = "http://127.0.0.1:5985/wsman"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MESSAGE_ID = re.compile(r"^uuid:[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
GUID_UPPER = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
SIGNAL_CTRL_C = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c"
BOOT_ARGS = [
    *bootstrap.POWERSHELL_ARGS,
    "-EncodedCommand",
    bootstrap.encode_powershell(bootstrap.BOOTSTRAP_PS1),
]

# rsp:Shell children of a Create reply, in Windows' order (test_winrs_stderr_rc.yml,
# test_winrs_bad_cmd_id.yml: a cmd shell has no State and no ProcessId).
CMD_SHELL_CHILDREN = [
    "ShellId",
    "ResourceUri",
    "Owner",
    "ClientIP",
    "IdleTimeOut",
    "InputStreams",
    "OutputStreams",
    "ShellRunTime",
    "ShellInactivity",
]
# test_psrp_with_input.yml, test_psrp_stream_no_output_invocation.yml.
PSRP_SHELL_CHILDREN = [
    "ShellId",
    "ResourceUri",
    "Owner",
    "ClientIP",
    "ProcessId",
    "IdleTimeOut",
    "InputStreams",
    "OutputStreams",
    "MaxIdleTimeOut",
    "Locale",
    "DataLocale",
    "CompressionMode",
    "ProfileLoaded",
    "Encoding",
    "BufferMode",
    "State",
    "ShellRunTime",
    "ShellInactivity",
]
TIMED_OUT_TEXT = (
    "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "
)
INVALID_SELECTORS_TEXT = (
    "The WS-Management service cannot process the request because the request contained invalid selectors "
    "for the resource. "
)
UNKNOWN_COMMAND_TEXT = (
    "The Windows Remote Shell received a request to perform an operation on a command identifier that does "
    "not exist. Either the command has completed execution or the client specified an invalid command "
    "identifier. "
)


def q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def local(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def request(
    action: str,
    resource_uri: str,
    body: str = "",
    shell_id: str | None = None,
    options: dict[str, str] | None = None,
    timeout: str = "PT20S",
) -> tuple[bytes, str]:
    """A request envelope laid out like the recorded client requests; returns it and its MessageID."""
    message_id = f"uuid:{str(uuid.uuid4()).upper()}"
    option_set = ""
    if options:
        items = "".join(
            f"<wsman:Option Name={quoteattr(name)}>{escape(value)}</wsman:Option>"
            for name, value in options.items()
        )
        option_set = f'<wsman:OptionSet s:mustUnderstand="true">{items}</wsman:OptionSet>'
    selector_set = ""
    if shell_id is not None:
        selector = f'<wsman:Selector Name="ShellId">{shell_id}</wsman:Selector>'
        selector_set = f"<wsman:SelectorSet>{selector}</wsman:SelectorSet>"
    text = (
        f'<s:Envelope xmlns:rsp="{ns.SHELL}" xmlns:s="{ns.SOAP}" xmlns:wsa="{ns.ADDRESSING}" '
        f'xmlns:wsman="{ns.WSMAN}" xmlns:wsmv="{ns.MS_WSMAN}"><s:Header>'
        f'<wsa:Action s:mustUnderstand="true">{action}</wsa:Action>'
        f'<wsmv:DataLocale s:mustUnderstand="false" xml:lang="en-US" />'
        f'<wsman:Locale s:mustUnderstand="false" xml:lang="en-US" />'
        f'<wsman:MaxEnvelopeSize s:mustUnderstand="true">153600</wsman:MaxEnvelopeSize>'
        f"<wsa:MessageID>{message_id}</wsa:MessageID>"
        f"<wsman:OperationTimeout>{timeout}</wsman:OperationTimeout>"
        f'<wsa:ReplyTo><wsa:Address s:mustUnderstand="true">{ns.ANONYMOUS}</wsa:Address></wsa:ReplyTo>'
        f'<wsman:ResourceURI s:mustUnderstand="true">{resource_uri}</wsman:ResourceURI>'
        f"<wsa:To>{TO}</wsa:To>{option_set}{selector_set}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    )
    return text.encode("utf-8"), message_id


class Parsed:
    """A reply, parsed, with the header checks every recorded reply passes."""

    def __init__(self, outcome: Outcome, message_id: str, action: str) -> None:
        self.status = outcome.status
        self.root = ET.fromstring(outcome.body)
        assert self.root.tag == q(ns.SOAP, "Envelope")
        assert self.root.get(XML_LANG) == "en-US"
        header = self.root.find(q(ns.SOAP, "Header"))
        assert header is not None
        headers = {local(child): (child.tag, child.text) for child in header}
        assert headers["Action"] == (q(ns.ADDRESSING, "Action"), action)
        assert headers["RelatesTo"] == (q(ns.ADDRESSING, "RelatesTo"), message_id)
        assert headers["To"] == (q(ns.ADDRESSING, "To"), ns.ANONYMOUS)
        reply_id = headers["MessageID"]
        assert reply_id[0] == q(ns.ADDRESSING, "MessageID") and MESSAGE_ID.match(reply_id[1] or "")
        assert reply_id[1] != message_id
        body = self.root.find(q(ns.SOAP, "Body"))
        assert body is not None
        self.body = body

    def only_child(self, namespace: str, tag: str) -> ET.Element:
        children = list(self.body)
        assert [child.tag for child in children] == [q(namespace, tag)]
        return children[0]


def exchange(endpoint: WsmanEndpoint, action: str, resource_uri: str, **kwargs: Any) -> Parsed:
    """Send one request and check the reply is a 200 with the matching Response action."""
    data, message_id = request(action, resource_uri, **kwargs)
    outcome = endpoint.handle(data)
    if isinstance(outcome, PendingReceive):
        outcome = outcome.poll() or outcome.timed_out()
    parsed = Parsed(outcome, message_id, action + "Response")
    assert parsed.status == 200
    return parsed


def fault_exchange(endpoint: WsmanEndpoint, action: str, resource_uri: str, **kwargs: Any) -> Parsed:
    data, message_id = request(action, resource_uri, **kwargs)
    outcome = endpoint.handle(data)
    if isinstance(outcome, PendingReceive):
        assert outcome.poll() is None
        outcome = outcome.timed_out()
    parsed = Parsed(outcome, message_id, ns.FAULT_ACTION)
    assert parsed.status == 500  # Windows sends every fault with HTTP 500 (transport_error: code 500)
    return parsed


def check_fault(
    parsed: Parsed, code: str, subcode: str, reason: str, wsman_code: int, message: str, detail: str | None
) -> None:
    """s:Fault / s:Code / s:Value + s:Subcode, s:Reason / s:Text xml:lang, s:Detail / f:WSManFault."""
    fault = parsed.only_child(ns.SOAP, "Fault")
    assert [local(child) for child in fault] == ["Code", "Reason", "Detail"]
    code_node = fault.find(q(ns.SOAP, "Code"))
    assert code_node is not None
    assert [child.tag for child in code_node] == [q(ns.SOAP, "Value"), q(ns.SOAP, "Subcode")]
    assert code_node.findtext(q(ns.SOAP, "Value")) == code
    assert code_node.findtext(f"{q(ns.SOAP, 'Subcode')}/{q(ns.SOAP, 'Value')}") == subcode
    text = fault.find(f"{q(ns.SOAP, 'Reason')}/{q(ns.SOAP, 'Text')}")
    assert text is not None and text.get(XML_LANG) == "en-US" and text.text == reason
    detail_node = fault.find(q(ns.SOAP, "Detail"))
    assert detail_node is not None
    expected_detail = [q(ns.WSMAN, "FaultDetail")] if detail else []
    assert [child.tag for child in detail_node] == [*expected_detail, q(ns.WSMAN_FAULT, "WSManFault")]
    if detail:
        assert detail_node.findtext(q(ns.WSMAN, "FaultDetail")) == detail
    wsman_fault = detail_node.find(q(ns.WSMAN_FAULT, "WSManFault"))
    assert wsman_fault is not None
    assert set(wsman_fault.attrib) == {"Code", "Machine"}
    assert wsman_fault.get("Code") == str(wsman_code) and wsman_fault.get("Machine")
    assert [child.tag for child in wsman_fault] == [q(ns.WSMAN_FAULT, "Message")]
    assert wsman_fault.findtext(q(ns.WSMAN_FAULT, "Message")) == message


def pypsrp_fault(parsed: Parsed) -> Any:
    """What pypsrp makes of the fault, so the fields a PSRP client reads are checked too."""
    return WSMan._parse_wsman_fault(ET.tostring(parsed.root, encoding="unicode"))


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def endpoint(backend: Any) -> WsmanEndpoint:
    # Serves both resource URIs, unlike conftest's cmd-only endpoint.
    def factory(resource_uri: str) -> Shell | None:
        if resource_uri == ns.RESOURCE_CMD:
            return WinrsShell(backend)
        if resource_uri == ns.RESOURCE_PSRP:
            return PsrpShell(backend)
        return None

    return WsmanEndpoint("VDA01", factory, max_wait_s=0.01)


CMD_CREATE_BODY = (
    "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams>"
    "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>"
)


def create_cmd(endpoint: WsmanEndpoint) -> tuple[str, Parsed]:
    parsed = exchange(endpoint, ns.ACTION_CREATE, ns.RESOURCE_CMD, body=CMD_CREATE_BODY)
    shell_id = parsed.body.findtext(f"{q(ns.SHELL, 'Shell')}/{q(ns.SHELL, 'ShellId')}")
    assert shell_id is not None
    return shell_id, parsed


def run_cmd(
    endpoint: WsmanEndpoint, shell_id: str, command: str, arguments: list[str], *, stdin_pipe: bool = False
) -> str:
    args = "".join(f"<rsp:Arguments>{escape(arg)}</rsp:Arguments>" for arg in arguments)
    body = f"<rsp:CommandLine><rsp:Command>{escape(command)}</rsp:Command>{args}</rsp:CommandLine>"
    parsed = exchange(
        endpoint,
        ns.ACTION_COMMAND,
        ns.RESOURCE_CMD,
        body=body,
        shell_id=shell_id,
        options={
            "WINRS_SKIP_CMD_SHELL": "False",
            # The bootstrap reads stdin through `$input`, so it is started with a pipe for stdin.
            **({"WINRS_CONSOLEMODE_STDIN": "FALSE"} if stdin_pipe else {}),
        },
    )
    response = parsed.only_child(ns.SHELL, "CommandResponse")
    assert [child.tag for child in response] == [q(ns.SHELL, "CommandId")]
    command_id = response.findtext(q(ns.SHELL, "CommandId"))
    assert command_id is not None and GUID_UPPER.match(command_id)
    return command_id


def receive_body(command_id: str | None, streams: str) -> str:
    attr = f" CommandId={quoteattr(command_id)}" if command_id else ""
    return f"<rsp:Receive><rsp:DesiredStream{attr}>{streams}</rsp:DesiredStream></rsp:Receive>"


KEEPALIVE = {"WSMAN_CMDSHELL_OPTION_KEEPALIVE": "True"}


class PsrpClient:
    """A psrpcore client pool whose creationXml and pool Receives go through the endpoint."""

    def __init__(self, endpoint: WsmanEndpoint, idle_timeout: str | None = None) -> None:
        self.endpoint = endpoint
        self.pool = ClientRunspacePool()
        self.pool.open()
        self.shell_id = str(self.pool.runspace_pool_id).upper()
        creation = base64.b64encode(self._outgoing()).decode("ascii")
        idle = f"<rsp:IdleTimeOut>{idle_timeout}</rsp:IdleTimeOut>" if idle_timeout else ""
        body = (
            f'<rsp:Shell ShellId="{self.shell_id}"><rsp:InputStreams>stdin pr</rsp:InputStreams>'
            f"<rsp:OutputStreams>stdout</rsp:OutputStreams>{idle}"
            f'<creationXml xmlns="{ns.POWERSHELL}">{creation}</creationXml></rsp:Shell>'
        )
        self.create = exchange(
            endpoint, ns.ACTION_CREATE, ns.RESOURCE_PSRP, body=body, options={"protocolversion": "2.3"}
        )

    def _outgoing(self) -> bytes:
        data = b""
        while (payload := self.pool.data_to_send()) is not None:
            data += payload.data
        return data

    def pool_receives(self) -> Iterator[Parsed]:
        """Receive on the pool (no CommandId) until the pool is open, yielding each reply."""
        while self.pool.state != RunspacePoolState.Opened:
            parsed = exchange(
                self.endpoint,
                ns.ACTION_RECEIVE,
                ns.RESOURCE_PSRP,
                body=receive_body(None, "stdout"),
                shell_id=self.shell_id,
                options=KEEPALIVE,
            )
            for stream in parsed.only_child(ns.SHELL, "ReceiveResponse"):
                self.pool.receive_data(
                    PSRPPayload(base64.b64decode(stream.text or ""), StreamType.default, None)
                )
            while self.pool.next_event() is not None:
                pass
            yield parsed


# -- Create -------------------------------------------------------------------------------------


def test_cmd_create_matches_the_recorded_resource_created_and_shell(endpoint: WsmanEndpoint) -> None:
    # test_winrs_stderr_rc.yml / test_winrs_operation_timeout.yml: CreateResponse.
    shell_id, parsed = create_cmd(endpoint)
    assert [child.tag for child in parsed.body] == [q(ns.TRANSFER, "ResourceCreated"), q(ns.SHELL, "Shell")]
    created = parsed.body.find(q(ns.TRANSFER, "ResourceCreated"))
    assert created is not None
    assert [child.tag for child in created] == [
        q(ns.ADDRESSING, "Address"),
        q(ns.ADDRESSING, "ReferenceParameters"),
    ]
    assert created.findtext(q(ns.ADDRESSING, "Address")) == TO  # the request's wsa:To, echoed
    params = created.find(q(ns.ADDRESSING, "ReferenceParameters"))
    assert params is not None
    assert params.findtext(q(ns.WSMAN, "ResourceURI")) == ns.RESOURCE_CMD
    selectors = params.findall(f"{q(ns.WSMAN, 'SelectorSet')}/{q(ns.WSMAN, 'Selector')}")
    assert [(node.attrib, node.text) for node in selectors] == [({"Name": "ShellId"}, shell_id)]
    assert GUID_UPPER.match(shell_id)

    shell = parsed.body.find(q(ns.SHELL, "Shell"))
    assert shell is not None
    assert [child.tag for child in shell] == [q(ns.SHELL, tag) for tag in CMD_SHELL_CHILDREN]
    values = {local(child): child.text for child in shell}
    assert values["ResourceUri"] == ns.RESOURCE_CMD
    assert values["IdleTimeOut"] == "PT7200.000S"
    assert values["InputStreams"] == "stdin" and values["OutputStreams"] == "stdout stderr"
    assert values["ShellRunTime"] == values["ShellInactivity"] == "P0DT0H0M0S"


def test_powershell_create_matches_the_recorded_shell(endpoint: WsmanEndpoint) -> None:
    # test_psrp_with_input.yml / test_psrp_stream_no_output_invocation.yml: the client picks the
    # ShellId, Windows keeps it, and does not send creationXml back in Create.
    client = PsrpClient(endpoint)
    parsed = client.create
    assert [child.tag for child in parsed.body] == [q(ns.TRANSFER, "ResourceCreated"), q(ns.SHELL, "Shell")]
    selector = parsed.body.find(
        f"{q(ns.TRANSFER, 'ResourceCreated')}/{q(ns.ADDRESSING, 'ReferenceParameters')}/"
        f"{q(ns.WSMAN, 'SelectorSet')}/{q(ns.WSMAN, 'Selector')}"
    )
    assert selector is not None and selector.text == client.shell_id
    shell = parsed.body.find(q(ns.SHELL, "Shell"))
    assert shell is not None
    assert [child.tag for child in shell] == [q(ns.SHELL, tag) for tag in PSRP_SHELL_CHILDREN]
    values = {local(child): child.text for child in shell}
    assert values["ShellId"] == client.shell_id
    assert values["ResourceUri"] == ns.RESOURCE_PSRP
    assert values["InputStreams"] == "stdin pr" and values["OutputStreams"] == "stdout"
    assert values["State"] == "Connected"
    assert values["CompressionMode"] == "NoCompression" and values["BufferMode"] == "Block"
    assert (values["ProcessId"] or "").isdigit()


def test_create_echoes_the_requested_idle_timeout(endpoint: WsmanEndpoint) -> None:
    # test_psrp_is_alive_invalid_selectors.yml: PT60S asked for, PT60.000S reported.
    client = PsrpClient(endpoint, idle_timeout="PT60S")
    assert client.create.body.findtext(f"{q(ns.SHELL, 'Shell')}/{q(ns.SHELL, 'IdleTimeOut')}") == "PT60.000S"


def test_pypsrp_reads_every_shell_field_it_looks_for(endpoint: WsmanEndpoint) -> None:
    _, parsed = create_cmd(endpoint)
    winrs = WinRS(WSMan("127.0.0.1", username="u", password="p", auth="basic", ssl=False, encryption="never"))
    winrs._parse_shell_create(parsed.body)
    assert winrs.id and winrs.resource_uri == ns.RESOURCE_CMD
    assert winrs.shell_run_time == "P0DT0H0M0S" and winrs.shell_inactivity == "P0DT0H0M0S"
    # pypsrp annotates idle_time_out as an int but stores the element's text.
    assert str(winrs.idle_time_out) == "PT7200.000S" and winrs.client_ip and winrs.owner


# -- Command, Send, Receive, Signal, Delete on cmd -----------------------------------------------


def check_done_streams(response: ET.Element, command_id: str, names: list[str]) -> dict[str, bytes]:
    """test_winrs_stderr_rc.yml's final Receive: output streams first (Name + CommandId, no End),
    then one empty End="true" stream per output stream, then CommandState Done with ExitCode."""
    children = list(response)
    streams, state = children[:-1], children[-1]
    assert all(child.tag == q(ns.SHELL, "Stream") for child in streams)
    ends = [child for child in streams if child.get("End") is not None]
    data = [child for child in streams if child.get("End") is None]
    assert streams == data + ends  # no output after an End marker
    assert all(set(child.attrib) == {"Name", "CommandId"} and child.text for child in data)
    assert all(set(child.attrib) == {"Name", "CommandId", "End"} and not child.text for child in ends)
    assert [child.get("End") for child in ends] == ["true"] * len(names)
    assert [child.get("Name") for child in ends] == names
    assert {child.get("CommandId") for child in streams} == {command_id}

    assert state.tag == q(ns.SHELL, "CommandState")
    assert state.attrib == {"CommandId": command_id, "State": ns.COMMAND_STATE_DONE}
    assert [child.tag for child in state] == [q(ns.SHELL, "ExitCode")]
    output: dict[str, bytes] = {name: b"" for name in names}
    for child in data:
        output[child.get("Name") or ""] += base64.b64decode(child.text or "")
    return output


def receive_cmd_done(
    endpoint: WsmanEndpoint, shell_id: str, command_id: str
) -> tuple[ET.Element, dict[str, bytes]]:
    """Receive stdout and stderr of a finished cmd command: the ReceiveResponse and its streams."""
    parsed = exchange(
        endpoint,
        ns.ACTION_RECEIVE,
        ns.RESOURCE_CMD,
        body=receive_body(command_id, "stdout stderr"),
        shell_id=shell_id,
        options=KEEPALIVE,
    )
    response = parsed.only_child(ns.SHELL, "ReceiveResponse")
    return response, check_done_streams(response, command_id, ["stdout", "stderr"])


def test_cmd_command_send_receive_signal_delete(endpoint: WsmanEndpoint) -> None:
    # test_winrs_stderr_rc.yml, exchange by exchange; the command here writes stdout and exits 0.
    shell_id, _ = create_cmd(endpoint)
    command_id = run_cmd(endpoint, shell_id, "powershell.exe", BOOT_ARGS, stdin_pipe=True)

    frame = base64.b64encode(bootstrap.stdin_frame({"v": 1, "check": True, "ops": [{"op": "host_facts"}]}))
    stream = f'<rsp:Stream Name="stdin" CommandId="{command_id}" End="true">{frame.decode()}</rsp:Stream>'
    send = f"<rsp:Send>{stream}</rsp:Send>"
    parsed = exchange(endpoint, ns.ACTION_SEND, ns.RESOURCE_CMD, body=send, shell_id=shell_id)
    assert list(parsed.only_child(ns.SHELL, "SendResponse")) == []

    response, output = receive_cmd_done(endpoint, shell_id, command_id)
    assert output["stdout"] and output["stderr"] == b""
    assert response.findtext(f"{q(ns.SHELL, 'CommandState')}/{q(ns.SHELL, 'ExitCode')}") == "0"

    signal = f'<rsp:Signal CommandId="{command_id}"><rsp:Code>{SIGNAL_CTRL_C}</rsp:Code></rsp:Signal>'
    parsed = exchange(endpoint, ns.ACTION_SIGNAL, ns.RESOURCE_CMD, body=signal, shell_id=shell_id)
    assert list(parsed.only_child(ns.SHELL, "SignalResponse")) == []

    parsed = exchange(endpoint, ns.ACTION_DELETE, ns.RESOURCE_CMD, shell_id=shell_id)
    assert list(parsed.body) == [] and not (parsed.body.text or "").strip()


def test_cmd_receive_with_stderr_and_a_non_zero_exit_code(endpoint: WsmanEndpoint) -> None:
    # test_winrs_stderr_rc.yml: `cmd.exe /c echo out && echo err>&2 && exit 1`. This host refuses
    # anything but the executor, so the output is all on stderr, but the shape is the same.
    shell_id, _ = create_cmd(endpoint)
    command_id = run_cmd(endpoint, shell_id, "cmd.exe", ["/c echo out && echo err>&2 && exit 1"])
    response, output = receive_cmd_done(endpoint, shell_id, command_id)
    assert output["stderr"] and output["stdout"] == b""
    assert response.findtext(f"{q(ns.SHELL, 'CommandState')}/{q(ns.SHELL, 'ExitCode')}") == "1"


# -- PowerShell pool Receive and Command ---------------------------------------------------------


def test_powershell_pool_receive_and_command(endpoint: WsmanEndpoint) -> None:
    # test_psrp_with_input.yml: a pool Receive has stdout streams with only a Name (no CommandId,
    # no End) and no CommandState; Command keeps the client's CommandId.
    client = PsrpClient(endpoint)
    replies = list(client.pool_receives())
    assert replies
    for parsed in replies:
        response = parsed.only_child(ns.SHELL, "ReceiveResponse")
        assert [child.tag for child in response] == [q(ns.SHELL, "Stream")] * len(response)
        assert all(child.attrib == {"Name": "stdout"} and child.text for child in response)

    ps = ClientPowerShell(client.pool)
    ps.add_script("1")
    ps.start()
    payload = client.pool.data_to_send()
    assert payload is not None
    command_id = str(ps.pipeline_id).upper()
    body = (
        f'<rsp:CommandLine CommandId="{command_id}"><rsp:Command />'
        f"<rsp:Arguments>{base64.b64encode(payload.data).decode()}</rsp:Arguments></rsp:CommandLine>"
    )
    parsed = exchange(
        endpoint,
        ns.ACTION_COMMAND,
        ns.RESOURCE_PSRP,
        body=body,
        shell_id=client.shell_id,
        options={"WINRS_SKIP_CMD_SHELL": "False"},
    )
    response = parsed.only_child(ns.SHELL, "CommandResponse")
    assert [(child.tag, child.text) for child in response] == [(q(ns.SHELL, "CommandId"), command_id)]

    parsed = exchange(endpoint, ns.ACTION_DELETE, ns.RESOURCE_PSRP, shell_id=client.shell_id)
    assert list(parsed.body) == []


# -- faults -------------------------------------------------------------------------------------


def test_receive_timeout_fault_matches_the_recording(endpoint: WsmanEndpoint) -> None:
    # test_winrs_operation_timeout.yml: nothing to report within OperationTimeout.
    shell_id, _ = create_cmd(endpoint)
    command_id = run_cmd(endpoint, shell_id, "powershell.exe", BOOT_ARGS)  # waits for stdin
    parsed = fault_exchange(
        endpoint,
        ns.ACTION_RECEIVE,
        ns.RESOURCE_CMD,
        body=receive_body(command_id, "stdout stderr"),
        shell_id=shell_id,
        options=KEEPALIVE,
        timeout="PT10S",
    )
    check_fault(parsed, "s:Receiver", "w:TimedOut", TIMED_OUT_TEXT, 2150858793, TIMED_OUT_TEXT, None)
    error = pypsrp_fault(parsed)
    assert error.code == 2150858793 and error.machine == "VDA01"


def test_receive_for_an_unknown_command_is_invalid_selectors(endpoint: WsmanEndpoint) -> None:
    # test_winrs_bad_cmd_id.yml: generic Reason, the command-specific text in f:Message.
    shell_id, _ = create_cmd(endpoint)
    run_cmd(endpoint, shell_id, "cmd.exe", ["/c", "echo", "hi"])
    parsed = fault_exchange(
        endpoint,
        ns.ACTION_RECEIVE,
        ns.RESOURCE_CMD,
        body=receive_body(str(uuid.uuid4()).upper(), "stdout stderr"),
        shell_id=shell_id,
        options=KEEPALIVE,
    )
    check_fault(
        parsed,
        "s:Sender",
        "w:InvalidSelectors",
        INVALID_SELECTORS_TEXT,
        2150858843,
        UNKNOWN_COMMAND_TEXT,
        ns.FAULT_DETAIL_UNEXPECTED_SELECTORS,
    )
    assert pypsrp_fault(parsed).code == 2150858843


def test_request_for_a_deleted_shell_is_invalid_selectors(endpoint: WsmanEndpoint) -> None:
    # test_psrp_is_alive_invalid_selectors.yml: the shell is gone, same subcode, code and detail.
    shell_id, _ = create_cmd(endpoint)
    exchange(endpoint, ns.ACTION_DELETE, ns.RESOURCE_CMD, shell_id=shell_id)
    parsed = fault_exchange(
        endpoint,
        ns.ACTION_RECEIVE,
        ns.RESOURCE_CMD,
        body=receive_body(str(uuid.uuid4()).upper(), "stdout stderr"),
        shell_id=shell_id,
        options=KEEPALIVE,
    )
    wsman_fault = f"{q(ns.SOAP, 'Fault')}/{q(ns.SOAP, 'Detail')}/{q(ns.WSMAN_FAULT, 'WSManFault')}"
    message = parsed.body.findtext(f"{wsman_fault}/{q(ns.WSMAN_FAULT, 'Message')}")
    assert message is not None and f"ShellId {shell_id}" in message
    check_fault(
        parsed,
        "s:Sender",
        "w:InvalidSelectors",
        INVALID_SELECTORS_TEXT,
        2150858843,
        message,
        ns.FAULT_DETAIL_UNEXPECTED_SELECTORS,
    )
