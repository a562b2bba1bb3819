"""`vipctl` end to end against the simulator: real pywinrm clients, the shipped executor, real output."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_sim import start_sim, vipctl

from vipctl.cli.credentials import Redactor
from vipctl.sim.farm import load_farm, scaled_farm
from vipctl.sim.front_door import SimServer

DESIRED = {
    "vipctl_rds_ip_virtualization": {
        "mode": "per_program",
        "programs": ["licclient.exe", "softphone.exe"],
        "adapter": "10.0.0.0/24",
    },
    "vipctl_citrix_virtual_loopback": {"programs": ["crmclient.exe"]},
    "vipctl_prefer_loopback": {"enabled": False},
    "vipctl_verify": {"programs": ["crmclient.exe"]},
}
FARM_PASSWORD = "Sim-Farm-Passw0rd!"


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[tuple[SimServer, Path, Path]]:
    sim, inventory = start_sim(load_farm(None), tmp_path / "sim")
    desired = tmp_path / "desired.yml"
    desired.write_text(yaml.safe_dump(DESIRED), encoding="utf-8")
    yield sim, inventory, desired
    sim.stop()


def test_status_reads_every_host_and_never_prints_the_password(farm: tuple[SimServer, Path, Path]) -> None:
    _, inventory, _ = farm
    code, out, _ = vipctl("status", "-i", str(inventory), "--json")
    document = json.loads(out)
    assert code == 0
    assert [h["host"] for h in document["hosts"]] == [
        "ddc01",
        "vda2016-01",
        "vda2019-01",
        "vda2022-01",
        "w10ms-01",
    ]
    support = {h["host"]: h["results"][0]["data"]["support"]["supported"] for h in document["hosts"]}
    assert support["w10ms-01"] is False and support["vda2019-01"] is True
    assert FARM_PASSWORD not in out
    code, text, _ = vipctl("status", "-i", str(inventory), "-l", "citrix_vdas:!w10ms-01")
    assert code == 0 and "vda2022-01" in text and "w10ms-01" not in text and "ddc01" not in text
    assert "3 host(s): 3 ok, 0 failed" in text


def test_apply_plans_writes_converges_and_rolls_back(farm: tuple[SimServer, Path, Path]) -> None:
    sim, inventory, desired = farm
    base = ("-i", str(inventory), "-d", str(desired), "-l", "!w10ms-01")
    before = sim.host("vda2019-01").snapshot()
    code, out, _ = vipctl("apply", *base, "--check")
    assert code == 2 and "would change" in out and "EnableVirtualIP" in out
    after = sim.host("vda2019-01").snapshot()
    assert (after["registry"], after["files"]) == (before["registry"], before["files"])
    code, out, err = vipctl("apply", *base)  # no terminal, no --yes: refuses before writing
    assert code == 3 and "--yes" in err
    code, out, _ = vipctl("apply", *base, "--yes", "--json")
    document = json.loads(out)
    assert code == 0
    assert {h["host"] for h in document["hosts"]} == {"ddc01", "vda2016-01", "vda2019-01", "vda2022-01"}
    assert all(h["ok"] for h in document["hosts"])
    code, out, _ = vipctl("apply", *base, "--check")
    assert code == 0 and "no changes needed" in out
    code, out, _ = vipctl("rollback", "-i", str(inventory), "-l", "vda2019-01", "--check")
    assert code == 2 and "rds_ip_virtualization" in out
    code, out, _ = vipctl("rollback", "-i", str(inventory), "-l", "vda2019-01", "--json")
    assert code == 0 and json.loads(out)["hosts"][0]["results"][0]["changed"] is True
    code, out, _ = vipctl("apply", "-i", str(inventory), "-d", str(desired), "-l", "vda2019-01", "--check")
    assert code == 2  # rolled back, so the host drifted from the desired state again


def test_verify_fails_before_rollout_and_passes_after_sessions_restart(
    farm: tuple[SimServer, Path, Path],
) -> None:
    sim, inventory, desired = farm
    hosts = ("-i", str(inventory), "-d", str(desired), "-l", "vda2022-01:ddc01")
    code, out, _ = vipctl("verify", *hosts)
    assert code == 2 and "not_listening" in out
    assert vipctl("apply", *hosts, "--yes")[0] == 0
    vda = sim.host("vda2022-01")
    vda.reboot()
    deadline = time.monotonic() + 10
    while not vda.is_up() and time.monotonic() < deadline:
        time.sleep(0.05)
    vda.policy_refresh()
    vda.logoff_sessions(None)
    vda.logon_sessions()
    code, out, _ = vipctl("verify", *hosts, "--json")
    document = json.loads(out)
    verification = document["hosts"][0]["results"][0]["data"]["verification"]
    assert verification["counts"]["ok"] == 3, out
    assert code == 0


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_audit_report_opens_in_headless_chromium(farm: tuple[SimServer, Path, Path], tmp_path: Path) -> None:
    _, inventory, desired = farm
    report = tmp_path / "farm.html"
    code, out, _ = vipctl("audit", "-i", str(inventory), "-d", str(desired), "--report", str(report))
    assert code == 2  # crmclient.exe instances do not bind their own address yet
    assert "needs Citrix virtual loopback: crmclient.exe" in out
    markdown = tmp_path / "farm.md"
    assert vipctl("audit", "-i", str(inventory), "--report", str(markdown))[0] == 0
    assert "| vda2016-01 | crmclient.exe | tcp/9000 |" in markdown.read_text(encoding="utf-8")
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tempfile.mkdtemp()}",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert '<td id="hosts-total">5</td>' in dom
    assert '<td id="needs-loopback">crmclient.exe</td>' in dom
    assert "licclient.exe" in dom.split('id="needs-vip"')[1].split("</td>")[0]
    # Only session 1's crmclient.exe gets 127.0.0.1:9000: 2 losers on each of the 3 Server VDAs; the
    # unsupported Windows 10 host gets no verdict at all.
    assert dom.count(">not_listening<") == 6
    assert "Windows 10 Enterprise multi-session" in dom
    assert FARM_PASSWORD not in dom


def test_faulty_hosts_fail_alone(farm: tuple[SimServer, Path, Path]) -> None:
    sim, inventory, _ = farm
    sim.set_faults("vda2016-01", {"http_500": True})
    sim.set_faults("vda2019-01", {"down": True})
    code, out, _ = vipctl("status", "-i", str(inventory), "--json")
    document = json.loads(out)
    ok = {h["host"]: h["ok"] for h in document["hosts"]}
    assert code == 1
    assert ok == {
        "ddc01": True,
        "vda2016-01": False,
        "vda2019-01": False,
        "vda2022-01": True,
        "w10ms-01": True,
    }
    assert document["summary"]["failed_hosts"] == ["vda2016-01", "vda2019-01"]


def test_wrong_password_from_the_environment_is_never_echoed(
    farm: tuple[SimServer, Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, inventory, _ = farm
    secret = "Env-Secret-Passw0rd-123"
    monkeypatch.setenv("VIPCTL_PASSWORD", secret)
    report = tmp_path / "r.md"
    code, out, err = vipctl(
        "status", "-i", str(inventory), "-l", "vda2022-01", "--json", "--report", str(report)
    )
    assert code == 1
    assert "Authentication" in out or "401" in out or "credentials" in out.lower()
    for text in (out, err, report.read_text(encoding="utf-8")):
        assert secret not in text and FARM_PASSWORD not in text


def test_two_hundred_hosts_with_faults_on_a_few(tmp_path: Path) -> None:
    sim, inventory = start_sim(scaled_farm(200), tmp_path / "sim")
    try:
        for name in ("vda0010", "vda0100"):
            sim.set_faults(name, {"http_401": True})
        code, out, _ = vipctl("status", "-i", str(inventory), "--forks", "25", "--json")
        document = json.loads(out)
        assert code == 1
        assert document["summary"]["hosts"] == 200
        assert document["summary"]["failed_hosts"] == ["vda0010", "vda0100"]
        assert all(h["results"][0]["data"]["support"]["supported"] for h in document["hosts"] if h["ok"])
    finally:
        sim.stop()


def test_apply_authenticates_and_opens_a_shell_once_per_host(farm: tuple[SimServer, Path, Path]) -> None:
    # Plan and apply are two phases over the same hosts; the second reuses the first's session.
    sim, inventory, desired = farm
    before = sim.counters("vda2019-01")["by_status"].get("401", 0)
    code, out, _ = vipctl(
        "apply", "-i", str(inventory), "-d", str(desired), "-l", "vda2019-01", "--yes", "--json"
    )
    assert code == 0 and json.loads(out)["hosts"][0]["results"]
    challenges = sim.counters("vda2019-01")["by_status"].get("401", 0) - before
    assert challenges == 2  # one NTLM handshake: the anonymous request and the challenge
    assert sim.counters("vda2019-01")["open_shells"] == 0  # and the shell is deleted at the end


def test_output_is_redacted_once_at_the_boundary(
    farm: tuple[SimServer, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: dict[str, int] = {"data": 0, "json_text": 0, "text": 0}
    for name in calls:
        original = getattr(Redactor, name)

        def counted(self: Redactor, value: Any, _name: str = name, _original: Any = original) -> Any:
            calls[_name] += 1
            return _original(self, value)

        monkeypatch.setattr(Redactor, name, counted)
    _, inventory, _ = farm
    code, out, _ = vipctl("status", "-i", str(inventory), "--json")
    assert code == 0 and FARM_PASSWORD not in out
    # One pass over the serialized document; no walk over the records.
    assert (calls["data"], calls["json_text"], calls["text"]) == (0, 1, 0)
