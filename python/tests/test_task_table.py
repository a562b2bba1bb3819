"""One table of tasks for the action plugins and the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

from vipctl.action_plugin import action
from vipctl.cli import jobs
from vipctl.cli.commands import script
from vipctl.tasks import TASKS

REPO = Path(__file__).resolve().parents[2]


def test_every_module_has_its_task_and_nothing_else_is_listed() -> None:
    modules = {path.stem for path in (REPO / "plugins" / "modules").glob("*.py") if path.stem != "__init__"}
    assert set(TASKS) == modules


def test_the_cli_and_the_action_plugins_read_the_same_table() -> None:
    assert jobs.TASKS is TASKS and action.TASKS is TASKS
    assert set(script.MODULES) <= set(TASKS)


def test_no_task_is_imported_by_a_string() -> None:
    for module in (action, jobs, script):
        tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
        imported = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        assert "importlib" not in imported, module.__name__
