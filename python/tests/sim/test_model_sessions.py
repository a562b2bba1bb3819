"""What WTSEnumerateSessions lists on a real host, and what the sessions op keeps of it."""

from __future__ import annotations

import json

from vipctl import executor
from vipctl.sim.farm import load_farm
from vipctl.sim.twin.backend import run_executor


def test_the_rdp_listener_is_listed_from_65536_and_the_sessions_op_leaves_it_out() -> None:
    sim = load_farm(None).hosts["vda2016-01"]
    listed = [(s.id, s.station, s.state, s.user) for s in sim.wts_sessions()]
    assert listed[0] == (0, "Services", "Disconnected", None)
    assert listed[-1] == (65536, "RDP-Tcp", "Listen", None)
    text, _ = run_executor(sim, executor.script_text(), json.dumps({"v": 1, "ops": [{"op": "sessions"}]}))
    ids = [s["id"] for s in json.loads(text)["results"][0]["data"]["sessions"]]
    assert ids == [s.id for s in sim.wts_sessions() if s.id < 65536]
    assert 65536 not in ids
