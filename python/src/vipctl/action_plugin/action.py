"""The one action-plugin base every vipctl.farm module uses: validate, run the task, shape the result."""

from __future__ import annotations

import inspect
import os
from typing import Any

from ansible.plugins.action import ActionBase

from vipctl.action_plugin.argspecs import argument_spec_for
from vipctl.action_plugin.connection_runner import (
    ConnectionRunner,
    ExecutorTransportError,
    UnsupportedConnection,
)
from vipctl.executor.errors import RequestError
from vipctl.settings import SettingsError
from vipctl.tasks import TASKS


def module_doc_file(action_class: type) -> str:
    """plugins/modules/<module>.py beside the plugin's plugins/action/ folder."""
    action_dir = os.path.dirname(os.path.abspath(inspect.getfile(action_class)))
    return os.path.join(action_dir, os.pardir, "modules", f"{getattr(action_class, 'MODULE', '')}.py")


class VipctlAction(ActionBase):  # type: ignore[misc]
    """Subclasses only name their module; everything else is shared."""

    MODULE = ""
    TRANSFERS_FILES = False
    _requires_connection = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Derive the argument spec when the plugin is loaded (the tasks come with `vipctl.tasks`).

        Ansible's controller loads each action plugin class once (the strategy checks it before
        queueing the task) and forks a worker per host and task; what is done here is inherited
        by every worker, instead of each worker parsing the module's docs.
        """
        super().__init_subclass__(**kwargs)
        if cls.MODULE:
            argument_spec_for(module_doc_file(cls))
            if cls.MODULE not in TASKS:
                raise LookupError(f"no vipctl task for module {cls.MODULE!r}")

    def module_doc_file(self) -> str:
        return module_doc_file(type(self))

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        host = str(task_vars.get("inventory_hostname", "host"))
        # Bad arguments fail here, before anything is sent to the host.
        _, params = self.validate_argument_spec(argument_spec=argument_spec_for(self.module_doc_file()))
        try:
            runner = ConnectionRunner(self._connection, host)
            outcome = TASKS[self.MODULE](params, check=bool(self._task.check_mode), runner=runner)
        except (SettingsError, RequestError, UnsupportedConnection, ExecutorTransportError) as exc:
            result.update(failed=True, changed=False, msg=str(exc))
            return result
        shaped: dict[str, Any] = outcome.to_ansible()
        if not self._task.diff:
            shaped.pop("diff", None)
        result.update(shaped)
        return result
