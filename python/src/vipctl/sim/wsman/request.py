"""Parse one WS-Man request envelope, refusing DTDs and entity tricks (the body is untrusted)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from vipctl.sim.wsman import ns

_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")


class MalformedRequest(ValueError):
    """The bytes are not a WS-Man request we can answer (bad XML, DTD, missing header)."""


class UnknownCommand(ValueError):
    """A shell was asked about a CommandId it does not have. Windows answers that with the
    InvalidSelectors fault 2150858843, not a schema fault, so shells raise this rather than a
    plain ValueError."""


@dataclass
class WsmanRequest:
    action: str
    resource_uri: str
    message_id: str
    to: str
    operation_timeout_s: float | None
    selectors: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    body: Element | None = None

    @property
    def shell_id(self) -> str | None:
        return self.selectors.get("ShellId")


def _q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def parse_duration(text: str | None) -> float | None:
    """xs:duration as WinRM clients send it (`PT20S`, `PT60.000S`) → seconds; None if absent/odd."""
    if not text:
        return None
    match = _DURATION.match(text.strip())
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def parse_request(data: bytes) -> WsmanRequest:
    """Parse a request envelope. Raises MalformedRequest for anything we would not accept."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedRequest(f"forbidden XML construct: {type(exc).__name__}") from exc
    except SafeET.ParseError as exc:
        raise MalformedRequest(f"not well-formed XML: {exc}") from exc
    if root.tag != _q(ns.SOAP, "Envelope"):
        raise MalformedRequest("the root element is not a SOAP 1.2 Envelope")
    header = root.find(_q(ns.SOAP, "Header"))
    if header is None:
        raise MalformedRequest("the envelope has no Header")

    def text(namespace: str, tag: str) -> str | None:
        node = header.find(_q(namespace, tag))
        return node.text.strip() if node is not None and node.text else None

    action = text(ns.ADDRESSING, "Action")
    resource_uri = text(ns.WSMAN, "ResourceURI")
    message_id = text(ns.ADDRESSING, "MessageID")
    if not action or not message_id:
        raise MalformedRequest("the header lacks wsa:Action or wsa:MessageID")
    selectors = {
        node.get("Name", ""): (node.text or "").strip()
        for node in header.iterfind(f"{_q(ns.WSMAN, 'SelectorSet')}/{_q(ns.WSMAN, 'Selector')}")
    }
    options = {
        node.get("Name", ""): (node.text or "").strip()
        for node in header.iterfind(f"{_q(ns.WSMAN, 'OptionSet')}/{_q(ns.WSMAN, 'Option')}")
    }
    return WsmanRequest(
        action=action,
        resource_uri=resource_uri or "",
        message_id=message_id,
        to=text(ns.ADDRESSING, "To") or "",
        operation_timeout_s=parse_duration(text(ns.WSMAN, "OperationTimeout")),
        selectors=selectors,
        options=options,
        body=root.find(_q(ns.SOAP, "Body")),
    )
