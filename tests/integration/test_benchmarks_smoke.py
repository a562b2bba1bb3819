"""Each benchmark in bench/ run at 5 hosts, so they keep working (the figures come from bench/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _bench(script: str, *args: str, timeout: float) -> tuple[int, object]:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args, "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    return done.returncode, json.loads(done.stdout)


@pytest.mark.parametrize("transport", ["ntlm-http", "basic-https"])
def test_status_fleet_at_five_hosts(transport: str) -> None:
    extra = ["--https"] if transport == "basic-https" else []
    code, result = _bench(
        "status_fleet.py", "--hosts", "5", "--latency-ms", "1", "--forks", "5", *extra, timeout=600
    )
    assert isinstance(result, dict)
    assert code == 0 and result["hosts_ok"] == 5 and result["executor_calls"] == 5
    # Authentication and the shell's life around one executor call (HTTPS Basic needs no challenge).
    assert result["requests_per_host"]["median"] == (5 if transport == "basic-https" else 8)
    # The executor travels compressed: the request side of a call is tens of KB, not a hundred.
    assert 10_000 < result["request_bytes_per_host"]["median"] < 60_000
    assert result["client_cpu_s"] > 0 and result["wall_s"] > 0 and result["ratio_to_limit"] > 0
    assert result["load_before"] and result["load_after"]


@pytest.mark.timeout(1200)
def test_site_fleet_at_five_hosts() -> None:
    code, steps = _bench("site_fleet.py", "--hosts", "5", "--forks", "5", timeout=1200)
    assert isinstance(steps, list)
    assert [step["step"] for step in steps] == ["first run", "rerun", "vip_status"]
    assert code == 0, [step["stderr_tail"] for step in steps]
    first, rerun, status = steps
    assert first["statuses"].get("changed", 0) > 0 and rerun["statuses"].get("changed", 0) == 0
    assert status["statuses"] == {"ok": 5}
    assert all(step["requests_per_host"]["median"] > 0 for step in steps)
