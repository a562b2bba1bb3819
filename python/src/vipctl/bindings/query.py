"""vip_bindings' parameters, checked before anything is sent to a host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vipctl.bindings.expect import ExpectSpec
from vipctl.bindings.filters import EndpointFilter, endpoint_filter
from vipctl.bindings.in_force import Feature
from vipctl.settings import SettingsError, parse_exe_names
from vipctl.settings.fields import (
    as_mapping,
    get_bool,
    get_choice,
    get_int,
    get_list,
    get_name,
    reject_unknown_keys,
)

OPTIONS = ("process", "port", "protocol", "state", "include_system", "expect")
EXPECT_OPTIONS = ("programs", "feature", "port")
_STATES = ("Listen", "Established", "Bound", "TimeWait", "CloseWait", "SynSent", "SynReceived")


@dataclass(frozen=True)
class BindingsQuery:
    endpoint_filter: EndpointFilter
    include_system: bool
    expect: ExpectSpec | None


def _port(field: str, value: object) -> int | None:
    port = get_int(field, value, minimum=1, default=None)
    if port is not None and port > 65535:
        raise SettingsError(field, value, "use a port number from 1 to 65535")
    return port


def _processes(value: object) -> list[str]:
    # Filter names are not exe-validated: the kernel's "System" process has no .exe.
    return [
        str(get_name(f"process[{i}]", item, default=""))
        for i, item in enumerate(get_list("process", value) or [])
    ]


def _expect(value: object) -> ExpectSpec | None:
    if value is None:
        return None
    spec = as_mapping("expect", value)
    reject_unknown_keys("expect", spec, EXPECT_OPTIONS)
    programs = parse_exe_names("expect.programs", spec.get("programs"))
    if not programs:
        raise SettingsError(
            "expect.programs", spec.get("programs"), "list at least one program to verify, e.g. app.exe"
        )
    feature = get_choice(
        "expect.feature", spec.get("feature"), [f.value for f in Feature], Feature.AUTO.value
    )
    return ExpectSpec(tuple(programs), Feature(feature), _port("expect.port", spec.get("port")))


def parse_bindings_query(params: Any) -> BindingsQuery:
    """The query from module parameters; None means "not given" (Ansible passes every option)."""
    opts = as_mapping("params", params)
    reject_unknown_keys("", opts, OPTIONS)
    protocol = get_choice("protocol", opts.get("protocol"), ["tcp", "udp"], None)
    state_raw = opts.get("state")
    # TCP state names are matched case-insensitively, as Get-NetTCPConnection -State does.
    by_lower = {name.lower(): name for name in _STATES}
    state_in = by_lower.get(state_raw.lower(), state_raw) if isinstance(state_raw, str) else state_raw
    state = get_choice("state", state_in, _STATES, None)
    return BindingsQuery(
        endpoint_filter=endpoint_filter(
            processes=_processes(opts.get("process")),
            port=_port("port", opts.get("port")),
            protocol=protocol,
            state=state,
        ),
        include_system=bool(get_bool("include_system", opts.get("include_system"), False)),
        expect=_expect(opts.get("expect")),
    )
