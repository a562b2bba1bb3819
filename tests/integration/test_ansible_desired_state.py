"""Nothing is enabled unless asked: site.yml without its desired state, or with a misspelled key,
stops before anything is written, with the CLI's own words. Over winrm and psrp."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sim_farms import load_test_farm
from simfarm import REPO, SimFarm, running_farm

pytestmark = pytest.mark.parametrize("connection", ["winrm", "psrp"])


@pytest.fixture
def farm(tmp_path: Path, connection: str) -> Iterator[SimFarm]:
    with running_farm(tmp_path, connection, farm=load_test_farm()) as running:
        yield running


def ground_truth(farm: SimFarm) -> dict[str, Any]:
    return {host: farm.snapshot(host) for host in farm.admin.hosts()}


def executor_requests(farm: SimFarm) -> int:
    return sum(int(farm.admin.counters(host)["requests"]) for host in farm.admin.hosts())


def test_site_without_a_desired_state_fails_saying_what_to_pass(farm: SimFarm) -> None:
    before, requests = ground_truth(farm), executor_requests(farm)
    record = farm.playbook("site.yml", name="forgotten")
    assert record.rc != 0
    failures = record.failed()
    assert failures, record.stdout
    message = failures[0]["result"]["msg"]
    assert "vipctl_rds_ip_virtualization is not set" in message
    assert "-e @inventory/sim-desired-state.yml" in message
    assert executor_requests(farm) == requests  # no host was contacted
    assert ground_truth(farm) == before


def test_a_misspelled_key_fails_like_the_cli(farm: SimFarm, tmp_path: Path) -> None:
    desired = yaml.safe_load((REPO / "inventory" / "sim-desired-state.yml").read_text(encoding="utf-8"))
    desired["vipctl_rds_ip_virtualisation"] = desired.pop("vipctl_rds_ip_virtualization")
    typo = tmp_path / "typo.yml"
    typo.write_text(yaml.safe_dump(desired), encoding="utf-8")
    before, requests = ground_truth(farm), executor_requests(farm)
    record = farm.playbook("site.yml", "-e", f"@{typo}", name="typo")
    assert record.rc != 0
    message = record.failed()[0]["result"]["msg"]
    assert "unknown key(s) vipctl_rds_ip_virtualisation" in message
    # The CLI says the same about the same file, with exit code 3.
    cli = vipctl("apply", "-i", str(farm.inventory), "-d", str(typo), "--check")
    assert cli.returncode == 3 and "unknown key(s) vipctl_rds_ip_virtualisation" in cli.stderr
    # An unknown option inside a role variable is refused too, before anything reaches a host.
    desired["vipctl_rds_ip_virtualization"] = desired.pop("vipctl_rds_ip_virtualisation") | {"adaptor": "x"}
    typo.write_text(yaml.safe_dump(desired), encoding="utf-8")
    record = farm.playbook("site.yml", "-e", f"@{typo}", name="option-typo")
    assert record.rc != 0
    assert "vipctl_rds_ip_virtualization.adaptor" in record.failed()[0]["result"]["msg"]
    assert executor_requests(farm) == requests
    assert ground_truth(farm) == before


def vipctl(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "vipctl"), *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
