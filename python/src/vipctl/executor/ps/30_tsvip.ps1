# ---------------------------------------------------------------- WMI Win32_TSVirtualIP

$TsVipSettable = [ordered]@{
    VirtualIPActive                    = @{ method = 'SetVirtualIPActive'; policy = 'PolicySourceVirtualIPActive' }
    VirtualIPMode                      = @{ method = 'SetVirtualIPMode'; policy = 'PolicySourceVirtualIPMode' }
    ProgramList                        = @{ method = 'SetProgramList'; policy = 'PolicySourceProgramList' }
    NetworkAdapterMacAddress           = @{ method = 'SelectNetworkAdapter'; policy = 'PolicySourceNetworkAdapter' }
    # Each method's one parameter is named like the property it sets, as Microsoft documents for all
    # five (docs/windows-facts.md#win32_tsvirtualip-set-methods-name-their-parameter-after-the-property).
    VirtualizeLoopbackAddressesEnabled = @{ method = 'SetVirtualizeLoopbackAddressesEnabled'; policy = 'PolicySourceVirtualizeLoopbackAddresses' }
}
$TsVipListProperties = @('ProgramList', 'NetworkAdapterMacList')
$TsVipReported = @(
    'VirtualIPActive', 'VirtualIPMode', 'ProgramList', 'NetworkAdapterMacAddress', 'NetworkAdapterMacList',
    'VirtualizeLoopbackAddressesEnabled', 'PolicySourceVirtualIPActive', 'PolicySourceVirtualIPMode',
    'PolicySourceProgramList', 'PolicySourceNetworkAdapter', 'PolicySourceVirtualizeLoopbackAddresses')

function Get-TsVipInstance {
    # Missing namespace or class (no RDSH role) surfaces as a CimException -> not_available.
    $instances = @(Get-CimInstance -Namespace 'root\CIMv2\TerminalServices' -ClassName 'Win32_TSVirtualIP')
    if ($instances.Count -eq 0) {
        Stop-Op 'not_available' 'Win32_TSVirtualIP has no instance on this host'
    }
    return $instances[0]
}

function ConvertTo-TsVipProperties($Instance) {
    $properties = [ordered]@{}
    foreach ($name in $TsVipReported) {
        $property = $Instance.CimInstanceProperties[$name]
        $value = $null
        if ($null -ne $property) {
            $value = $property.Value
        }
        elseif ($name -like 'PolicySource*') {
            # Not every PolicySource* property is in Microsoft's MOF (PolicySourceVirtualizeLoopbackAddresses
            # is not): an absent one means no policy controls that value.
            $value = 0
        }
        if ($TsVipListProperties -contains $name) {
            $value = [object[]]@($value | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })
        }
        elseif ($value -is [string]) {
            $value = [string]$value
        }
        elseif ($null -ne $value) {
            $value = [int]$value
        }
        $properties[$name] = $value
    }
    return $properties
}

function Invoke-TsVipGet($Op) {
    try {
        $instance = Get-TsVipInstance
    }
    catch {
        if ((Get-ErrorKind $_.Exception) -eq 'not_available') {
            return @{ changed = $false; data = [ordered]@{ available = $false; properties = $null } }
        }
        throw
    }
    return @{ changed = $false; data = [ordered]@{ available = $true; properties = (ConvertTo-TsVipProperties $instance) } }
}

function Assert-TsVipNames($Wanted) {
    # Before WMI is asked: a wrong name is a bad request whether or not the class is there.
    foreach ($name in (Get-FieldNames $Wanted)) {
        if (-not $TsVipSettable.Contains($name)) {
            Stop-Op 'bad_request' "properties.$name cannot be set"
        }
    }
}

