"""Credentials never cross plain HTTP in the clear: the CLI's auth default and its Basic refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_sim import start_sim, vipctl

from vipctl.sim.farm import load_farm
from vipctl.sim.front_door import SimServer

ENCRYPTED_ONLY = "vda2019-01"  # AllowUnencrypted=false, Windows' default
UNENCRYPTED_OK = "w10ms-01"  # the default farm's lab box with AllowUnencrypted=true


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[SimServer, dict[str, Any], Path]]:
    sim, inventory = start_sim(load_farm(None), tmp_path / "sim")
    yield sim, yaml.safe_load(inventory.read_text(encoding="utf-8")), tmp_path
    sim.stop()


def _inventory(path: Path, data: dict[str, Any], host: str, **changes: Any) -> str:
    host_vars = data["all"]["hosts"][host]
    for key, value in changes.items():
        if value is None:
            host_vars.pop(key, None)
        else:
            host_vars[key] = value
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def test_http_without_a_transport_is_ntlm_with_encryption(
    served: tuple[SimServer, dict[str, Any], Path],
) -> None:
    sim, data, tmp = served
    inventory = _inventory(tmp / "inv.yml", data, ENCRYPTED_ONLY, ansible_winrm_transport=None)
    code, out, err = vipctl("status", "-i", inventory, "-l", ENCRYPTED_ONLY)
    assert code == 0, out + err
    # This host refuses Basic over http (as Windows does by default): only sealed NTLM gets through.
    assert not sim.host(ENCRYPTED_ONLY).winrm.allow_unencrypted


@pytest.mark.parametrize("transport", ["basic", "plaintext"])
def test_basic_over_http_is_refused_before_contact_unless_allowed(
    served: tuple[SimServer, dict[str, Any], Path], transport: str
) -> None:
    sim, data, tmp = served
    inventory = _inventory(
        tmp / "inv.yml",
        data,
        UNENCRYPTED_OK,
        ansible_winrm_transport=transport,
        vipctl_allow_basic_over_http=None,
    )
    code, _out, err = vipctl("status", "-i", inventory, "-l", UNENCRYPTED_OK)
    assert code == 3 and "sends the password in clear" in err and "vipctl_allow_basic_over_http" in err
    assert sim.counters(UNENCRYPTED_OK)["requests"] == 0
    inventory = _inventory(tmp / "inv.yml", data, UNENCRYPTED_OK, vipctl_allow_basic_over_http=True)
    code, out, err = vipctl("status", "-i", inventory, "-l", UNENCRYPTED_OK)
    assert code == 0, out + err
