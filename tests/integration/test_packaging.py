"""What a user gets: the built collection, installed from its tarball into a clean environment.

Also the packaging metadata around it: the execution environment definition (ansible-builder),
bindep.txt and the changelog fragments (antsibull-changelog).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The simulated farm of this test lives on its own 127.63.0.0/16, so it never collides with the
# integration tests' farms (127.0.10.x) or the molecule scenarios' (127.61.x, 127.62.x).
OCTET = 63

pytestmark = [pytest.mark.xdist_group("molecule"), pytest.mark.timeout(300)]


def _run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("cwd", ROOT)
    kwargs.setdefault("timeout", 180)
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)


def _galaxy_version() -> str:
    return str(yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["version"])


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = _run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(ROOT)])
    assert result.returncode == 0, result.stdout + result.stderr
    return out / f"vipctl-farm-{_galaxy_version()}.tar.gz"


def test_tarball_has_no_development_files(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    forbidden = re.compile(
        r"(^|/)(\.venv|\.git|\.collections|\.pytest_cache|\.mypy_cache|\.ruff_cache|__pycache__)(/|$)"
        r"|^tests/output(/|$)|^python/tests(/|$)|\.pyc$"
    )
    assert [n for n in names if forbidden.search(n)] == []
    # What must be there for the installed collection to work on its own.
    for needed in (
        "MANIFEST.json",
        "plugins/action/vip_status.py",
        "plugins/modules/vip_status.py",
        "python/src/vipctl/executor/ps/00_header.ps1",
        "python/src/vipctl/executor/ps/90_dispatch.ps1",
        "playbooks/site.yml",
        "roles/farm_rollout/meta/argument_specs.yml",
    ):
        assert needed in names, needed


def _farm_file(target: Path) -> Path:
    """The embedded default farm, moved to 127.<OCTET>.x.y."""
    farm = yaml.safe_load(resources.files("vipctl.sim").joinpath("farms/default.yml").read_text("utf-8"))
    for host in farm["hosts"].values():
        host["address"] = re.sub(r"^127\.0\.", f"127.{OCTET}.", host["address"])
    target.write_text(yaml.safe_dump(farm), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A simulator process, as a user would start it; yields its state directory."""
    state = tmp_path_factory.mktemp("sim")
    farm = _farm_file(state.parent / "farm.yml")
    log = (state.parent / "sim.log").open("w")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "vipctl.sim", "serve", "--farm", str(farm), "--https"),
            *("--state-dir", str(state), "--connection", "winrm"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not (state / "sim.json").exists():
            assert process.poll() is None, (state.parent / "sim.log").read_text()
            assert time.monotonic() < deadline, "the simulator did not write sim.json within 30 s"
            time.sleep(0.1)
        yield state
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _dev_pin(name: str) -> str:
    for line in (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines():
        if line.split("==")[0].strip().lower() == name:
            return line.strip()
    raise AssertionError(f"{name} is not pinned in requirements-dev.txt")


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only requirements.txt and ansible-core: no vipctl, no dev tools."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    result = _run([sys.executable, "-m", "venv", str(venv)])
    assert result.returncode == 0, result.stderr
    result = _run(
        [
            *(str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"),
            *("-r", str(ROOT / "requirements.txt"), _dev_pin("ansible-core")),
        ],
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return venv


def test_installed_collection_runs_vip_status_by_fqcn(
    tarball: Path, clean_venv: Path, simulator: Path, tmp_path: Path
) -> None:
    # The clean venv must not find vipctl by itself: the installed collection has to carry it.
    bare = _run([str(clean_venv / "bin" / "python"), "-c", "import vipctl"], cwd=tmp_path)
    assert bare.returncode != 0

    collections = tmp_path / "collections"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANSIBLE_", "PYTHON", "VIRTUAL_ENV", "MOLECULE_"))
    }
    env |= {
        "PATH": f"{clean_venv / 'bin'}{os.pathsep}/usr/bin:/bin",
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
    }
    # Outside the repository, with no ANSIBLE_* settings: its ansible.cfg makes the working tree
    # itself the installed vipctl.farm (.collections), and galaxy would find nothing to install.
    installed = _run(
        [str(BIN / "ansible-galaxy"), "collection", "install", "-p", str(collections), str(tarball)],
        cwd=tmp_path,
        env=env,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (collections / "ansible_collections" / "vipctl" / "farm" / "MANIFEST.json").is_file()
    result = _run(
        [
            *(str(clean_venv / "bin" / "ansible"), "vda2019-01"),
            *("-i", str(simulator / "inventory.yml"), "-m", "vipctl.farm.vip_status"),
        ],
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    # The minimal ad hoc output: `vda2019-01 | SUCCESS => {...}`
    status, _, payload = result.stdout.strip().partition(" => ")
    assert status == "vda2019-01 | SUCCESS", result.stdout
    host = json.loads(payload)
    assert host["support"]["supported"] is True, host
    assert host["os"]["build"], host


def test_execution_environment_builds_a_context(tarball: Path, tmp_path: Path) -> None:
    """`ansible-builder create` only writes the build context: no container engine needed."""
    work = tmp_path / "ee"
    work.mkdir()
    for name in ("execution-environment.yml", "requirements.txt", "bindep.txt"):
        shutil.copy(ROOT / name, work / name)
    definition = yaml.safe_load((work / "execution-environment.yml").read_text(encoding="utf-8"))
    assert definition["version"] == 3
    galaxy = definition["dependencies"]["galaxy"]["collections"]
    wanted = [c["name"] for c in galaxy if c.get("type") == "file"]
    # The definition names the tarball of the version galaxy.yml builds.
    assert wanted == [f"collections/{tarball.name}"]
    (work / "collections").mkdir()
    shutil.copy(tarball, work / "collections" / tarball.name)
    result = _run(
        [
            *(str(BIN / "ansible-builder"), "create", "-f", str(work / "execution-environment.yml")),
            *("-c", str(work / "context"), "--output-filename", "Containerfile"),
        ],
        cwd=work,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    build = work / "context" / "_build"
    assert (build / "collections" / tarball.name).is_file()
    assert (build / "bindep.txt").read_text() == (ROOT / "bindep.txt").read_text()
    containerfile = (work / "context" / "Containerfile").read_text(encoding="utf-8")
    assert "ansible-galaxy collection install" in containerfile


def test_bindep_file_parses() -> None:
    result = _run([str(BIN / "bindep"), "--file", str(ROOT / "bindep.txt"), "--profiles"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "compile" in result.stdout


def test_changelog_fragments_lint() -> None:
    fragments = sorted((ROOT / "changelogs" / "fragments").glob("*.yml"))
    assert fragments, "no changelog fragments"
    result = _run([str(BIN / "antsibull-changelog"), "lint"])
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr
