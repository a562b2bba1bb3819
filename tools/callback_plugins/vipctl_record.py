# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Append every task result to $VIPCTL_RECORD as JSON lines (used by the demo and the tests).

ansible-core ships no JSON callback, and the demo and tests need each host's result dict.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: vipctl_record
type: aggregate
short_description: record task results as JSON lines for the integration tests
description: Appends one JSON object per host and task to the file named by VIPCTL_RECORD.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vipctl_record"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, status: str, result: Any) -> None:
        path = os.environ.get("VIPCTL_RECORD")
        if not path:
            return
        task = result._task
        entry = {
            "status": status,
            "host": result._host.get_name(),
            "task": task.get_name(),
            "action": task.action,
            "result": json.loads(json.dumps(result._result, default=str)),
        }
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")

    def v2_runner_on_ok(self, result: Any) -> None:
        self._write("changed" if result._result.get("changed") else "ok", result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._write("failed", result)

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._write("skipped", result)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._write("unreachable", result)
