"""`.reg` files exactly as `reg export` writes them, and their import (including `[-KEY]` deletion).

Format: UTF-16LE with a BOM, CRLF line ends, the header `Windows Registry Editor Version 5.00`,
then for each key (depth first, subkeys in case-insensitive order) a blank line, `[full path]`
and one line per value. Hex data wraps like regedit: after a byte's comma, once the line has
reached 77 characters, the line ends with `\\` and continues indented by two spaces."""

from __future__ import annotations

from vipctl.sim.model.errors import Failed
from vipctl.sim.model.registry import Registry, RegKey, export_path, split_path
from vipctl.sim.model.regvalue import CODE_TYPES, TYPE_CODES, RegValue

HEADER = "Windows Registry Editor Version 5.00"
_MAX_HEX_CHARS = 77
_BOM = b"\xff\xfe"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _value_line(name: str, value: RegValue) -> str:
    prefix = f'"{_escape(name)}"=' if name else "@="
    if value.type == "REG_SZ":
        assert isinstance(value.data, str)
        return f'{prefix}"{_escape(value.data)}"'
    if value.type == "REG_DWORD":
        assert isinstance(value.data, int)
        return f"{prefix}dword:{value.data:08x}"
    kind = "hex:" if value.type == "REG_BINARY" else f"hex({TYPE_CODES[value.type]:x}):"
    raw = value.raw()
    out = prefix + kind
    line_len = len(prefix) + len(kind)
    for i, byte in enumerate(raw):
        out += f"{byte:02x}"
        if i == len(raw) - 1:
            break
        out += ","
        line_len += 3
        if line_len >= _MAX_HEX_CHARS:
            out += "\\\r\n  "
            line_len = 2
    return out


def deletion_text(parts: list[str]) -> str:
    """A .reg file whose import deletes the key `parts` and its tree: `[-path]` and nothing else.

    Not something reg.exe writes: the executor's own file for "this key did not exist"."""
    return f"{HEADER}\r\n\r\n[-{export_path(parts)}]\r\n"


def export_text(registry: Registry, path: str) -> str:
    """The text of `reg export <path>`; a missing key gives the deletion form `[-path]`."""
    parts = split_path(path)
    registry.check_access(parts, subtree=True)
    key = registry.find(parts)
    if key is None:
        return deletion_text(parts)
    lines = [HEADER]

    def visit(node: RegKey, node_parts: list[str]) -> None:
        lines.extend(["", f"[{export_path(node_parts)}]"])
        lines.extend(_value_line(name, value) for name, value in node.value_items())
        for sub in node.sorted_subkeys():
            visit(sub, [*node_parts, sub.name])

    visit(key, registry.stored_parts(parts))
    return "\r\n".join(lines) + "\r\n\r\n"


def encode_reg_file(text: str) -> bytes:
    """Bytes as `reg export` stores them: UTF-16LE with a BOM."""
    return _BOM + text.encode("utf-16-le")


def export_bytes(registry: Registry, path: str) -> bytes:
    return encode_reg_file(export_text(registry, path))


def decode_reg_file(data: bytes) -> str:
    if data.startswith(_BOM):
        return data[2:].decode("utf-16-le")
    return data.decode("utf-8-sig")


def _logical_lines(text: str) -> list[str]:
    """Physical lines with hex continuations (`\\` at the end) joined."""
    out: list[str] = []
    pending = ""
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip() if pending else raw.rstrip()
        if line.endswith("\\") and (pending or "=hex" in line.lower()):
            pending += line[:-1]
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return out


def _parse_quoted(text: str, start: int) -> tuple[str, int]:
    """A `"..."` string starting at text[start] == '"'; returns (unescaped, index after the quote)."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise Failed(f"unterminated string in .reg line: {text!r}")


def _parse_data(line: str, data: str) -> RegValue | None:
    if data == "-":
        return None
    if data.startswith('"'):
        text, end = _parse_quoted(data, 0)
        if data[end:].strip():
            raise Failed(f"unexpected text after a string in .reg line: {line!r}")
        return RegValue("REG_SZ", text)
    if data.lower().startswith("dword:"):
        return RegValue("REG_DWORD", int(data[6:], 16))
    if data.lower().startswith("hex"):
        head, _, body = data.partition(":")
        code = 3 if head.lower() == "hex" else int(head[4:-1], 16)
        if code not in CODE_TYPES:
            raise Failed(f"unsupported registry type hex({code:x}) in .reg line: {line!r}")
        raw = bytes(int(b, 16) for b in body.replace(" ", "").split(",") if b)
        return RegValue.from_raw(CODE_TYPES[code], raw)
    raise Failed(f"cannot parse .reg line: {line!r}")


def import_text(registry: Registry, text: str) -> list[str]:
    """Apply a .reg file as `reg import` does; returns the key paths of its sections, in order."""
    lines = _logical_lines(text.lstrip("\ufeff"))
    body = [line for line in lines if line.strip()]
    if not body or body[0].strip() not in (HEADER, "REGEDIT4"):
        raise Failed("not a registry file: the first line must be 'Windows Registry Editor Version 5.00'")
    sections: list[str] = []
    current: list[str] | None = None
    for line in body[1:]:
        stripped = line.strip()
        if stripped.startswith(";"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            inner = stripped[1:-1]
            if inner.startswith("-"):
                parts = split_path(inner[1:])
                registry.delete_key(parts)
                current = None
            else:
                parts = split_path(inner)
                registry.ensure_key(parts)
                current = parts
            sections.append(export_path(parts))
            continue
        if current is None:
            raise Failed(f"value outside a key section in .reg file: {line!r}")
        if stripped.startswith("@="):
            name, data = "", stripped[2:]
        elif stripped.startswith('"'):
            name, end = _parse_quoted(stripped, 0)
            if stripped[end : end + 1] != "=":
                raise Failed(f"cannot parse .reg line: {line!r}")
            data = stripped[end + 1 :]
        else:
            raise Failed(f"cannot parse .reg line: {line!r}")
        value = _parse_data(line, data.strip())
        if value is None:
            registry.delete_value(current, name)
        else:
            registry.set_value(current, name, value)
    return sections


def import_bytes(registry: Registry, data: bytes) -> list[str]:
    return import_text(registry, decode_reg_file(data))
