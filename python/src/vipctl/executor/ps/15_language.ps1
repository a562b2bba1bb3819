# ---------------------------------------------------------------- Constrained Language Mode

function Get-LanguageModeProblem {
    # Under Constrained Language Mode (AppLocker / WDAC) Add-Type, [ScriptBlock]::Create and .NET
    # method calls on non-core types fail, so ops would fail half way through: the request is
    # refused before its first op (docs/windows-facts.md#constrained-language-mode-blocks-the-executor).
    $mode = [string]$ExecutionContext.SessionState.LanguageMode
    if ($mode -eq 'FullLanguage') {
        return $null
    }
    return "PowerShell runs in $mode mode"
}
