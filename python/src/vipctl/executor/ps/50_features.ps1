# ---------------------------------------------------------------- Windows features (feature_install)

function Invoke-FeatureInstall($Op) {
    $name = Get-RequiredString $Op 'name'
    if ($null -eq (Get-Command -Name Get-WindowsFeature -ErrorAction SilentlyContinue)) { # absent on a client OS, answered below
        Stop-Op 'not_available' 'Get-WindowsFeature is not available (not a Windows Server)'
    }
    $feature = Get-WindowsFeature -Name $name
    if ($null -eq $feature) {
        Stop-Op 'not_found' "Windows feature not found: $name"
    }
    $data = [ordered]@{ name = $name; state = 'already'; reboot_required = $false }
    if ($feature.Installed) {
        return @{ changed = $false; data = $data }
    }
    $data.state = 'installed'
    # A role install nearly always needs a restart; check mode can only predict it.
    $data.reboot_required = $true
    if (-not $script:Check) {
        $result = Install-WindowsFeature -Name $name
        if (-not $result.Success) {
            Stop-Op 'failed' "Install-WindowsFeature $name did not succeed ($($result.ExitCode))"
        }
        $data.reboot_required = [string]$result.RestartNeeded -ne 'No'
    }
    return @{ changed = $true; data = $data }
}
