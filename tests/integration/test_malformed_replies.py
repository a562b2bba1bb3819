"""A spoiled executor reply (the simulator's `malformed_reply` fault) through the real transports
(the CLI's winrm and psrp) and Ansible (winrm and psrp): a clear typed error, no traceback, and
the request is never sent again, since it already ran on the host."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import wire_hosts
from cli_sim import vipctl
from sim_farms import load_test_farm
from simfarm import REPO, SimFarm, running_farm
from vector_support import build_host

from vipctl.executor.codec import build_request
from vipctl.executor.errors import MalformedResponse
from vipctl.sim.front_door import SimServer
from vipctl.sim.model.host import REPLY_FAULTS, SimHost
from vipctl.transport import open_transport

HOST = "vda2019-01"
DESIRED = REPO / "inventory" / "sim-desired-state.yml"
RDS_ARGS = {"mode": "per_session", "adapter": "10.0.0.0/24"}
# What the person reads for each fault, through the CLI and Ansible alike (one decoder serves
# both): the decoder's own words, never a traceback.
WORDS = {
    "truncated": "not one JSON document",
    "not_json": "not one JSON document",
    "huge": "not one JSON document",
    "wrong_version": "protocol version",
    "noise_before": "not one JSON document",
}


@pytest.fixture(params=["winrm", "psrp"])
def farm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimFarm]:
    with running_farm(tmp_path, str(request.param), farm=load_test_farm()) as running:
        yield running


def runs(farm: SimFarm) -> int:
    return int(farm.snapshot(HOST)["executor_runs"])


def test_every_malformed_reply_is_a_clear_error_through_the_cli(farm: SimFarm) -> None:
    for fault in REPLY_FAULTS:
        farm.admin.set_faults(HOST, malformed_reply=fault)
        before = runs(farm)
        code, out, err = vipctl("status", "-i", str(farm.inventory), "-l", HOST, "--json")
        assert code == 1, (fault, out, err)
        assert "Traceback" not in out + err
        (record,) = json.loads(out)["hosts"]
        problem = json.dumps(record)
        assert WORDS[fault] in problem, (fault, problem[:2000])
        assert len(problem) < 10_000, "a huge reply is not echoed back"
        assert runs(farm) == before + 1, f"{fault}: the request was sent again"
    farm.admin.clear_faults(HOST)
    code, out, err = vipctl("status", "-i", str(farm.inventory), "-l", HOST)
    assert code in (0, 2), out + err


def test_a_write_whose_reply_is_spoiled_is_not_resent_by_the_cli(farm: SimFarm) -> None:
    farm.admin.set_faults(HOST, malformed_reply="truncated")
    before = runs(farm)
    code, out, err = vipctl("apply", "-i", str(farm.inventory), "-d", str(DESIRED), "-l", HOST)
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert runs(farm) == before + 1
    farm.admin.clear_faults(HOST)


def test_every_malformed_reply_is_a_clear_error_through_ansible(farm: SimFarm) -> None:
    for fault in REPLY_FAULTS:
        farm.admin.set_faults(HOST, malformed_reply=fault)
        before = runs(farm)
        record = farm.play([{"name": "rds", "rds_ip_virtualization": RDS_ARGS}], HOST, name=fault)
        assert record.rc != 0, fault
        result = record.results("rds")[HOST]
        assert result["_status"] == "failed", (fault, result)
        assert WORDS[fault] in result["msg"], (fault, result["msg"][:2000])
        assert len(result["msg"]) < 10_000
        assert "Traceback" not in record.stdout + record.stderr
        assert runs(farm) == before + 1, f"{fault}: the write was sent again"
    farm.admin.clear_faults(HOST)


@pytest.fixture(params=wire_hosts.CONNECTIONS)
def served(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[SimServer, SimHost, wire_hosts.Connection]]:
    connection: wire_hosts.Connection = request.param
    vector = {"host": {"name": "replyhost", "image": "server2022", "roles": ["RDS-RD-Server"]}}
    host = build_host(vector, wire_hosts.endpoint(1100 + wire_hosts.CONNECTIONS.index(connection)))
    with wire_hosts.serve("replyhost", host, tmp_path) as server:
        yield server, host, connection


def test_each_malformed_reply_is_a_malformed_response_from_the_transport(
    served: tuple[SimServer, SimHost, wire_hosts.Connection],
) -> None:
    """The transports' own type: callers can tell a spoiled reply from an unreachable host."""
    server, host, connection = served
    key = "HKLM\\SOFTWARE\\vipctl-replies"
    write = build_request(
        [
            {
                "op": "registry_set",
                "id": "w",
                "path": key,
                "values": [{"name": "On", "state": "present", "type": "REG_DWORD", "value": 1}],
            }
        ],
        check=False,
        backup_dir="C:\\ProgramData\\vipctl\\backups\\20261126T120000000000Z-replies",
    )
    settings = wire_hosts.settings(server, "replyhost", connection)
    with open_transport(settings) as transport:
        for fault in REPLY_FAULTS:
            host.set_reply_fault(fault)
            before = host.executor_runs
            with pytest.raises(MalformedResponse) as caught:
                transport.run(write)
            assert caught.value.__class__ is MalformedResponse, fault
            assert str(caught.value).startswith("replyhost: "), fault
            assert len(str(caught.value)) < 2_000, fault
            assert host.executor_runs == before + 1, f"{fault}: the write was sent again"
        host.set_reply_fault(None)
        assert transport.run(write).ok  # the same transport works once replies are whole again
