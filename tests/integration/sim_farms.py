"""The farm every simulator test starts: the embedded default farm on an address block of its own."""

from __future__ import annotations

from typing import Any

from vipctl.sim.farm import load_farm
from vipctl.sim.relocate import block_for_this_process, relocate_farm

UNENCRYPTED_HOST = "vda2016-01"


def load_test_farm() -> Any:
    """Parallel test workers each get their own 127.N block, so their listeners never collide.

    One host allows unencrypted traffic, as an admin may have set with `winrm set
    winrm/config/service @{AllowUnencrypted="true"}`, so Basic over plain HTTP is exercised too;
    the others take NTLM with message encryption or HTTPS."""
    farm = relocate_farm(load_farm(None), block_for_this_process())
    farm.hosts[UNENCRYPTED_HOST].winrm.allow_unencrypted = True
    return farm
