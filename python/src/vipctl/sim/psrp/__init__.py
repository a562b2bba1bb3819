"""The PSRP `Microsoft.PowerShell` shell of the simulator, built on psrpcore's server classes."""

from __future__ import annotations

from vipctl.sim.psrp.shell import PsrpShell

__all__ = ["PsrpShell"]
