"""The simulator's host model: Windows behaviour as ground truth, no I/O.

The behaviour model is docs/windows-facts.md#where-a-bind-lands.

Everything a simulated Windows host does lives in this package; the twin (`vipctl.sim.twin`) only
translates executor ops into calls on it, and the front door only moves bytes."""
