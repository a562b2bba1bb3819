"""The CI workflow parses and keeps its Windows jobs: Pester through the entry path, and real
WinRM to the runner itself with the CLI and with Ansible over both connections.

These jobs cannot run where vipctl is built (no Windows); this keeps them ready."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"
LOCALHOST = REPO / ".github" / "windows-localhost.yml"


def jobs() -> dict[str, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return dict(loaded["jobs"])


def scripts(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def uses(job: dict[str, Any]) -> list[str]:
    return [str(step["uses"]) for step in job["steps"] if "uses" in step]


def test_the_workflow_has_the_linux_and_both_windows_jobs() -> None:
    found = jobs()
    assert set(found) >= {"linux", "windows-pester", "windows-winrm"}
    assert found["windows-pester"]["runs-on"] == "windows-latest"
    assert found["windows-winrm"]["runs-on"] == "windows-latest"
    assert "make test" in scripts(found["linux"])


def test_pester_runs_with_vipctl_installed_to_make_its_inputs() -> None:
    job = jobs()["windows-pester"]
    run = scripts(job)
    assert any(u.startswith("actions/setup-python@") for u in uses(job))
    assert "pip install --no-deps -e python/" in run
    assert run.index("pip install --no-deps -e python/") < run.index("Invoke-Pester")
    assert "tests/powershell/vipctl.Tests.ps1" in run


def test_the_winrm_job_enables_winrm_and_reaches_it_with_the_cli_and_ansible() -> None:
    job = jobs()["windows-winrm"]
    run = scripts(job)
    for needed in ("Enable-PSRemoting -Force", "winrm quickconfig", "New-LocalUser", "Add-LocalGroupMember"):
        assert needed in run, needed
    assert "::add-mask::" in run, "the run's password is masked in the log"
    assert "vipctl status -i .github/windows-localhost.yml" in run
    ansible = [line.strip() for line in run.splitlines() if line.strip().startswith("ansible localhost")]
    assert ansible == [
        "ansible localhost -i .github/windows-localhost.yml -m vip_status",
        "ansible localhost -i .github/windows-localhost.yml -m vip_status -e ansible_connection=psrp",
    ]
    # The controller runs in Ubuntu under WSL 1 on the same runner, after WinRM is up.
    wsl = [step for step in job["steps"] if str(step.get("uses", "")).startswith("Vampire/setup-wsl@")]
    assert len(wsl) == 1 and wsl[0]["with"]["wsl-version"] == 1
    ansible_step = next(step for step in job["steps"] if "ansible localhost" in str(step.get("run", "")))
    assert ansible_step["shell"] == "wsl-bash {0}"
    assert "VIPCTL_PASSWORD" in job["env"]["WSLENV"]


def test_the_localhost_inventory_reaches_the_runner_over_http_with_ntlm_and_no_stored_password() -> None:
    inventory = yaml.safe_load(LOCALHOST.read_text(encoding="utf-8"))
    host = inventory["all"]["hosts"]["localhost"]
    assert host["ansible_host"] == "127.0.0.1"
    assert host["ansible_connection"] == "winrm"
    assert (host["ansible_winrm_transport"], host["ansible_psrp_auth"]) == ("ntlm", "ntlm")
    assert "lookup(" in host["ansible_password"] and "VIPCTL_PASSWORD" in host["ansible_password"]
