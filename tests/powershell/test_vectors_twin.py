"""Every contract vector through the simulator's Python twin of the executor.

The vectors (tests/powershell/vectors/*.json, format in vectors/README.md) are the executor's
specification; the Pester suite runs the same files against the real script on Windows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from vector_support import SECTIONS, VECTORS, build_host, differences, load, state_differences

from vipctl import executor
from vipctl.sim.twin.backend import run_executor
from vipctl.sim.twin.dispatch import KNOWN_OPS


def test_vectors_exist_for_every_op_and_error_kind() -> None:
    ops: set[str] = set()
    kinds: set[str] = set()
    for path in VECTORS:
        vector = load(path)
        request = vector["request"]
        if isinstance(request, dict) and isinstance(request.get("ops"), list):
            ops.update(str(op.get("op")) for op in request["ops"] if isinstance(op, dict))
        response = vector["response"]
        kinds.update(r["error"]["kind"] for r in response.get("results", []) if "error" in r)
        if "error" in response:
            kinds.add(response["error"]["kind"])
    assert set(KNOWN_OPS) <= ops, f"ops without a vector: {sorted(set(KNOWN_OPS) - ops)}"
    wanted = {
        "bad_request",
        "unknown_op",
        "not_found",
        "wrong_type",
        "access_denied",
        "policy_controlled",
        "not_available",
        "conflict",
        "precondition_failed",
        "skipped",
        "delegation_required",
        "constrained_language",
        "insecure_backup_root",
        "backup_tampered",
    }
    assert wanted <= kinds, f"error kinds without a vector: {sorted(wanted - kinds)}"


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vector(path: Path) -> None:
    vector = load(path)
    assert set(vector) <= {
        "name",
        "description",
        "requires",
        "host",
        "state_before",
        "request",
        "response",
        "state_after",
    }, f"unknown top-level fields in {path.name}"
    assert set(vector.get("state_before") or {}) <= set(SECTIONS)
    sim = build_host(vector)
    request = vector["request"]
    text = request if isinstance(request, str) else json.dumps(request)
    out, code = run_executor(sim, executor.script_text(), text)
    response = json.loads(out)
    assert code == (1 if "error" in vector["response"] else 0)
    assert differences(vector["response"], response) == [], json.dumps(response, indent=1)
    assert state_differences(sim, vector.get("state_after") or {}) == []
