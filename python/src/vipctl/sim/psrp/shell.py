"""`PsrpShell`: one runspace pool behind the WS-Man front door (ResourceURI Microsoft.PowerShell).

Sans-I/O: the front door hands over decoded PSRP fragments (creationXml, Command arguments,
Send streams) and asks for ready fragments on Receive. psrpcore's server pool decodes and
answers the protocol; this class decides what each pipeline runs and when it is finished.
Every call happens under one lock because the front door serves requests on many threads.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from psrpcore import (
    CreatePipelineEvent,
    EndOfPipelineInputEvent,
    GetAvailableRunspacesEvent,
    GetCommandMetadataEvent,
    PipelineInputEvent,
    PSRPEvent,
    PSRPPayload,
    ResetRunspaceStateEvent,
    ServerPipeline,
    SetMaxRunspacesEvent,
    SetMinRunspacesEvent,
    StreamType,
)
from psrpcore.types import HostMethodIdentifier, PSInvocationState, RunspacePoolState

from vipctl.sim.psrp.classify import BootstrapCall, Invocation, classify
from vipctl.sim.psrp.execute import Failed, Outcome, execute
from vipctl.sim.psrp.outbox import Outbox
from vipctl.sim.psrp.pool import SimRunspacePool
from vipctl.sim.shell_api import NO_OPTIONS, ExecutorBackend, ReceiveResult, StreamChunk
from vipctl.sim.wsman.request import UnknownCommand

_FINISHED = (PSInvocationState.Completed, PSInvocationState.Failed, PSInvocationState.Stopped)
_STOPPABLE = (PSInvocationState.Running, PSInvocationState.Stopping)
_TERMINATE = "terminate"  # matched as a suffix: front doors may pass the full signal URI


@dataclass
class _Command:
    """A WS-Man command and the pipeline it carries (bound once CREATE_PIPELINE is decoded)."""

    command_id: str
    pipeline: ServerPipeline | None = None
    invocation: Invocation | None = None
    has_host: bool = False
    pipeline_input: list[str] = field(default_factory=list)


class PsrpShell:
    """A PSRP runspace pool that runs the shipped executor on `backend` and nothing else."""

    def __init__(self, backend: ExecutorBackend, outbox: Outbox | None = None) -> None:
        self._backend = backend
        self._pool = SimRunspacePool()
        self._outbox = outbox or Outbox()
        self._commands: dict[str, _Command] = {}
        self._by_pipeline: dict[uuid.UUID, _Command] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- the Shell protocol ------------------------------------------------------------------

    def create(self, creation_payload: bytes | None) -> bytes | None:
        """Open the pool from creationXml. Windows answers on the pool's Receive, not in Create."""
        if not creation_payload:
            raise ValueError("a PowerShell shell needs creationXml (SESSION_CAPABILITY, INIT_RUNSPACEPOOL)")
        with self._lock:
            self._feed(creation_payload, None)
        return None

    def command(
        self, command_id: str, command: str, arguments: list[bytes], options: Mapping[str, str] = NO_OPTIONS
    ) -> None:
        del options  # WinRS options; a PSRP pipeline has no stdin console
        if not arguments:
            raise ValueError("a PowerShell command needs the CREATE_PIPELINE fragments as its argument")
        with self._lock:
            self._require_open()
            key = command_id.upper()
            self._commands[key] = _Command(key)
            self._feed(b"".join(arguments), key)

    def send(self, command_id: str | None, stream: str, data: bytes, end: bool) -> None:
        # pypsrp sends pool and pipeline messages on "stdin" and host responses on "pr" (with no
        # CommandId even for a pipeline's host call); the PSRP message header says where it goes.
        with self._lock:
            self._require_open()
            key = command_id.upper() if command_id else None
            if key is not None and key not in self._commands:
                raise UnknownCommand(f"no command {command_id} in this shell")
            self._feed(data, key)

    def receive(self, command_id: str | None) -> ReceiveResult | None:
        with self._lock:
            if command_id is None:
                data = self._outbox.take(None)
                return ReceiveResult([StreamChunk("stdout", data)]) if data else None
            key = command_id.upper()
            record = self._commands.get(key)
            if record is None:
                raise UnknownCommand(f"no command {command_id} in this shell")
            return self._receive_command(record)

    def signal(self, command_id: str | None, code: str) -> None:
        """Stop a running pipeline (ps_crtl_c, ctrl_c, terminate). Ansible stops each finished
        pipeline before the next one, so a signal for a finished or forgotten command is fine."""
        if command_id is None:
            return
        with self._lock:
            record = self._commands.get(command_id.upper())
            if record is None:
                return
            pipeline = record.pipeline
            if pipeline is not None and pipeline.state in _STOPPABLE:
                pipeline.stop()
                self._release(pipeline)
                self._outbox.collect(self._pool)
            if code.lower().endswith(_TERMINATE) or self._drained(record):
                self._forget(record)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for record in list(self._commands.values()):
                if record.pipeline is not None and record.pipeline.state == PSInvocationState.Running:
                    record.pipeline.stop()
                self._forget(record)
            self._pool.pipeline_table.clear()
            if self._pool.state == RunspacePoolState.Opened:
                self._pool.close()
            self._outbox.discard(None)

    # -- protocol plumbing -------------------------------------------------------------------

    def _require_open(self) -> None:
        if self._closed:
            raise ValueError("the runspace pool is closed")

    def _feed(self, data: bytes, origin: str | None) -> None:
        """Hand fragments to the pool and act on every complete message they finish."""
        self._pool.receive_data(PSRPPayload(data, StreamType.default, None))
        while (event := self._pool.next_event()) is not None:
            self._handle(event, origin)
        self._outbox.collect(self._pool)

    def _handle(self, event: PSRPEvent[Any, Any], origin: str | None) -> None:
        if isinstance(event, GetAvailableRunspacesEvent):
            busy = sum(1 for record in self._commands.values() if self._running(record))
            self._pool.runspace_availability_response(event.ci, max(self._pool.max_runspaces - busy, 0))
        elif isinstance(event, SetMaxRunspacesEvent | SetMinRunspacesEvent | ResetRunspaceStateEvent):
            self._pool.runspace_availability_response(event.ci, True)
        elif isinstance(event, CreatePipelineEvent | GetCommandMetadataEvent):
            self._start(event, origin)
        elif isinstance(event, PipelineInputEvent):
            record = self._by_pipeline.get(event.pipeline_id) if event.pipeline_id else None
            if record is not None:
                record.pipeline_input.append(_as_text(event.data))
        elif isinstance(event, EndOfPipelineInputEvent):
            record = self._by_pipeline.get(event.pipeline_id) if event.pipeline_id else None
            if record is not None and self._running(record):
                self._run(record)
        # Everything else (capability, init, connect, key exchange, host responses) is fully
        # answered by psrpcore's pool itself.

    def _start(self, event: CreatePipelineEvent | GetCommandMetadataEvent, origin: str | None) -> None:
        pipeline_id = event.pipeline_id
        assert pipeline_id is not None  # psrpcore only emits these events for a pipeline
        key = origin or str(pipeline_id).upper()
        record = self._commands.setdefault(key, _Command(key))
        pipeline = self._pool.pipeline_table[pipeline_id]
        record.pipeline = pipeline
        self._by_pipeline[pipeline_id] = record
        metadata = event.pipeline
        record.invocation = classify(metadata)
        record.has_host = self._has_host(event)
        pipeline.start()
        # Only the bootstrap reads pipeline input; it runs once the client ends the input.
        reads_input = isinstance(record.invocation, BootstrapCall) and not getattr(metadata, "no_input", True)
        if not reads_input:
            self._run(record)

    def _has_host(self, event: CreatePipelineEvent | GetCommandMetadataEvent) -> bool:
        if not isinstance(event, CreatePipelineEvent):
            return False
        host = event.pipeline.host
        if host.UseRunspaceHost:
            pool_host = self._pool.host
            return pool_host is not None and not pool_host.IsHostNull
        return not host.IsHostNull

    def _run(self, record: _Command) -> None:
        pipeline = record.pipeline
        assert pipeline is not None and record.invocation is not None
        outcome = execute(record.invocation, self._backend, record.pipeline_input)
        self._finish(record, pipeline, outcome)

    def _finish(self, record: _Command, pipeline: ServerPipeline, outcome: Outcome) -> None:
        if isinstance(outcome, Failed):
            # ServerPipeline has no public "fail"; _change_state is what complete()/stop() use.
            pipeline._change_state(PSInvocationState.Failed, error=outcome.error)
        else:
            if outcome.output is not None:
                pipeline.write_output(outcome.output)
            if outcome.exit_code is not None and record.has_host:
                # `exit N` in a remote runspace reaches the client as the host's SetShouldExit(N);
                # Ansible's psrp connection reads its rc from there.
                pipeline.host_call(HostMethodIdentifier.SetShouldExit, [outcome.exit_code])
            pipeline.complete()
        self._release(pipeline)

    def _release(self, pipeline: ServerPipeline) -> None:
        """A finished pipeline leaves psrpcore's table (the pool cannot close otherwise)."""
        pipeline.close()

    # -- command bookkeeping -----------------------------------------------------------------

    def _receive_command(self, record: _Command) -> ReceiveResult | None:
        pipeline = record.pipeline
        if pipeline is None:
            return None  # CREATE_PIPELINE not complete yet
        data = self._outbox.take(pipeline.pipeline_id)
        done = pipeline.state in _FINISHED and not self._outbox.pending(pipeline.pipeline_id)
        if not data and not done:
            return None
        chunks = [StreamChunk("stdout", data, record.command_id, end=done)] if data else []
        if done:
            self._forget(record)
        return ReceiveResult(chunks, done=done)

    def _running(self, record: _Command) -> bool:
        return record.pipeline is not None and record.pipeline.state == PSInvocationState.Running

    def _drained(self, record: _Command) -> bool:
        pipeline = record.pipeline
        return pipeline is None or (
            pipeline.state in _FINISHED and not self._outbox.pending(pipeline.pipeline_id)
        )

    def _forget(self, record: _Command) -> None:
        self._commands.pop(record.command_id, None)
        if record.pipeline is not None:
            self._by_pipeline.pop(record.pipeline.pipeline_id, None)
            self._outbox.discard(record.pipeline.pipeline_id)


def _as_text(value: object) -> str:
    """Pipeline input as the bootstrap's `[string]$_` sees it."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return " ".join(str(byte) for byte in value)  # PowerShell's [string] of a byte[]
    return "" if value is None else str(value)
