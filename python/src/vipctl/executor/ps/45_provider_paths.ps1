# ---------------------------------------------------------------- provider paths from validated segments
# Twin: vipctl.sim.twin.provider_paths. Citrix policy and filter names are user data that become
# leaf names in CitrixGroupPolicy provider paths. A segment such as '..' or one holding '\' would
# address another node (PowerShell resolves '.' and '..' in provider paths, also with -LiteralPath:
# docs/windows-facts.md#powershell-resolves-dot-segments-in-provider-paths), so every segment is
# checked here, and a node is removed only after its resolved parent is the node expected.

function Assert-PathSegment($Value, [string]$Field) {
    if (-not ($Value -is [string]) -or $Value -eq '') {
        Stop-Op 'bad_request' "argument '$Field' must be a non-empty string"
    }
    if ($Value -eq '.' -or $Value -eq '..') {
        Stop-Op 'bad_request' "argument '$Field' must not be '.' or '..': it would name another node"
    }
    if ($Value.IndexOfAny([char[]]@('\', '/', '*', '?')) -ge 0) {
        Stop-Op 'bad_request' "argument '$Field' must not contain \, /, * or ?: $Value"
    }
    if ($Value -ne $Value.Trim(@(' ', '.'))) {
        Stop-Op 'bad_request' "argument '$Field' must not start or end with a space or a dot: '$Value'"
    }
    foreach ($character in $Value.ToCharArray()) {
        if ([char]::IsControl($character)) {
            Stop-Op 'bad_request' "argument '$Field' must not contain control characters"
        }
    }
    return $Value
}

function Join-ProviderPath([string]$Parent, [string[]]$Segments, [string]$Field) {
    # $Parent is built by the executor itself (drive and fixed node names); only segments are data.
    $path = $Parent
    foreach ($segment in $Segments) {
        $path = $path + '\' + (Assert-PathSegment $segment $Field)
    }
    return $path
}

function Remove-ProviderNode([string]$Parent, [string]$Name, [string]$Field) {
    $path = Join-ProviderPath $Parent @($Name) $Field
    if (-not (Test-Path -LiteralPath $path)) {
        return
    }
    $item = Get-Item -LiteralPath $path
    $expected = (Get-Item -LiteralPath $Parent).PSPath
    if (-not ([string]$item.PSParentPath).Equals([string]$expected, [System.StringComparison]::OrdinalIgnoreCase)) {
        Stop-Op 'failed' "refusing to remove ${path}: it resolves to $($item.PSPath), not a child of $expected"
    }
    Remove-Item -LiteralPath $path -Recurse
}
