# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter vipctl.farm.desired_state_problem: the CLI's desired-state check for a host's variables."""

from __future__ import annotations

import os
import sys
from typing import Any

try:
    import vipctl  # noqa: F401  # pylint: disable=unused-import
except ImportError:  # an installed collection carries the package under python/src
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "python", "src"))

from vipctl.desired_state import problem_of


def desired_state_problem(variables: dict[str, Any], required: list[str] | None = None) -> str:
    """The error the CLI would give for these `vipctl_*` variables, or an empty string."""
    return problem_of(dict(variables), list(required or []))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"desired_state_problem": desired_state_problem}
