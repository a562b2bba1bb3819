# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of every vipctl.farm action plugin, importable wherever the collection is.

Shared controller code lives in plugin_utils, as in ansible.windows and microsoft.ad. The
engine is the `vipctl` package: installed with pip (`pip install vipctl`), or carried by the
collection itself under python/src, which is put on sys.path here, once, when pip did not
install it.
"""

from __future__ import annotations

import os
import sys

try:
    import vipctl  # noqa: F401  # pylint: disable=unused-import
except ImportError:  # an installed collection carries the package under python/src
    COLLECTION_ROOT = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir)
    sys.path.insert(0, os.path.join(COLLECTION_ROOT, "python", "src"))

from vipctl.action_plugin.action import VipctlAction

__all__ = ["VipctlAction"]
