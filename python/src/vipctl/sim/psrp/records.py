"""PowerShell-style ErrorRecords for what the simulator refuses or cannot run.

Shaped like the records Windows PowerShell 5.1 sends, so pypsrp and Ansible render them the
way they render real ones (message, CategoryInfo, FullyQualifiedErrorId).
"""

from __future__ import annotations

from psrpcore.types import ErrorCategory, ErrorCategoryInfo, ErrorRecord, NETException

_RUNTIME_HRESULT = -2146233087  # COR_E_EXCEPTION, what RuntimeException-derived errors carry
_FORMAT_HRESULT = -2146233033  # COR_E_FORMAT


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _exception(type_names: list[str], message: str, hresult: int) -> NETException:
    exception = NETException(Message=message, HResult=hresult)
    exception.PSObject.type_names = [*type_names, *exception.PSTypeNames]
    return exception


def command_not_found(first_line: str) -> ErrorRecord:
    """The simulator's answer to any script that is not the shipped executor."""
    exception = _exception(
        [
            "System.Management.Automation.CommandNotFoundException",
            "System.Management.Automation.RuntimeException",
            "System.SystemException",
        ],
        # Quoted the PowerShell way: Python's repr would double every backslash of a Windows path.
        f"the simulator only runs the shipped vipctl executor; got a script starting {_quoted(first_line)}",
        _RUNTIME_HRESULT,
    )
    return ErrorRecord(
        Exception=exception,
        CategoryInfo=ErrorCategoryInfo(
            Category=ErrorCategory.ObjectNotFound,
            Reason="CommandNotFoundException",
            TargetName=first_line,
            TargetType="String",
        ),
        TargetObject=first_line,
        FullyQualifiedErrorId="CommandNotFoundException",
    )


def bad_base64(detail: str) -> ErrorRecord:
    """What `[Convert]::FromBase64String` throws under `$ErrorActionPreference = 'Stop'`."""
    message = f'Exception calling "FromBase64String" with "1" argument(s): "{detail}"'
    exception = _exception(
        [
            "System.Management.Automation.MethodInvocationException",
            "System.Management.Automation.MethodException",
            "System.Management.Automation.RuntimeException",
            "System.SystemException",
        ],
        message,
        _FORMAT_HRESULT,
    )
    return ErrorRecord(
        Exception=exception,
        CategoryInfo=ErrorCategoryInfo(
            Category=ErrorCategory.NotSpecified,
            Reason="MethodInvocationException",
        ),
        FullyQualifiedErrorId="FormatException",
    )
