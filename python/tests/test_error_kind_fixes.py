"""Errors caused by the connection or the host's policy name their fix wherever a person reads them."""

from __future__ import annotations

import json

from vipctl.executor import bootstrap
from vipctl.executor.codec import Response, decode_response
from vipctl.executor.errors import OpFailed
from vipctl.tasks.common import failure_message


def _failed(kind: str) -> Response:
    raw = {
        "v": 1,
        "ok": False,
        "results": [{"op": "citrix_policy_set", "ok": False, "error": {"kind": kind, "message": "denied"}}],
        "backups": [],
    }
    return decode_response(json.dumps(raw), 0, host="h")


def test_delegation_required_names_credssp_and_kerberos_delegation() -> None:
    response = _failed("delegation_required")
    message = failure_message(response, response.results[0])
    assert "CredSSP" in message and "Kerberos delegation" in message
    error = OpFailed(
        kind="delegation_required", message="denied", op="citrix_policy_set", op_id=None, host="h"
    )
    assert "credssp" in str(error)


def test_constrained_language_names_the_application_control_policy() -> None:
    raw = {
        "v": 1,
        "ok": False,
        "error": {"kind": "constrained_language", "message": "CLM"},
        "results": [],
        "backups": [],
    }
    response = decode_response(json.dumps(raw), 1, host="h")
    failure = response.first_failure()
    assert failure is not None
    assert "AppLocker or WDAC" in failure_message(response, failure)


def test_a_plain_kind_keeps_the_hosts_message_alone() -> None:
    response = _failed("conflict")
    assert failure_message(response, response.results[0]).endswith("conflict: denied")


def test_the_bootstrap_checks_the_language_mode_before_any_dotnet_call() -> None:
    # Under Constrained Language Mode the .NET calls fail with an untyped error, so the check
    # must come before the first of them.
    text = bootstrap.BOOTSTRAP_PS1
    check = text.index("$ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage'")
    first_dotnet_call = min(text.index(call) for call in ("[Console]::", "[Convert]::", "[ScriptBlock]::"))
    assert check < first_dotnet_call
    assert '"constrained_language"' in text[check : text.index("exit 1", check)]
