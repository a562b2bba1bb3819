"""Namespaces, actions and resource URIs of the WS-Man dialect Windows speaks (MS-WSMV)."""

from __future__ import annotations

SOAP = "http://www.w3.org/2003/05/soap-envelope"
ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
MS_WSMAN = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
WSMAN_FAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
POWERSHELL = "http://schemas.microsoft.com/powershell"

ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
FAULT_ACTION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
# w:FaultDetail Windows adds to InvalidSelectors faults (unknown ShellId or CommandId).
FAULT_DETAIL_UNEXPECTED_SELECTORS = (
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors"
)

RESOURCE_CMD = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
RESOURCE_PSRP = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"

ACTION_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACTION_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
ACTION_COMMAND = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
ACTION_SEND = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
ACTION_RECEIVE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
ACTION_SIGNAL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"

COMMAND_STATE_RUNNING = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"
COMMAND_STATE_DONE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"

# The response action is the request action with "Response" appended, as on Windows.
RESPONSE_SUFFIX = "Response"

# Prefixes Windows uses in its replies; clients match on namespace URIs, but humans reading a
# captured conversation compare it with a real one, so the prefixes are the familiar ones.
REPLY_PREFIXES = {
    "s": SOAP,
    "a": ADDRESSING,
    "x": TRANSFER,
    "w": WSMAN,
    "rsp": SHELL,
    "p": MS_WSMAN,
}
# DMTF DSP0226 fault detail for an envelope over the negotiated or configured maximum.
FAULT_DETAIL_MAX_ENVELOPE_SIZE = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/MaxEnvelopeSize"
