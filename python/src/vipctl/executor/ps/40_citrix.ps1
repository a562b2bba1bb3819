# ---------------------------------------------------------------- Citrix Group Policy provider

function Open-CitrixPolicyDrive($Address) {
    if ($null -eq (Get-PSSnapin -Name $CitrixSnapin -ErrorAction SilentlyContinue)) {
        if ($null -eq (Get-PSSnapin -Registered -Name $CitrixSnapin -ErrorAction SilentlyContinue)) {
            Stop-Op 'not_available' "snap-in $CitrixSnapin is not installed (not a Delivery Controller)"
        }
        Add-PSSnapin -Name $CitrixSnapin
    }
    $driveName = 'VipctlPolicy'
    if ($null -ne (Get-PSDrive -Name $driveName -ErrorAction SilentlyContinue)) {
        Remove-PSDrive -Name $driveName
    }
    if ($Address.scope -eq 'site') {
        [void](New-PSDrive -Name $driveName -PSProvider CitrixGroupPolicy -Root '\' -Controller $Address.controller -Scope Script)
    }
    else {
        [void](New-PSDrive -Name $driveName -PSProvider CitrixGroupPolicy -Root '\' -DomainGpo $Address.gpo -Scope Script)
    }
    return $driveName + ':'
}

function Get-CitrixAddress($Op) {
    $name = Assert-PathSegment (Get-Field $Op 'name') 'name'
    $scope = Get-Field $Op 'scope'
    if ($scope -ne 'site' -and $scope -ne 'ad_gpo') {
        Stop-Op 'bad_request' "argument 'scope' must be site or ad_gpo"
    }
    $gpo = $null
    if ($scope -eq 'ad_gpo') {
        $gpo = Get-RequiredString $Op 'gpo'
    }
    $controller = Get-Field $Op 'controller'
    if ($null -eq $controller) {
        $controller = 'localhost'
    }
    if (-not ($controller -is [string])) {
        Stop-Op 'bad_request' "argument 'controller' must be a string"
    }
    return [ordered]@{ name = $name; scope = $scope; gpo = $gpo; controller = $controller }
}

function Find-CitrixSettingCategory([string]$Drive, [string]$Setting) {
    # The category folder of a setting differs between releases, so it is looked up, not assumed.
    foreach ($node in @('Computer', 'User')) {
        $root = "$Drive\$node\Unfiltered\Settings"
        $found = @(Get-ChildItem -LiteralPath $root -Recurse -ErrorAction SilentlyContinue | Where-Object { $_.PSChildName -eq $Setting })
        if ($found.Count -gt 0) {
            $relative = $found[0].PSPath.Substring($found[0].PSPath.IndexOf('\Unfiltered\Settings\') + '\Unfiltered\Settings\'.Length)
            return @{ node = $node; relative = $relative }
        }
    }
    Stop-Op 'not_found' "Citrix policy setting not found: $Setting"
}

function Read-CitrixPolicy([string]$Drive, [string]$Name) {
    $computer = "$Drive\Computer\$Name"
    if (-not (Test-Path -LiteralPath $computer)) {
        return $null
    }
    $item = Get-Item -LiteralPath $computer
    $settings = [ordered]@{}
    $filters = New-Object System.Collections.Generic.List[object]
    foreach ($node in @('Computer', 'User')) {
        $settingsRoot = "$Drive\$node\$Name\Settings"
        if (Test-Path -LiteralPath $settingsRoot) {
            foreach ($setting in @(Get-ChildItem -LiteralPath $settingsRoot -Recurse)) {
                $state = $setting.PSObject.Properties['State']
                if ($null -eq $state -or [string]$state.Value -eq 'NotConfigured') {
                    continue
                }
                $entry = [ordered]@{ State = [string]$state.Value }
                if ($null -ne $setting.PSObject.Properties['Values']) {
                    $entry.Values = [object[]]@($setting.Values | ForEach-Object { [string]$_ })
                }
                if ($null -ne $setting.PSObject.Properties['Value'] -and $null -ne $setting.Value) {
                    $entry.Value = [string]$setting.Value
                }
                $settings[[string]$setting.PSChildName] = $entry
            }
        }
    }
    $filtersRoot = "$computer\Filters"
    if (Test-Path -LiteralPath $filtersRoot) {
        foreach ($filter in @(Get-ChildItem -LiteralPath $filtersRoot -Recurse | Where-Object { $null -ne $_.PSObject.Properties['FilterValue'] })) {
            $parent = [string]$filter.PSParentPath
            $type = $parent.Substring($parent.LastIndexOf('\') + 1)
            $filters.Add([ordered]@{
                    type    = [string]$type
                    name    = [string]$filter.PSChildName
                    value   = [string]$filter.FilterValue
                    enabled = [bool]$filter.Enabled
                    mode    = [string]$filter.Mode
                })
        }
    }
    return [ordered]@{
        name        = $Name
        enabled     = [bool]$item.Enabled
        priority    = [int]$item.Priority
        description = [string]$item.Description
        settings    = $settings
        filters     = $filters.ToArray()
    }
}

function Invoke-CitrixPolicyGet($Op) {
    $address = Get-CitrixAddress $Op
    try {
        $drive = Open-CitrixPolicyDrive $address
    }
    catch {
        if ((Get-ErrorKind $_.Exception) -eq 'not_available') {
            return @{ changed = $false; data = [ordered]@{ available = $false; exists = $false; policy = $null } }
        }
        throw
    }
    $policy = Read-CitrixPolicy $drive $address.name
    return @{ changed = $false; data = [ordered]@{ available = $true; exists = ($null -ne $policy); policy = $policy } }
}

function Add-Change($Changes, [string]$Field, $Before, $After) {
    if (-not (Test-JsonEqual $Before $After)) {
        $Changes.Add([ordered]@{ field = $Field; before = $Before; after = $After })
        return $true
    }
    return $false
}

function Set-CitrixPolicy([string]$Drive, [string]$Name, $Current, $Wanted, $Changes) {
    # Computes changes against $Current and, unless in check mode, writes them. One Studio policy
    # is a Computer node and a User node; both are created and kept at the same priority.
    $write = -not $script:Check
    if ($null -eq $Current) {
        [void](Add-Change $Changes 'policy' 'absent' 'present')
        if ($write) {
            foreach ($node in @('Computer', 'User')) {
                New-ProviderItem "$Drive\$node" $Name
            }
        }
        $Current = [ordered]@{ enabled = $null; priority = $null; description = $null; settings = @{}; filters = @() }
    }
    $policyFields = [ordered]@{ enabled = 'Enabled'; priority = 'Priority'; description = 'Description' }
    foreach ($field in $policyFields.Keys) {
        if (-not (Test-Field $Wanted $field)) {
            continue
        }
        $after = Get-Field $Wanted $field
        if ((Add-Change $Changes $field $Current[$field] $after) -and $write) {
            foreach ($node in @('Computer', 'User')) {
                Set-ItemProperty -LiteralPath "$Drive\$node\$Name" -Name $policyFields[$field] -Value $after
            }
        }
    }
    $settings = Get-Field $Wanted 'settings'
    if ($null -ne $settings) {
        if (-not (Test-IsObject $settings)) {
            Stop-Op 'bad_request' "policy.settings must be an object"
        }
        foreach ($setting in (Get-FieldNames $settings)) {
            $wantedSetting = Get-Field $settings $setting
            $before = $null
            if ($Current.settings.Contains($setting)) {
                $before = $Current.settings[$setting]
            }
            $location = $null
            foreach ($field in @('State', 'Values', 'Value')) {
                if (-not (Test-Field $wantedSetting $field)) {
                    continue
                }
                $after = ConvertTo-PlainValue (Get-Field $wantedSetting $field)
                if ($field -eq 'Values') {
                    $after = Get-StringList $after "settings.$setting.Values"
                }
                $old = Get-Field $before $field
                if ($field -eq 'State' -and $null -eq $old) {
                    $old = 'NotConfigured'
                }
                if ((Add-Change $Changes "settings.$setting.$field" $old $after) -and $write) {
                    if ($null -eq $location) {
                        $location = Find-CitrixSettingCategory $Drive $setting
                    }
                    $path = "$Drive\$($location.node)\$Name\Settings\$($location.relative)"
                    Set-ItemProperty -LiteralPath $path -Name $field -Value $after
                }
            }
        }
    }
    $filters = Get-Field $Wanted 'filters'
    if ($null -ne $filters) {
        if (-not (Test-IsList $filters)) {
            Stop-Op 'bad_request' "policy.filters must be a list"
        }
        foreach ($filter in $filters) {
            $type = Assert-PathSegment (Get-Field $filter 'type') 'filters.type'
            $filterName = Assert-PathSegment (Get-Field $filter 'name') 'filters.name'
            $before = @($Current.filters | Where-Object { $_.type -eq $type -and $_.name -eq $filterName })
            $old = $null
            if ($before.Count -gt 0) {
                $old = $before[0]
            }
            $path = "$Drive\Computer\$Name\Filters\$type\$filterName"
            if ($null -eq $old -and $write) {
                New-ProviderItem "$Drive\Computer\$Name\Filters\$type" $filterName
            }
            $fieldMap = [ordered]@{ value = 'FilterValue'; enabled = 'Enabled'; mode = 'Mode' }
            foreach ($field in $fieldMap.Keys) {
                if (-not (Test-Field $filter $field)) {
                    continue
                }
                $after = Get-Field $filter $field
                if ((Add-Change $Changes "filters.$type.$filterName.$field" (Get-Field $old $field) $after) -and $write) {
                    Set-ItemProperty -LiteralPath $path -Name $fieldMap[$field] -Value $after
                }
            }
        }
    }
}

function New-ProviderItem([string]$Parent, [string]$Name) {
    # New-Item has no -LiteralPath. Given -Name, it resolves -Path as a wildcard pattern
    # (PowerShell issue 17106), so the parent is escaped; -Name is always taken literally. Policy
    # and filter names are user data and may hold '[', ']', '*' or '?'.
    $escaped = [System.Management.Automation.WildcardPattern]::Escape($Parent)
    [void](New-Item -Path $escaped -Name $Name)
}

function Remove-CitrixPolicy([string]$Drive, [string]$Name) {
    foreach ($node in @('Computer', 'User')) {
        Remove-ProviderNode "$Drive\$node" $Name 'name'
    }
}

function Invoke-CitrixPolicySet($Op) {
    $address = Get-CitrixAddress $Op
    $state = Get-Field $Op 'state'
    if ($state -ne 'present' -and $state -ne 'absent') {
        Stop-Op 'bad_request' "argument 'state' must be present or absent"
    }
    $wanted = Get-Field $Op 'policy'
    if ($state -eq 'present' -and -not (Test-IsObject $wanted)) {
        Stop-Op 'bad_request' "argument 'policy' must be an object"
    }
    $drive = Open-CitrixPolicyDrive $address
    $current = Read-CitrixPolicy $drive $address.name
    $changes = New-Object System.Collections.Generic.List[object]
    $backup = $null
    $needsWrite = $false
    if ($state -eq 'absent') {
        $needsWrite = $null -ne $current
    }
    else {
        # A dry pass decides whether anything differs, so the backup precedes the first write.
        $dryRun = New-Object System.Collections.Generic.List[object]
        $savedCheck = $script:Check
        $script:Check = $true
        try {
            Set-CitrixPolicy $drive $address.name $current $wanted $dryRun
        }
        finally {
            $script:Check = $savedCheck
        }
        $needsWrite = $dryRun.Count -gt 0
    }
    if ($needsWrite -and -not $script:Check -and $null -ne $script:BackupDir) {
        $backup = Save-CitrixPolicyBackup $address $current
    }
    if ($state -eq 'absent') {
        if ($null -ne $current) {
            [void](Add-Change $changes 'policy' 'present' 'absent')
            if (-not $script:Check) {
                Remove-CitrixPolicy $drive $address.name
            }
        }
    }
    else {
        Set-CitrixPolicy $drive $address.name $current $wanted $changes
    }
    return @{ changed = ($changes.Count -gt 0); data = [ordered]@{ changes = $changes.ToArray(); backup = $backup } }
}

function Save-CitrixPolicyBackup($Address, $Current) {
    # The file carries the addressing too, so citrix_policy_restore needs only the file.
    $safeName = $Address.name -replace '[^A-Za-z0-9._-]', '_'
    $file = Get-BackupFile ("citrix_policy_$safeName.json")
    if ($script:BackedUp.ContainsKey($file.ToLowerInvariant())) {
        return $file
    }
    $saved = [ordered]@{
        exists     = ($null -ne $Current)
        name       = $Address.name
        scope      = $Address.scope
        gpo        = $Address.gpo
        controller = $Address.controller
        policy     = $Current
    }
    [System.IO.File]::WriteAllText($file, ($saved | ConvertTo-Json -Depth 20), (New-Object System.Text.UTF8Encoding $false))
    $script:BackedUp[$file.ToLowerInvariant()] = $file
    $script:Backups.Add($file)
    return $file
}

function Invoke-CitrixPolicyRestore($Op) {
    $file = Get-RequiredString $Op 'file'
    if (-not [System.IO.File]::Exists($file)) {
        Stop-Op 'not_found' "backup file not found: $file"
    }
    Assert-BackupFileIntact $file
    $saved = [System.IO.File]::ReadAllText($file) | ConvertFrom-Json
    if (-not (Test-IsObject $saved)) {
        Stop-Op 'bad_request' "not a vipctl Citrix policy backup: $file"
    }
    $address = Get-CitrixAddress $saved
    $exists = (Get-Field $saved 'exists') -eq $true
    $policy = Get-Field $saved 'policy'
    if ($exists -and -not (Test-IsObject $policy)) {
        Stop-Op 'bad_request' "not a vipctl Citrix policy backup (no 'policy' object): $file"
    }
    $drive = Open-CitrixPolicyDrive $address
    if (-not $script:Check) {
        # Remove and rebuild: settings configured after the backup must end up unconfigured.
        Remove-CitrixPolicy $drive $address.name
        if ($exists) {
            $changes = New-Object System.Collections.Generic.List[object]
            Set-CitrixPolicy $drive $address.name $null $policy $changes
        }
    }
    return @{ changed = $true; data = [ordered]@{ file = $file; name = $address.name } }
}
