"""Odd input through real Ansible: a message naming the option, and no contact with the host."""

from __future__ import annotations

from pathlib import Path

import pytest
from simfarm import running_farm

HOST = "vda2019-01"
CASES = [
    ("rb", {"vip_rollback": {"since": "0001-01-01T00:00:00+14:00"}}, "since", "out of range"),
    # (A lone surrogate cannot reach a module: Ansible's YAML parser refuses it first.)
    ("rb", {"vip_rollback": {"sets": ["crm\u200bset"]}}, "sets[0]", "U+200B"),
    ("loop", {"citrix_virtual_loopback": {"programs": ["a.exe"], "priority": "²"}}, "priority", "'²'"),
    ("bind", {"vip_bindings": {"port": "²"}}, "port", "'²'"),
    (
        "rds",
        {"rds_ip_virtualization": {"mode": "per_program", "programs": ["\u202eexe.gpj"]}},
        "programs",
        "U+202E",
    ),
]


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_odd_module_input_fails_the_task_with_a_message_before_contact(
    tmp_path: Path, connection: str
) -> None:
    with running_farm(tmp_path, connection) as farm:
        tasks = [
            {"name": f"{name}{i}", **task, "ignore_errors": True}
            for i, (name, task, _field, _fragment) in enumerate(CASES)
        ]
        before = farm.admin.counters(HOST)["requests"]
        record = farm.play(tasks, HOST)
        after = farm.admin.counters(HOST)["requests"]
    assert record.rc == 0, record.stdout + record.stderr
    for i, (name, _task, field, fragment) in enumerate(CASES):
        result = record.results(f"{name}{i}")[HOST]
        assert result["_status"] == "failed", result
        assert field in result["msg"] and fragment in result["msg"], result["msg"]
    assert "Traceback" not in record.stdout + record.stderr
    assert after == before  # refused before any request reached the host
