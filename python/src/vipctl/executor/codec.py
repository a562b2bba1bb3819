"""The Python side of docs/executor-protocol.md: build checked requests, decode responses.

`build_request` refuses anything the executor would reject (and a few things it cannot see,
such as a write without a backup folder) before a host is contacted. `decode_response` turns the
executor's stdout into typed results and refuses anything that is not exactly one v1 response.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn

from vipctl.executor.errors import MalformedResponse, OpFailed, RequestError

PROTOCOL_VERSION: Final = 1

ERROR_KINDS: Final = frozenset(
    {
        "bad_request",
        "unknown_op",
        "not_found",
        "wrong_type",
        "access_denied",
        "policy_controlled",
        "not_available",
        "conflict",
        "precondition_failed",
        "failed",
        "skipped",
        "delegation_required",
        "constrained_language",
        "insecure_backup_root",
        "backup_tampered",
    }
)

# Ops that save what they change into backup_dir before their first write.
BACKED_UP_OPS: Final = frozenset({"registry_set", "registry_rename_key", "tsvip_set", "citrix_policy_set"})

TSVIP_SETTABLE: Final = frozenset(
    {
        "VirtualIPActive",
        "VirtualIPMode",
        "ProgramList",
        "NetworkAdapterMacAddress",
        "VirtualizeLoopbackAddressesEnabled",
    }
)

_HKLM_PREFIX = re.compile(r"^(HKLM|HKEY_LOCAL_MACHINE)\\(.+)$", re.IGNORECASE)
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2})*$")
_COMMON_FIELDS = frozenset({"op", "id", "when"})

Validator = Callable[[str, Any], None]


# ---------------------------------------------------------------- argument validators


def _fail(where: str, message: str) -> NoReturn:
    raise RequestError(where, message)


def _is_int(value: Any) -> bool:
    # bool is an int subclass in Python but not a JSON number.
    return isinstance(value, int) and not isinstance(value, bool)


def _string(where: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        _fail(where, "must be a non-empty string")


def _string_list(where: str, value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        _fail(where, "must be a list of strings")


def _one_of(*choices: str) -> Validator:
    def check(where: str, value: Any) -> None:
        if value not in choices:
            _fail(where, f"must be one of {', '.join(choices)} (got {value!r})")

    return check


def _object(where: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        _fail(where, "must be an object")


def _hklm_path(where: str, value: Any) -> None:
    _string(where, value)
    match = _HKLM_PREFIX.match(value)
    if not match:
        _fail(where, rf"only HKLM is allowed: start the path with HKLM\ (got {value!r})")
    rest = match.group(2).rstrip("\\")
    # The executor passes key paths to reg.exe, which cannot take a double quote safely.
    if not rest or "\\\\" in rest or '"' in rest:
        _fail(where, f"is not a valid registry key path: {value!r}")


def _leaf_name(where: str, value: Any) -> None:
    _string(where, value)
    if "\\" in value or '"' in value:
        _fail(where, "must be a single key name without backslashes or quotes")


def _managed_keys(where: str, value: Any) -> None:
    if not isinstance(value, list) or not value:
        _fail(where, "must be a non-empty list of {key, floor}")
    for index, entry in enumerate(value):
        entry_where = f"{where}[{index}]"
        _object(entry_where, entry)
        unknown = set(entry) - {"key", "floor"}
        if unknown:
            _fail(f"{entry_where}.{sorted(unknown)[0]}", "unknown field")
        _hklm_path(f"{entry_where}.key", entry.get("key"))
        _hklm_path(f"{entry_where}.floor", entry.get("floor"))
        key = entry["key"].lower().rstrip("\\").split("\\")[1:]
        floor = entry["floor"].lower().rstrip("\\").split("\\")[1:]
        if key[: len(floor)] != floor:
            _fail(f"{entry_where}.floor", "must be the key itself or one of its ancestors")


def _protocols(where: str, value: Any) -> None:
    _string_list(where, value)
    for item in value:
        if item not in ("tcp", "udp"):
            _fail(where, f"accepts tcp and udp, not {item!r}")


def _typed_value(where: str, reg_type: Any, value: Any) -> None:
    if reg_type in ("REG_SZ", "REG_EXPAND_SZ"):
        ok = isinstance(value, str)
    elif reg_type == "REG_DWORD":
        ok = _is_int(value) and 0 <= value <= 0xFFFFFFFF
    elif reg_type == "REG_QWORD":
        ok = _is_int(value) and 0 <= value <= 0xFFFFFFFFFFFFFFFF
    elif reg_type == "REG_MULTI_SZ":
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    elif reg_type == "REG_BINARY":
        ok = isinstance(value, str) and bool(_HEX.match(value))
    else:
        _fail(f"{where}.type", f"unknown registry type {reg_type!r}")
    if not ok:
        _fail(f"{where}.value", f"does not fit {reg_type}")


def _registry_values(where: str, value: Any) -> None:
    if not isinstance(value, list):
        _fail(where, "must be a list of {name, state, type, value}")
    for index, entry in enumerate(value):
        entry_where = f"{where}[{index}]"
        _object(entry_where, entry)
        unknown = set(entry) - {"name", "state", "type", "value"}
        if unknown:
            _fail(f"{entry_where}.{sorted(unknown)[0]}", "unknown field")
        if not isinstance(entry.get("name"), str):
            _fail(f"{entry_where}.name", "must be a string ('' is the default value)")
        # The protocol's default: an entry without a state is a value to be present.
        state = entry.get("state", "present")
        _one_of("present", "absent")(f"{entry_where}.state", state)
        if state == "present":
            _typed_value(entry_where, entry.get("type"), entry.get("value"))


def _tsvip_properties(where: str, value: Any) -> None:
    _object(where, value)
    for name, item in value.items():
        if name not in TSVIP_SETTABLE:
            _fail(f"{where}.{name}", f"cannot be set; settable: {', '.join(sorted(TSVIP_SETTABLE))}")
        if name == "ProgramList":
            _string_list(f"{where}.{name}", item)
        elif name == "NetworkAdapterMacAddress":
            _string(f"{where}.{name}", item)
        elif item not in (0, 1) or not _is_int(item):
            _fail(f"{where}.{name}", "must be 0 or 1")


def _conditions(where: str, value: Any) -> None:
    if not isinstance(value, list):
        _fail(where, "must be a list of conditions")
    for index, condition in enumerate(value):
        cond_where = f"{where}[{index}]"
        _object(cond_where, condition)
        unknown = set(condition) - {"ref", "path", "in", "not_in"}
        if unknown:
            _fail(f"{cond_where}.{sorted(unknown)[0]}", "unknown field")
        _string(f"{cond_where}.ref", condition.get("ref"))
        path = condition.get("path")
        if not isinstance(path, list) or not all(isinstance(step, str) or _is_int(step) for step in path):
            _fail(f"{cond_where}.path", "must be a list of keys (strings) and indexes (integers)")
        if ("in" in condition) == ("not_in" in condition):
            _fail(cond_where, "needs exactly one of 'in' and 'not_in'")
        key = "in" if "in" in condition else "not_in"
        if not isinstance(condition[key], list):
            _fail(f"{cond_where}.{key}", "must be a list of JSON values")


@dataclass(frozen=True)
class _OpSpec:
    required: Mapping[str, Validator] = field(default_factory=dict)
    optional: Mapping[str, Validator] = field(default_factory=dict)


def _node_name(where: str, value: Any) -> None:
    """One provider path segment (a Citrix policy name): see executor part 45_provider_paths.ps1."""
    _string(where, value)
    if value in (".", "..") or any(ch in value for ch in "\\/*?") or value != value.strip(" ."):
        _fail(
            where,
            "must be one plain node name: no \\ / * ?, not . or .., no leading or trailing dots "
            f"or spaces (got {value!r})",
        )


_CITRIX_ADDRESS: Final[Mapping[str, Validator]] = {"name": _node_name, "scope": _one_of("site", "ad_gpo")}
_CITRIX_OPTIONAL: Final[Mapping[str, Validator]] = {"gpo": _string, "controller": _string}

OP_SPECS: Final[Mapping[str, _OpSpec]] = {
    "host_facts": _OpSpec(),
    "registry_get": _OpSpec({"path": _hklm_path}, {"names": _string_list}),
    "registry_set": _OpSpec({"path": _hklm_path, "values": _registry_values}),
    "registry_rename_key": _OpSpec({"path": _hklm_path, "new_name": _leaf_name}),
    "registry_restore": _OpSpec({"file": _string, "managed_keys": _managed_keys}),
    "backup_list": _OpSpec({"root": _string}),
    "tsvip_get": _OpSpec(),
    "tsvip_set": _OpSpec({"properties": _tsvip_properties}),
    "tsvip_restore": _OpSpec({"file": _string}),
    "citrix_policy_get": _OpSpec(_CITRIX_ADDRESS, _CITRIX_OPTIONAL),
    "citrix_policy_set": _OpSpec(
        {**_CITRIX_ADDRESS, "state": _one_of("present", "absent")}, {**_CITRIX_OPTIONAL, "policy": _object}
    ),
    "citrix_policy_restore": _OpSpec({"file": _string}),
    "feature_install": _OpSpec({"name": _string}),
    "net_endpoints": _OpSpec({}, {"protocols": _protocols}),
    "sessions": _OpSpec(),
    "restart_state": _OpSpec(),
    "restart_mark": _OpSpec({"reasons": _string_list}),
    "address_match": _OpSpec({"cidr": _string}),
    "require": _OpSpec({"conditions": _conditions, "message": _string}),
}


# ---------------------------------------------------------------- requests


def _check_op(index: int, op: Any, seen_ids: set[str]) -> None:
    where = f"ops[{index}]"
    _object(where, op)
    name = op.get("op")
    if name not in OP_SPECS:
        _fail(f"{where}.op", f"unknown op {name!r}; known: {', '.join(sorted(OP_SPECS))}")
    spec = OP_SPECS[name]
    for arg in op:
        if arg not in _COMMON_FIELDS and arg not in spec.required and arg not in spec.optional:
            _fail(f"{where}.{arg}", f"is not an argument of {name}")
    for arg, validator in spec.required.items():
        if arg not in op:
            _fail(f"{where}.{arg}", f"is required by {name}")
        validator(f"{where}.{arg}", op[arg])
    for arg, validator in spec.optional.items():
        if arg in op and op[arg] is not None:
            validator(f"{where}.{arg}", op[arg])
    if name in ("citrix_policy_get", "citrix_policy_set") and op["scope"] == "ad_gpo" and not op.get("gpo"):
        _fail(f"{where}.gpo", "is required when scope is ad_gpo")
    if name == "citrix_policy_set" and op["state"] == "present" and "policy" not in op:
        _fail(f"{where}.policy", "is required when state is present")
    if "when" in op:
        _conditions(f"{where}.when", op["when"])
    for key in ("when", "conditions"):
        for cond_index, condition in enumerate(op.get(key) or []):
            if condition["ref"] not in seen_ids:
                _fail(
                    f"{where}.{key}[{cond_index}].ref", f"{condition['ref']!r} is not the id of an earlier op"
                )
    if "id" in op:
        _string(f"{where}.id", op["id"])
        if op["id"] in seen_ids:
            _fail(f"{where}.id", f"duplicate id {op['id']!r}")
        seen_ids.add(op["id"])


def build_request(ops: Sequence[Mapping[str, Any]], *, check: bool, backup_dir: str | None) -> dict[str, Any]:
    """A v1 request for `ops`, validated against the protocol. Raises `RequestError` naming the field."""
    if isinstance(ops, str | bytes) or not isinstance(ops, Sequence):
        raise RequestError("ops", "must be a list of ops")
    if not isinstance(check, bool):
        raise RequestError("check", "must be true or false")
    if backup_dir is not None and (not isinstance(backup_dir, str) or not backup_dir):
        raise RequestError("backup_dir", "must be a non-empty string or None")
    seen_ids: set[str] = set()
    for index, op in enumerate(ops):
        _check_op(index, op, seen_ids)
        if backup_dir is None and op["op"] in BACKED_UP_OPS:
            raise RequestError(
                "backup_dir", f"ops[{index}] ({op['op']}) writes, so a backup folder is required"
            )
    request = {
        "v": PROTOCOL_VERSION,
        "check": check,
        "backup_dir": backup_dir,
        "ops": [dict(op) for op in ops],
    }
    try:
        # A round trip proves the request is plain JSON and detaches it from the caller's objects.
        text = json.dumps(request, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise RequestError("ops", f"holds a value that is not JSON: {exc}") from exc
    decoded: dict[str, Any] = json.loads(text)
    return decoded


# ---------------------------------------------------------------- responses


@dataclass(frozen=True)
class OpError:
    kind: str
    message: str


@dataclass(frozen=True)
class OpResult:
    op: str
    id: str | None
    ok: bool
    changed: bool
    skipped: bool
    data: dict[str, Any]
    error: OpError | None

    def raise_for_error(self, host: str) -> None:
        if self.error is not None:
            raise OpFailed(
                kind=self.error.kind, message=self.error.message, op=self.op, op_id=self.id, host=host
            )


@dataclass(frozen=True)
class Response:
    host: str
    ok: bool
    results: list[OpResult]
    backups: list[str]
    error: OpError | None = None

    def by_id(self, op_id: str) -> OpResult:
        found = self.result(op_id)
        if found is None:
            raise KeyError(f"{self.host}: no result with id {op_id!r}")
        return found

    def result(self, op_id: str) -> OpResult | None:
        """The result of the op with this id, or None when the request had no such op."""
        for result in self.results:
            if result.id == op_id:
                return result
        return None

    def ran(self, op_id: str) -> bool:
        """The op ran and succeeded (not skipped by its `when`, not failed)."""
        found = self.result(op_id)
        return found is not None and found.ok and not found.skipped

    def skipped(self, op_id: str) -> bool:
        found = self.result(op_id)
        return found is not None and found.skipped

    def data(self, op_id: str) -> dict[str, Any]:
        """The op's data when it ran, else an empty mapping (a read that did not happen found nothing)."""
        found = self.result(op_id)
        return found.data if found is not None and self.ran(op_id) else {}

    def first_failure(self) -> OpResult | None:
        """The op that failed (not those skipped after it); a refused request counts as op `(request)`."""
        if self.error is not None:
            return OpResult(
                op="(request)", id=None, ok=False, changed=False, skipped=False, data={}, error=self.error
            )
        for result in self.results:
            if not result.ok and not result.skipped:
                return result
        return None

    def raise_for_error(self) -> None:
        """Raise `OpFailed` for a refused request or the first op that failed (not one merely skipped)."""
        failure = self.first_failure()
        if failure is not None:
            failure.raise_for_error(self.host)


_CLIXML_LINE = re.compile(r"^\s*(#< CLIXML|<Objs\b)")
_CLIXML_ERROR = re.compile(r'<S S="Error">(.*?)</S>', re.DOTALL)
_CLIXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def stderr_text(raw: bytes) -> str:
    """Readable text from stderr, unwrapping PowerShell's `#< CLIXML` error records."""
    text = raw.decode("utf-8", errors="replace")
    if not text.startswith("#< CLIXML"):
        return text.strip()
    parts = [html.unescape(part) for part in _CLIXML_ERROR.findall(text)]
    joined = "".join(_CLIXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), part) for part in parts)
    return joined.strip()


def output_lines(text: str) -> list[str]:
    """`text` cut at CRLF and LF only, as the console and PowerShell end lines.

    Not `str.splitlines()`: that also cuts at U+0085, U+2028 and U+2029, which are legal in Windows
    file and process names and so appear inside the JSON strings the executor prints."""
    return text.replace("\r\n", "\n").split("\n")


def _json_text(stdout: str, exit_code: int, host: str) -> str:
    text = stdout.lstrip("\ufeff")
    # Some connections fold the progress stream (CLIXML) into stdout; those lines are never JSON.
    lines = [line for line in output_lines(text) if line.strip() and not _CLIXML_LINE.match(line)]
    if not lines:
        raise MalformedResponse(f"executor printed no response (exit code {exit_code})", host=host)
    return "\n".join(lines)


