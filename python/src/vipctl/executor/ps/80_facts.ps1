# ---------------------------------------------------------------- host facts (host_facts)

function Get-RegistryString([string]$SubKey, [string]$Name) {
    $key = Open-RegistryKey $SubKey $false
    if ($null -eq $key) {
        return $null
    }
    try {
        $value = $key.GetValue($Name, $null)
        if ($null -eq $value) {
            return $null
        }
        return [string]$value
    }
    finally {
        $key.Close()
    }
}

function Test-PendingReboot {
    # The three places Windows records a restart it is waiting for.
    if (Test-RegistryKey 'SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') {
        return $true
    }
    if (Test-RegistryKey 'SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') {
        return $true
    }
    $sessionManager = Open-RegistryKey 'SYSTEM\CurrentControlSet\Control\Session Manager' $false
    try {
        return @($sessionManager.GetValueNames()) -contains 'PendingFileRenameOperations'
    }
    finally {
        $sessionManager.Close()
    }
}

function Get-CitrixVdaFacts {
    $service = @(Get-CimInstance -ClassName Win32_Service -Filter "Name = 'BrokerAgent'")
    $facts = [ordered]@{ installed = $service.Count -gt 0; version = $null; list_of_ddcs = @() }
    if ($service.Count -gt 0 -and $service[0].PathName -match '^\s*"?([^"]+\.exe)') {
        $exe = $Matches[1]
        if ([System.IO.File]::Exists($exe)) {
            $facts.version = [string][System.Diagnostics.FileVersionInfo]::GetVersionInfo($exe).FileVersion
        }
    }
    $ddcs = Get-RegistryString 'SOFTWARE\Citrix\VirtualDesktopAgent' 'ListOfDDCs'
    if ($null -ne $ddcs) {
        $facts.list_of_ddcs = [object[]]@($ddcs -split '\s+' | Where-Object { $_ -ne '' })
    }
    return $facts
}

function Invoke-HostFacts($Op) {
    $versionKey = 'SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    $os = @(Get-CimInstance -ClassName Win32_OperatingSystem)[0]
    $addresses = @(Get-CimInstance -ClassName Win32_NetworkAdapterConfiguration -Filter 'IPEnabled = TRUE' |
            ForEach-Object { $_.IPAddress } | Where-Object { $_ -match '^\d+\.\d+\.\d+\.\d+$' } | ForEach-Object { [string]$_ })
    $rdsInstalled = $false
    if ($null -ne (Get-Command -Name Get-WindowsFeature -ErrorAction SilentlyContinue)) { # absent on a client OS: no role
        $rdsInstalled = [bool](Get-WindowsFeature -Name 'RDS-RD-Server').Installed
    }
    $controller = $null -ne (Get-PSSnapin -Registered -Name $CitrixSnapin -ErrorAction SilentlyContinue) # not registered: not a controller
    $data = [ordered]@{
        computer_name      = [string]$env:COMPUTERNAME
        product_name       = Get-RegistryString $versionKey 'ProductName'
        edition_id         = Get-RegistryString $versionKey 'EditionID'
        installation_type  = Get-RegistryString $versionKey 'InstallationType'
        current_build      = Get-RegistryString $versionKey 'CurrentBuildNumber'
        build_number       = [int]$os.BuildNumber
        product_type       = [int]$os.ProductType
        sku                = [int]$os.OperatingSystemSKU
        ip_addresses       = [object[]]$addresses
        rds_role_installed = $rdsInstalled
        pending_reboot     = Test-PendingReboot
        citrix_vda         = Get-CitrixVdaFacts
        citrix_controller  = [ordered]@{ installed = $controller }
    }
    return @{ changed = $false; data = $data }
}
