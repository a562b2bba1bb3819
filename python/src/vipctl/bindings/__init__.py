"""The TCPView procedure, automated: who binds what, where sessions clash, what to configure,
and whether each session's programs bind the address they should."""

from vipctl.bindings.audit import audit_host, farm_summary
from vipctl.bindings.clashes import Clash, ClashInstance, InstanceStatus, find_clashes
from vipctl.bindings.expect import (
    Expectation,
    ExpectSpec,
    InstanceCheck,
    Requested,
    Verdict,
    check_program,
    check_programs,
    expected_address,
    render_table,
)
from vipctl.bindings.exposure import BindKind, Exposure, classify_address, find_exposures
from vipctl.bindings.filters import EndpointFilter, endpoint_filter
from vipctl.bindings.in_force import EffectiveSettings, Feature, effective_settings
from vipctl.bindings.model import (
    BindingsDataError,
    Endpoint,
    EndpointTable,
    ProcessInfo,
    Session,
    parse_net_endpoints,
    parse_sessions,
    program_key,
)
from vipctl.bindings.recommend import ProgramAdvice, Recommendation, recommend

__all__ = [
    "BindKind",
    "BindingsDataError",
    "Clash",
    "ClashInstance",
    "EffectiveSettings",
    "Endpoint",
    "EndpointFilter",
    "EndpointTable",
    "ExpectSpec",
    "Expectation",
    "Exposure",
    "Feature",
    "InstanceCheck",
    "InstanceStatus",
    "ProcessInfo",
    "ProgramAdvice",
    "Recommendation",
    "Requested",
    "Session",
    "Verdict",
    "audit_host",
    "check_program",
    "check_programs",
    "classify_address",
    "effective_settings",
    "endpoint_filter",
    "expected_address",
    "farm_summary",
    "find_clashes",
    "find_exposures",
    "parse_net_endpoints",
    "parse_sessions",
    "program_key",
    "recommend",
    "render_table",
]
