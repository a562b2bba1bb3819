"""Unsupported hosts stay visible through the CLI on the default farm (Windows 10 multi-session).

They are marked "unsupported" (never ok, never verified, never advised), a site-wide policy that
reaches them is warned about, and `vipctl_fail_on_unsupported: false` keeps the exit code of a
mixed farm at 0. An adapter CIDR that matches no address of a host is refused before any write.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_sim import start_sim, vipctl

from vipctl.sim.farm import load_farm
from vipctl.sim.front_door import SimServer

REPO = Path(__file__).resolve().parents[2]
SHIPPED = yaml.safe_load((REPO / "inventory" / "sim-desired-state.yml").read_text(encoding="utf-8"))


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[tuple[SimServer, Path]]:
    sim, inventory = start_sim(load_farm(None), tmp_path / "sim")
    yield sim, inventory
    sim.stop()


def desired(tmp_path: Path, **changes: Any) -> str:
    path = tmp_path / "desired.yml"
    path.write_text(yaml.safe_dump({**SHIPPED, **changes}), encoding="utf-8")
    return str(path)


def test_a_mixed_farm_applies_with_exit_0_when_unsupported_hosts_are_left_out(
    farm: tuple[SimServer, Path], tmp_path: Path
) -> None:
    inventory = farm[1]
    strict = desired(tmp_path, vipctl_fail_on_unsupported=True)
    code, out, err = vipctl("apply", "-i", str(inventory), "-d", strict, "--check")
    assert code == 1 and "1 failed" in out, err  # the default: an unsupported host is an error
    code, out, err = vipctl("apply", "-i", str(inventory), "-d", desired(tmp_path), "--yes")
    assert code == 0, out + err
    assert "5 host(s): 4 ok, 0 failed, 1 unsupported" in out
    assert "w10ms-01" in out and "unsupported" in out

    code, out, err = vipctl("status", "-i", str(inventory))
    assert code == 0
    # Not a terminal: one progress line per finished host on stderr, nothing on stdout.
    progress = [line for line in err.splitlines() if line.startswith(("1/5", "2/5", "3/5", "4/5", "5/5"))]
    assert len(progress) == 5 and all(line.endswith(" ok") for line in progress), err
    assert "hosts: " not in out
    row = next(line for line in out.splitlines() if line.startswith("w10ms-01"))
    assert " unsupported " in row
    assert "policy enabled, no filter" in out
    assert "reaches unsupported VDAs too: w10ms-01" in out

    code, out, err = vipctl("verify", "-i", str(inventory), "-d", desired(tmp_path), "--json")
    assert code == 2, err  # the supported hosts need a restart first
    document = json.loads(out)
    rows = {h["host"]: h["results"][0] for h in document["hosts"]}
    assert rows["w10ms-01"]["data"]["verification"] is None
    assert rows["w10ms-01"]["msg"].startswith("unsupported: ")
    assert "w10ms-01" not in document["farm"]["verification"]["hosts_failed"]
    code, text, err = vipctl("verify", "-i", str(inventory), "-d", desired(tmp_path))
    assert code == 2, err
    assert next(line for line in text.splitlines() if line.startswith("w10ms-01")).split()[1] == "unsupported"

    code, out, err = vipctl("audit", "-i", str(inventory), "--json")
    assert code == 0, err
    reports = {
        h["host"]: r["data"]
        for h in json.loads(out)["hosts"]
        for r in h["results"]
        if r["module"] == "vip_bindings"
    }
    assert reports["w10ms-01"]["recommendations"] == []
    assert reports["vda2019-01"]["recommendations"]


def test_an_adapter_cidr_matching_no_host_address_is_refused_before_writing(
    farm: tuple[SimServer, Path], tmp_path: Path
) -> None:
    sim, inventory = farm
    before = sim.host("vda2019-01").snapshot()["registry"]
    rds = {**SHIPPED["vipctl_rds_ip_virtualization"], "adapter": "10.9.0.0/16"}
    wrong = desired(tmp_path, vipctl_rds_ip_virtualization=rds)
    code, out, err = vipctl("apply", "-i", str(inventory), "-d", wrong, "--yes", "-l", "vda2019-01")
    assert code == 1, err
    assert "adapter 10.9.0.0/16 matches no IPv4 address of this host" in out
    assert sim.host("vda2019-01").snapshot()["registry"] == before