function Get-TsVipChanges($Wanted, $Current) {
    # Validates the wanted values and returns what differs, in the order of $TsVipSettable.
    $changes = New-Object System.Collections.Generic.List[object]
    foreach ($name in $TsVipSettable.Keys) {
        if (-not (Test-Field $Wanted $name)) {
            continue
        }
        $after = ConvertTo-PlainValue (Get-Field $Wanted $name)
        if ($name -eq 'ProgramList') {
            $after = Get-StringList $after 'properties.ProgramList'
        }
        elseif ($name -eq 'NetworkAdapterMacAddress') {
            if (-not ($after -is [string])) {
                Stop-Op 'bad_request' "properties.$name must be a string"
            }
            $after = Resolve-AdapterMac $after $Current['NetworkAdapterMacList']
        }
        elseif (-not (Test-IsInteger $after) -or ($after -ne 0 -and $after -ne 1)) {
            Stop-Op 'bad_request' "properties.$name must be 0 or 1"
        }
        if (-not (Test-JsonEqual $Current[$name] $after)) {
            # Checked before any write: a policy-owned value would make WMI refuse half way through.
            if ($Current[$TsVipSettable[$name].policy] -eq 1) {
                Stop-Op 'policy_controlled' "$name is set by group policy; change the policy instead"
            }
            $changes.Add([ordered]@{ name = $name; before = $Current[$name]; after = $after })
        }
    }
    return , $changes
}

function Resolve-AdapterMac([string]$Mac, $Listed) {
    # The adapter as WMI lists it when the MAC names one in any case and with ':' or '-' between
    # its bytes, so "00-15-5d-..." compares equal to "00:15:5D:..." and a rerun is not a change
    # (docs/windows-facts.md#mac-addresses-compare-normalised). Unlisted: as given, for WMI to refuse.
    $key = ($Mac -replace '[:-]', '').ToUpperInvariant()
    foreach ($candidate in @($Listed)) {
        if ($null -ne $candidate -and (([string]$candidate -replace '[:-]', '').ToUpperInvariant()) -ceq $key) {
            return [string]$candidate
        }
    }
    return $Mac
}

function Invoke-TsVipMethod($Instance, $Name, $Value) {
    # Calls the Set*/Select* method that writes one property. Not named Invoke-TsVipSet: that is
    # the tsvip_set handler, and PowerShell keeps only the last of two functions with one name.
    if ($Name -eq 'ProgramList') {
        $Value = [string[]]$Value
    }
    elseif (-not ($Value -is [string])) {
        $Value = [uint32]$Value
    }
    $method = $TsVipSettable[$Name].method
    $arguments = @{}
    $arguments[$Name] = $Value
    $result = Invoke-CimMethod -InputObject $Instance -MethodName $method -Arguments $arguments
    if ($result.ReturnValue -ne 0) {
        Stop-Op 'failed' ("{0} returned {1}" -f $method, $result.ReturnValue)
    }
}

function Write-TsVipChanges($Instance, $Changes) {
    # SelectNetworkAdapter returns an error while the mode is per session
    # (docs/windows-facts.md#selectnetworkadapter-fails-in-per-session-mode), so an adapter is
    # selected in per-program mode and the wanted mode is set after it.
    $adapter = $null
    $mode = $null
    foreach ($change in $Changes) {
        if ($change.name -eq 'NetworkAdapterMacAddress') {
            $adapter = $change
        }
        elseif ($change.name -eq 'VirtualIPMode') {
            $mode = $change
        }
        else {
            Invoke-TsVipMethod $Instance $change.name $change.after
        }
    }
    $currentMode = 1
    $modeProperty = $Instance.CimInstanceProperties['VirtualIPMode']
    if (($null -ne $modeProperty) -and ($null -ne $modeProperty.Value)) {
        $currentMode = [int]$modeProperty.Value
    }
    $finalMode = $currentMode
    if ($null -ne $mode) {
        $finalMode = [int]$mode.after
    }
    if ($null -ne $adapter) {
        if ($currentMode -eq 0) {
            Invoke-TsVipMethod $Instance 'VirtualIPMode' 1
            $currentMode = 1
        }
        Invoke-TsVipMethod $Instance 'NetworkAdapterMacAddress' $adapter.after
    }
    if ($finalMode -ne $currentMode) {
        Invoke-TsVipMethod $Instance 'VirtualIPMode' $finalMode
    }
}

