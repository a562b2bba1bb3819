"""The make_action fixture: one action plugin wired to a fake connection (see action_harness)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from action_harness import GOOD_ARGS, SECRET, ActionFactory, ActionRun, FakeConnection, load_action_class
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins import loader as plugin_loader
from ansible.template import Templar


@pytest.fixture
def make_action() -> Iterator[ActionFactory]:
    def factory(
        module: str,
        args: dict[str, Any] | None = None,
        *,
        check_mode: bool = False,
        diff: bool = False,
        connection: str = "ansible.builtin.winrm",
    ) -> ActionRun:
        task = Task()
        task.action = f"vipctl.farm.{module}"
        task.args = dict(GOOD_ARGS[module] if args is None else args)
        task.check_mode = check_mode
        task.diff = diff
        play_context = PlayContext()
        play_context.check_mode = check_mode
        play_context.diff = diff
        play_context.remote_user = "vipctl-admin"
        play_context.password = SECRET
        fake = FakeConnection(_load_name=connection)
        loader = DataLoader()
        templar = Templar(loader=loader)
        action = load_action_class(module)(
            task=task,
            connection=fake,
            play_context=play_context,
            loader=loader,
            templar=templar,
            shared_loader_obj=plugin_loader,
        )
        task_vars = {
            "inventory_hostname": "rdsh01",
            "ansible_connection": connection,
            "ansible_user": "vipctl-admin",
            "ansible_password": SECRET,
            "ansible_winrm_password": SECRET,
        }
        return ActionRun(action=action, connection=fake, task_vars=task_vars)

    yield factory
