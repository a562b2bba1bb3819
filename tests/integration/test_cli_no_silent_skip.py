"""`vipctl apply` says which hosts it leaves alone; `vipctl audit` says why a host failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from cli_sim import start_sim, vipctl

from vipctl.sim.farm import load_farm

DESIRED = {"vipctl_rds_ip_virtualization": {"mode": "per_program", "programs": ["crmclient.exe"]}}


def _without_groups(inventory: Path, host: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    for group in data["all"]["children"].values():
        (group.get("hosts") or {}).pop(host, None)
    return data


def test_apply_limited_to_a_host_outside_the_groups_says_so_and_exits_3(tmp_path: Path) -> None:
    sim, inventory = start_sim(load_farm(None), tmp_path / "sim")
    try:
        edited = tmp_path / "inventory.yml"
        edited.write_text(yaml.safe_dump(_without_groups(inventory, "vda2019-01")), encoding="utf-8")
        desired = tmp_path / "desired.yml"
        desired.write_text(yaml.safe_dump(DESIRED), encoding="utf-8")
        base = ("apply", "-i", str(edited), "-d", str(desired), "--check")
        code, out, err = vipctl(*base, "-l", "vda2019-01")
        assert code == 3, out + err
        assert "vda2019-01 is in neither rdsh nor citrix_vdas" in err and "no changes needed" not in out
        code, out, err = vipctl(*base, "-l", "ddc01")  # a controller, and no Citrix policy wanted
        assert code == 3 and "Delivery Controller" in err
        assert sim.counters("vda2019-01")["requests"] == 0 and sim.counters("ddc01")["requests"] == 0
        code, out, err = vipctl(*base, "-l", "all:!w10ms-01")  # a pattern: the idle hosts are named
        assert code == 2, out + err
        assert "left alone: ddc01 is a Delivery Controller" in out and "vda2019-01 is in neither" in out
    finally:
        sim.stop()


def test_audit_shows_why_a_host_failed(tmp_path: Path) -> None:
    sim, inventory = start_sim(load_farm(None), tmp_path / "sim")
    try:
        sim.set_faults("vda2022-01", {"http_500": True})
        code, out, _err = vipctl("audit", "-i", str(inventory))
        assert code == 1
        row = next(line for line in out.splitlines() if line.startswith("vda2022-01"))
        assert "FAILED: " in row and "HTTP 500" in row, row
    finally:
        sim.stop()
