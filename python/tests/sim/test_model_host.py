"""SimHost as the front door sees it: the script check, reboots, and thread safety."""

from __future__ import annotations

import json
import threading
import time

import pytest

from vipctl import executor
from vipctl.sim.errors import ScriptRejected
from vipctl.sim.farm import load_farm
from vipctl.sim.model.host import SimHost
from vipctl.sim.twin.backend import run_executor


def host() -> SimHost:
    return load_farm(None).hosts["vda2016-01"]


def test_only_the_shipped_executor_runs() -> None:
    sim = host()
    with pytest.raises(ScriptRejected) as info:
        run_executor(sim, "Get-Process\r\nRemove-Item C:\\ -Recurse", json.dumps({"v": 1, "ops": []}))
    assert info.value.first_line == "Get-Process"
    with pytest.raises(ScriptRejected):
        run_executor(sim, executor.script_text() + "\n# appended", json.dumps({"v": 1, "ops": []}))


def test_run_executor_answers_json_and_exit_code() -> None:
    sim = host()
    text, code = run_executor(sim, executor.script_text(), json.dumps({"v": 1, "ops": [{"op": "sessions"}]}))
    assert code == 0
    sessions = json.loads(text)["results"][0]["data"]["sessions"]
    assert [s["user"] for s in sessions] == [None, "alice", "bob", "carol", "svc-ops"]
    text, code = run_executor(sim, executor.script_text(), "not json")
    assert code == 1 and json.loads(text)["error"]["kind"] == "bad_request"


def test_reboot_takes_the_host_down_briefly_and_keeps_only_session_zero() -> None:
    sim = host()
    sim.reboot()
    assert not sim.is_up()
    assert list(sim.sessions) == [0]
    assert sim.snapshot()["boot_count"] == 1
    time.sleep(sim.spec.reboot_seconds + 0.05)
    assert sim.is_up()
    assert len(sim.logon_sessions()) == 4


def test_denied_registry_path_is_a_model_fault_until_cleared() -> None:
    sim = host()
    sim.deny_registry_path(r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion")
    request = json.dumps({"v": 1, "ops": [{"op": "host_facts"}]})
    result = json.loads(run_executor(sim, executor.script_text(), request)[0])["results"][0]
    assert result["error"]["kind"] == "access_denied"
    sim.clear_faults()
    result = json.loads(run_executor(sim, executor.script_text(), request)[0])["results"][0]
    assert result["data"]["product_name"] == "Windows Server 2016 Standard"


def test_concurrent_requests_on_one_host_do_not_interleave() -> None:
    sim = host()
    errors: list[str] = []

    def worker(n: int) -> None:
        for i in range(20):
            request = {
                "v": 1,
                "check": False,
                "backup_dir": f"C:\\bk\\{n}-{i}",
                "ops": [
                    {
                        "op": "registry_set",
                        "path": r"HKLM\SOFTWARE\vipctl-test",
                        "values": [{"name": f"w{n}", "state": "present", "type": "REG_DWORD", "value": i}],
                    },
                    {"op": "registry_get", "path": r"HKLM\SOFTWARE\vipctl-test", "names": [f"w{n}"]},
                ],
            }
            response = json.loads(run_executor(sim, executor.script_text(), json.dumps(request))[0])
            if response["results"][1]["data"]["values"][f"w{n}"]["value"] != i:
                errors.append(f"worker {n} read another worker's write")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    files = sim.snapshot()["files"]
    # One backup per request, each in its own folder, with that folder's manifest.
    assert len([f for f in files if not f.endswith("vipctl-manifest.json")]) == 80
    assert len(files) == 160


def test_a_reboot_reads_past_an_injected_access_fault() -> None:
    sim = host()
    sim.deny_registry_path(r"HKLM\SOFTWARE\Policies")
    sim.reboot()  # the boot reads the policy key as SYSTEM, the fault is for the executor only
    assert sim.registry.denied_paths() == [r"HKLM\SOFTWARE\Policies"]
    assert len(sim.logon_sessions()) == 4