def _parse_error(value: Any, where: str, host: str) -> OpError:
    if not isinstance(value, dict):
        raise MalformedResponse(f"{where}.error is not an object", host=host)
    kind, message = value.get("kind"), value.get("message")
    if kind not in ERROR_KINDS or not isinstance(message, str):
        raise MalformedResponse(
            f"{where}.error needs a known kind and a message (got kind {kind!r})", host=host
        )
    return OpError(kind=kind, message=message)


def _parse_result(value: Any, index: int, host: str) -> OpResult:
    where = f"results[{index}]"
    if not isinstance(value, dict):
        raise MalformedResponse(f"{where} is not an object", host=host)
    op, op_id, ok = value.get("op"), value.get("id"), value.get("ok")
    if (
        not isinstance(op, str)
        or not isinstance(ok, bool)
        or (op_id is not None and not isinstance(op_id, str))
    ):
        raise MalformedResponse(
            f"{where} needs a string op, a boolean ok and an optional string id", host=host
        )
    skipped = value.get("skipped", False)
    if not isinstance(skipped, bool):
        raise MalformedResponse(f"{where}.skipped is not a boolean", host=host)
    if ok:
        data, changed = value.get("data"), value.get("changed")
        if not isinstance(data, dict) or not isinstance(changed, bool):
            raise MalformedResponse(
                f"{where} is ok but lacks an object data and a boolean changed", host=host
            )
        return OpResult(op=op, id=op_id, ok=True, changed=changed, skipped=skipped, data=data, error=None)
    error = _parse_error(value.get("error"), where, host)
    return OpResult(op=op, id=op_id, ok=False, changed=False, skipped=skipped, data={}, error=error)


def decode_response(stdout: str, exit_code: int, *, host: str) -> Response:
    """Decode the executor's stdout. Raises `MalformedResponse` unless it is exactly one v1 response.

    Exit code 0 = request understood, 1 = request refused (top-level `error`). PSRP has no exit
    code, so 0 with a refused request is accepted; anything else that disagrees is refused."""
    text = _json_text(stdout, exit_code, host)
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise MalformedResponse(
            f"executor output is not one JSON document ({exc}; exit code {exit_code})", host=host
        ) from exc
    if not isinstance(document, dict):
        raise MalformedResponse("executor output is not a JSON object", host=host)
    if document.get("v") != PROTOCOL_VERSION or not _is_int(document.get("v")):
        raise MalformedResponse(f"unsupported protocol version {document.get('v')!r}", host=host)
    results, backups, ok = document.get("results"), document.get("backups"), document.get("ok")
    if not isinstance(results, list) or not isinstance(backups, list) or not isinstance(ok, bool):
        raise MalformedResponse("response needs a list results, a list backups and a boolean ok", host=host)
    if not all(isinstance(item, str) for item in backups):
        raise MalformedResponse("backups must be file paths (strings)", host=host)
    error = _parse_error(document["error"], "response", host) if "error" in document else None
    if exit_code not in (0, 1) or (exit_code == 1 and error is None):
        raise MalformedResponse(
            f"executor exited with code {exit_code} without refusing the request", host=host
        )
    parsed = [_parse_result(item, index, host) for index, item in enumerate(results)]
    if ok != (error is None and all(result.ok for result in parsed)):
        raise MalformedResponse("response ok disagrees with its results", host=host)
    return Response(host=host, ok=ok, results=parsed, backups=list(backups), error=error)


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; PowerShell never prints them.
    raise ValueError(f"{name} is not valid JSON")
