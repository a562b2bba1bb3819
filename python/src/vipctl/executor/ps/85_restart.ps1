# ---------------------------------------------------------------- pending restarts (restart_state, restart_mark)
# vipctl's own record of a restart its changes need, kept on the host until the host has restarted:
# the marker's time is compared with the boot time (docs/windows-facts.md#lastbootuptime-is-the-boot-time).
# Both times come from this host's clock and are written in the round-trip format, so they compare
# as ordinal strings (docs/windows-facts.md#a-restart-clears-what-was-read-at-boot).

$RestartMarkerKey = 'SOFTWARE\vipctl\RestartPending'

function Get-LastBootUtc {
    $os = @(Get-CimInstance -ClassName Win32_OperatingSystem)[0]
    return $os.LastBootUpTime.ToUniversalTime().ToString('o')
}

function Read-RestartMarker {
    $marker = [ordered]@{ exists = $false; set_utc = $null; reasons = [object[]]@() }
    $key = Open-RegistryKey $RestartMarkerKey $false
    if ($null -eq $key) {
        return $marker
    }
    try {
        $marker.exists = $true
        $set = $key.GetValue('SetUtc', $null)
        if ($null -ne $set) {
            $marker.set_utc = [string]$set
        }
        $reasons = $key.GetValue('Reasons', $null)
        if ($null -ne $reasons) {
            $marker.reasons = [object[]]@($reasons | ForEach-Object { [string]$_ })
        }
    }
    finally {
        $key.Close()
    }
    return $marker
}

function Test-MarkerSinceBoot($Marker, [string]$Boot) {
    return $null -ne $Marker.set_utc -and [string]::CompareOrdinal([string]$Marker.set_utc, $Boot) -gt 0
}

function Invoke-RestartState($Op) {
    $boot = Get-LastBootUtc
    $marker = Read-RestartMarker
    $data = [ordered]@{ last_boot_utc = $boot; marker = $marker; pending = (Test-MarkerSinceBoot $marker $boot) }
    return @{ changed = $false; data = $data }
}

function Invoke-RestartMark($Op) {
    $wanted = Get-StringList (Get-Field $Op 'reasons') 'reasons'
    if ($wanted.Count -eq 0) {
        Stop-Op 'bad_request' "argument 'reasons' must list at least one reason"
    }
    $boot = Get-LastBootUtc
    $marker = Read-RestartMarker
    $reasons = New-Object System.Collections.Generic.List[string]
    if (Test-MarkerSinceBoot $marker $boot) {
        foreach ($reason in $marker.reasons) {
            $reasons.Add([string]$reason)
        }
    }
    $added = $false
    foreach ($reason in $wanted) {
        if (-not $reasons.Contains($reason)) {
            $reasons.Add($reason)
            $added = $true
        }
    }
    $changed = $added -or -not (Test-MarkerSinceBoot $marker $boot)
    $now = [DateTime]::UtcNow.ToString('o')
    if ($changed -and -not $script:Check) {
        $key = (Open-LocalMachine).CreateSubKey($RestartMarkerKey)
        try {
            $key.SetValue('Reasons', [string[]]$reasons.ToArray(), [Microsoft.Win32.RegistryValueKind]::MultiString)
            $key.SetValue('SetUtc', $now, [Microsoft.Win32.RegistryValueKind]::String)
        }
        finally {
            $key.Close()
        }
    }
    $data = [ordered]@{ last_boot_utc = $boot; set_utc = $now; reasons = [object[]]$reasons.ToArray(); pending = $true }
    return @{ changed = $changed; data = $data }
}
