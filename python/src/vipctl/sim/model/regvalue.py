"""Typed registry values: the executor's JSON form, and the raw bytes Windows stores (for .reg files)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from vipctl.sim.model.errors import BadArgument, WrongType

REG_TYPES = ("REG_SZ", "REG_EXPAND_SZ", "REG_DWORD", "REG_QWORD", "REG_MULTI_SZ", "REG_BINARY")
# The numeric type codes a .reg file writes as hex(N).
TYPE_CODES = {
    "REG_SZ": 1,
    "REG_EXPAND_SZ": 2,
    "REG_BINARY": 3,
    "REG_DWORD": 4,
    "REG_MULTI_SZ": 7,
    "REG_QWORD": 11,
}
CODE_TYPES = {code: name for name, code in TYPE_CODES.items()}
_HEX = re.compile(r"\A(?:[0-9a-f]{2})*\Z")

Data = str | int | tuple[str, ...] | bytes


@dataclass(frozen=True)
class RegValue:
    type: str
    data: Data

    @classmethod
    def from_json(cls, type_name: object, value: object) -> RegValue:
        """Check the protocol's `{"type", "value"}` form.

        BadArgument for an unknown type name, WrongType for a value that does not fit the type."""
        if type_name not in REG_TYPES:
            raise BadArgument(f"unknown registry type {type_name!r}; expected one of {', '.join(REG_TYPES)}")
        assert isinstance(type_name, str)
        if type_name in ("REG_SZ", "REG_EXPAND_SZ"):
            if not isinstance(value, str):
                raise WrongType(f"{type_name} needs a string, got {_json_kind(value)}")
            return cls(type_name, value)
        if type_name in ("REG_DWORD", "REG_QWORD"):
            limit = 0xFFFFFFFF if type_name == "REG_DWORD" else 0xFFFFFFFFFFFFFFFF
            if isinstance(value, bool) or not isinstance(value, int):
                raise WrongType(f"{type_name} needs an integer, got {_json_kind(value)}")
            if not 0 <= value <= limit:
                raise WrongType(f"{type_name} must be between 0 and {limit}, got {value}")
            return cls(type_name, value)
        if type_name == "REG_MULTI_SZ":
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise WrongType(f"REG_MULTI_SZ needs a list of strings, got {_json_kind(value)}")
            if any(item == "" for item in value):
                # Windows cannot store an empty string inside a REG_MULTI_SZ: it ends the list.
                raise WrongType("REG_MULTI_SZ cannot hold an empty string")
            return cls(type_name, tuple(value))
        if not isinstance(value, str) or not _HEX.match(value):
            raise WrongType(f"REG_BINARY needs a lowercase hex string of whole bytes, got {value!r}")
        return cls(type_name, bytes.fromhex(value))

    def to_json(self) -> dict[str, Any]:
        if isinstance(self.data, bytes):
            return {"type": self.type, "value": self.data.hex()}
        if isinstance(self.data, tuple):
            return {"type": self.type, "value": list(self.data)}
        return {"type": self.type, "value": self.data}

    def raw(self) -> bytes:
        """The bytes RegSetValueEx stores (what `reg export` writes as hex)."""
        data = self.data
        if self.type == "REG_DWORD":
            assert isinstance(data, int)
            return data.to_bytes(4, "little")
        if self.type == "REG_QWORD":
            assert isinstance(data, int)
            return data.to_bytes(8, "little")
        if self.type == "REG_MULTI_SZ":
            assert isinstance(data, tuple)
            return "".join(item + "\0" for item in data).encode("utf-16-le") + b"\0\0"
        if isinstance(data, bytes):
            return data
        assert isinstance(data, str)
        return (data + "\0").encode("utf-16-le")

    @classmethod
    def from_raw(cls, type_name: str, raw: bytes) -> RegValue:
        if type_name == "REG_DWORD":
            return cls(type_name, int.from_bytes(raw[:4].ljust(4, b"\0"), "little"))
        if type_name == "REG_QWORD":
            return cls(type_name, int.from_bytes(raw[:8].ljust(8, b"\0"), "little"))
        if type_name == "REG_BINARY":
            return cls(type_name, raw)
        text = raw.decode("utf-16-le")
        if type_name == "REG_MULTI_SZ":
            body = text[:-1] if text.endswith("\0") else text
            items = body.split("\0")
            if items and items[-1] == "":
                items.pop()
            return cls(type_name, tuple(items))
        return cls(type_name, text[:-1] if text.endswith("\0") else text)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
