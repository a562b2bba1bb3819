"""The connection variables a host's desired-state check leaves alone are the ones the transports read."""

from __future__ import annotations

import re
from pathlib import Path

from vipctl import desired_state
from vipctl.transport import ansible_vars


def test_every_vipctl_variable_the_transports_read_is_a_connection_variable() -> None:
    source = Path(ansible_vars.__file__).read_text(encoding="utf-8")
    read = set(re.findall(r'host_vars\.get\("(vipctl_[a-z_]+)"', source))
    assert read and read == set(desired_state.CONNECTION_VARIABLES)


def test_a_hosts_connection_variables_are_not_desired_state() -> None:
    variables = {"vipctl_allow_basic_over_http": True, "vipctl_request_deadline": 30}
    assert desired_state.problem_of(variables) == ""
    assert "unknown key(s)" in desired_state.problem_of({"vipctl_rds_ip_virtualisation": {}})
