"""TaskResult.to_ansible: module data at the top level, standard keys always present and winning."""

from __future__ import annotations

from vipctl.tasks.common import TaskResult


def test_to_ansible_shape() -> None:
    result = TaskResult(
        changed=True, msg="m", data={"host": {"kind": "server_2022"}, "changed": "spoof"}, warnings=["w"]
    )
    out = result.to_ansible()
    assert out["changed"] is True and out["host"] == {"kind": "server_2022"}
    assert out["warnings"] == ["w"] and out["backups"] == [] and out["reboot_required"] is False
    assert "diff" not in out
    assert TaskResult(diff={"before": "a", "after": "b"}).to_ansible()["diff"] == {
        "before": "a",
        "after": "b",
    }
