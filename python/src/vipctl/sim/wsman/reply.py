"""Reply envelopes and SOAP faults shaped like the ones Windows' WinRM service sends.

Built as text rather than through ElementTree so the prefixes match a real Windows capture
(`s:`, `a:`, `rsp:` ...) instead of ElementTree's generated `ns0:`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from vipctl.sim.wsman import ns

# WSManFault codes clients act on (pywinrm and pypsrp turn 2150858793 into "retry the Receive").
CODE_OPERATION_TIMEOUT = 2150858793  # 0x80338029 ERROR_WSMAN_OPERATION_TIMEDOUT
CODE_SHELL_NOT_FOUND = 2150858843  # 0x8033805B: unknown ShellId, and unknown CommandId too
CODE_SCHEMA_VALIDATION = 2150858817  # 0x80338041: request did not match the schema
CODE_ACTION_NOT_SUPPORTED = 2150858771  # 0x80338013: action / resource not supported
# UNCONFIRMED (docs/windows-facts.md#maxenvelopesizekb-500-kb-by-default): the WSManFault code on the
# envelope-limit fault was not read off a real host; clients key on the w:EncodingLimit subcode.
CODE_ENVELOPE_LIMIT = CODE_SCHEMA_VALIDATION
# Windows' MaxEnvelopeSizekb default (docs/windows-facts.md#maxenvelopesizekb-500-kb-by-default).
MAX_ENVELOPE_BYTES = 500 * 1024

_NAMESPACE_DECLS = " ".join(f"xmlns:{prefix}={quoteattr(uri)}" for prefix, uri in ns.REPLY_PREFIXES.items())


def new_message_id() -> str:
    return f"uuid:{str(uuid.uuid4()).upper()}"


def envelope(action: str, relates_to: str, body: str) -> bytes:
    """A complete reply: fresh MessageID, To anonymous, RelatesTo the request's MessageID."""
    header = (
        f"<s:Header><a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>{new_message_id()}</a:MessageID>"
        f"<a:To>{ns.ANONYMOUS}</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header>"
    )
    text = f'<s:Envelope xml:lang="en-US" {_NAMESPACE_DECLS}>{header}<s:Body>{body}</s:Body></s:Envelope>'
    return text.encode("utf-8")


@dataclass(frozen=True)
class Fault:
    """A WS-Man fault: SOAP code, WS-Man subcode, reason text and the WSManFault code.

    `message` is the f:Message text when it differs from the s:Reason text: Windows puts the
    generic subcode text in s:Reason and the specific cause in f:Message for InvalidSelectors, and
    pywinrm reports the former while pypsrp reports the latter. `detail` is the w:FaultDetail URI
    Windows adds to some faults."""

    code: str  # "s:Sender" or "s:Receiver"
    subcode: str  # e.g. "w:TimedOut"
    reason: str
    wsman_code: int
    message: str | None = None
    detail: str | None = None

    def render(self, relates_to: str, machine: str) -> bytes:
        reason = escape(self.reason)
        message = escape(self.message if self.message is not None else self.reason)
        detail = f"<w:FaultDetail>{escape(self.detail)}</w:FaultDetail>" if self.detail else ""
        body = (
            f"<s:Fault><s:Code><s:Value>{self.code}</s:Value>"
            f"<s:Subcode><s:Value>{self.subcode}</s:Value></s:Subcode></s:Code>"
            f'<s:Reason><s:Text xml:lang="en-US">{reason}</s:Text></s:Reason>'
            f"<s:Detail>{detail}<f:WSManFault xmlns:f={quoteattr(ns.WSMAN_FAULT)} "
            f"Code={quoteattr(str(self.wsman_code))} Machine={quoteattr(machine)}>"
            f"<f:Message>{message}</f:Message></f:WSManFault></s:Detail></s:Fault>"
        )
        return envelope(ns.FAULT_ACTION, relates_to, body)


def operation_timeout() -> Fault:
    return Fault(
        "s:Receiver",
        "w:TimedOut",
        "The WS-Management service cannot complete the operation within the time specified in "
        "OperationTimeout.  ",
        CODE_OPERATION_TIMEOUT,
    )


# Windows' s:Reason for every InvalidSelectors fault; the specific cause goes in f:Message.
_INVALID_SELECTORS = (
    "The WS-Management service cannot process the request because the request contained invalid "
    "selectors for the resource. "
)


def shell_not_found(shell_id: str) -> Fault:
    return Fault(
        "s:Sender",
        "w:InvalidSelectors",
        _INVALID_SELECTORS,
        CODE_SHELL_NOT_FOUND,
        message=(
            f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell "
            "was not found on the server. Possible causes are: the specified ShellId is incorrect or the "
            "shell no longer exists on the server. Provide the correct ShellId or create a new shell and "
            "retry the operation. "
        ),
        detail=ns.FAULT_DETAIL_UNEXPECTED_SELECTORS,
    )


def command_not_found() -> Fault:
    """A Send or Receive naming a CommandId the shell does not have (finished, or never existed)."""
    return Fault(
        "s:Sender",
        "w:InvalidSelectors",
        _INVALID_SELECTORS,
        CODE_SHELL_NOT_FOUND,
        message=(
            "The Windows Remote Shell received a request to perform an operation on a command identifier "
            "that does not exist. Either the command has completed execution or the client specified an "
            "invalid command identifier. "
        ),
        detail=ns.FAULT_DETAIL_UNEXPECTED_SELECTORS,
    )


def envelope_too_large(size: int) -> Fault:
    """A request larger than MaxEnvelopeSizekb (docs/windows-facts.md#maxenvelopesizekb-500-kb-by-default)."""
    return Fault(
        "s:Sender",
        "w:EncodingLimit",
        "The WS-Management service cannot process the request because the request exceeded the"
        f" maximum envelope size ({size} bytes; MaxEnvelopeSizekb allows {MAX_ENVELOPE_BYTES}). ",
        CODE_ENVELOPE_LIMIT,
        detail=ns.FAULT_DETAIL_MAX_ENVELOPE_SIZE,
    )


def malformed(detail: str) -> Fault:
    return Fault(
        "s:Sender",
        "w:SchemaValidationError",
        f"The SOAP XML in the message does not match the corresponding XML schema definition. {detail}",
        CODE_SCHEMA_VALIDATION,
    )


def not_supported(action: str, resource_uri: str) -> Fault:
    return Fault(
        "s:Sender",
        "a:ActionNotSupported",
        f"The WS-Management service does not support action {action} on resource {resource_uri}.",
        CODE_ACTION_NOT_SUPPORTED,
    )