function Save-TsVipBackup($Changes) {
    # The local store behind Win32_TSVirtualIP is written only through WMI (docs/windows-facts.md#the-local-store-is-written-only-through-wmi),
    # so the backup is the WMI values before, which tsvip_restore puts back through the same Set*
    # methods. A later tsvip_set in the same request adds the properties it changes; a property
    # already saved keeps its earliest value, the one before the request.
    if ($null -eq $script:BackupDir) {
        return $null
    }
    $file = Get-BackupFile 'tsvip.json'
    $lookup = $file.ToLowerInvariant()
    if (-not $script:BackedUp.ContainsKey($lookup)) {
        $script:TsVipSaved = [ordered]@{}
        $script:BackedUp[$lookup] = $file
        $script:Backups.Add($file)
    }
    foreach ($change in $Changes) {
        if (-not $script:TsVipSaved.Contains($change.name)) {
            $script:TsVipSaved[$change.name] = $change.before
        }
    }
    $saved = [ordered]@{ properties = $script:TsVipSaved }
    [System.IO.File]::WriteAllText($file, ($saved | ConvertTo-Json -Depth 20 -Compress), (New-Object System.Text.UTF8Encoding $false))
    return $file
}

function Invoke-TsVipSet($Op) {
    $wanted = Get-Field $Op 'properties'
    if (-not (Test-IsObject $wanted)) {
        Stop-Op 'bad_request' "argument 'properties' must be an object"
    }
    Assert-TsVipNames $wanted
    $instance = Get-TsVipInstance
    $changes = Get-TsVipChanges $wanted (ConvertTo-TsVipProperties $instance)
    $backup = $null
    if ($changes.Count -gt 0 -and -not $script:Check) {
        $backup = Save-TsVipBackup $changes
        Write-TsVipChanges $instance $changes
    }
    return @{ changed = ($changes.Count -gt 0); data = [ordered]@{ changes = $changes.ToArray(); backup = $backup } }
}

function Test-NoAdapterSelected($Value) {
    return $null -eq $Value -or ($Value -is [string] -and $Value -eq '')
}

function Invoke-TsVipRestore($Op) {
    $file = Get-RequiredString $Op 'file'
    if (-not [System.IO.File]::Exists($file)) {
        Stop-Op 'not_found' "backup file not found: $file"
    }
    Assert-BackupFileIntact $file
    try {
        $saved = [System.IO.File]::ReadAllText($file) | ConvertFrom-Json
    }
    catch {
        Stop-Op 'bad_request' "not a vipctl tsvip backup (not JSON): $file"
    }
    $properties = Get-Field $saved 'properties'
    if (-not (Test-IsObject $properties)) {
        Stop-Op 'bad_request' "not a vipctl tsvip backup (no 'properties' object): $file"
    }
    Assert-TsVipNames $properties
    $instance = Get-TsVipInstance
    $current = ConvertTo-TsVipProperties $instance
    $wanted = [ordered]@{}
    $notRestored = New-Object System.Collections.Generic.List[string]
    foreach ($name in (Get-FieldNames $properties)) {
        $value = Get-Field $properties $name
        if ($name -eq 'NetworkAdapterMacAddress' -and (Test-NoAdapterSelected $value)) {
            # SelectNetworkAdapter selects an adapter; WMI has no method that selects none again.
            if (-not (Test-NoAdapterSelected $current[$name])) {
                $notRestored.Add($name)
            }
            continue
        }
        $wanted[$name] = $value
    }
    $changes = Get-TsVipChanges $wanted $current
    if ($changes.Count -gt 0 -and -not $script:Check) {
        Write-TsVipChanges $instance $changes
    }
    $data = [ordered]@{ file = $file; changes = $changes.ToArray(); not_restored = $notRestored.ToArray() }
    return @{ changed = ($changes.Count -gt 0); data = $data }
}
