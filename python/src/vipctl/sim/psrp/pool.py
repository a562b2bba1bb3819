"""psrpcore's server runspace pool, adjusted to what real clients send.

- psrpcore expects the caller to register a `ServerPipeline` before the CREATE_PIPELINE message
  is processed, which would mean parsing fragment headers by hand to learn the pipeline id. The
  pool already knows the id once the message is decoded, so it creates the pipeline there.
- pypsrp names the call id of SET_MAX_RUNSPACES / SET_MIN_RUNSPACES `CI`, not `ci`. PowerShell
  looks properties up case-insensitively and answers; psrpcore's lookup is exact, so the pool
  copies `CI` to `ci` before psrpcore reads it.
"""

from __future__ import annotations

from typing import Any

from psrpcore import (
    CreatePipelineEvent,
    GetCommandMetadataEvent,
    PSRPEvent,
    ServerPipeline,
    ServerRunspacePool,
    SetMaxRunspacesEvent,
    SetMinRunspacesEvent,
)
from psrpcore.types import add_note_property


class SimRunspacePool(ServerRunspacePool):
    """A server runspace pool that registers the pipelines clients create."""

    def _process_CreatePipeline(self, event: CreatePipelineEvent) -> None:
        if event.pipeline_id not in self.pipeline_table:
            ServerPipeline(self, event.pipeline_id)
        super()._process_CreatePipeline(event)

    def _process_GetCommandMetadata(self, event: GetCommandMetadataEvent) -> None:
        if event.pipeline_id not in self.pipeline_table:
            ServerPipeline(self, event.pipeline_id)
        super()._process_GetCommandMetadata(event)

    def _process_SetMaxRunspaces(self, event: SetMaxRunspacesEvent) -> None:
        _lower_case_ci(event)
        super()._process_SetMaxRunspaces(event)

    def _process_SetMinRunspaces(self, event: SetMinRunspacesEvent) -> None:
        _lower_case_ci(event)
        super()._process_SetMinRunspaces(event)


def _lower_case_ci(event: PSRPEvent[Any, Any]) -> None:
    message = event._ps_object  # the decoded message; psrpcore offers no public handle on it
    if not hasattr(message, "ci") and hasattr(message, "CI"):
        add_note_property(message, "ci", message.CI)
