"""Loading an action plugin class does the per-module work once, before Ansible forks its workers.

Ansible's controller loads each action plugin class (the linear strategy checks it before queueing
a task) and then forks one worker per host and task: work done at load time is inherited by all
of them; work done in `run` is repeated for every host and task.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest
from action_harness import MODULES, load_action_class

from vipctl.action_plugin import argspecs
from vipctl.tasks import TASKS


@pytest.mark.parametrize("module", MODULES)
def test_loading_the_plugin_derives_its_argspec_and_has_its_task_imported(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    argspecs.argument_spec_for.cache_clear()
    action_class = load_action_class(module)
    assert argspecs.argument_spec_for.cache_info().currsize == 1
    # The TASKS table imports every task with the plugin's base, so workers inherit them too.
    assert f"vipctl.tasks.{module}" in sys.modules and module in TASKS
    # What a forked worker finds: the spec is cached, so its docs are never parsed again.
    parsed: list[Any] = []
    monkeypatch.setattr(argspecs, "documentation_of", lambda path: parsed.append(path) or {})
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the worker's side
        spec = argspecs.argument_spec_for(action_class.module_doc_file(action_class.__new__(action_class)))
        os.write(write, b"ok" if spec and not parsed else b"parsed again")
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    assert os.read(read, 100) == b"ok"
