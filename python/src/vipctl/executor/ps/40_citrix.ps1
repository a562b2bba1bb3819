# ---------------------------------------------------------------- Citrix Group Policy provider

$CitrixHalves = @('Computer', 'User')
# Filter types the provider keeps only under the User half; the others exist under both.
$CitrixUserOnlyFilters = @('AccessControl', 'BranchRepeater', 'ClientIP', 'ClientName', 'User')
$CitrixSettingStates = @('Enabled', 'Disabled', 'Allowed', 'Prohibited', 'NotConfigured', 'UseDefault')

function Open-CitrixPolicyDrive($Address) {
    if ($null -eq (Get-PSSnapin -Name $CitrixSnapin -ErrorAction SilentlyContinue)) { # not loaded yet is the question asked
        if ($null -eq (Get-PSSnapin -Registered -Name $CitrixSnapin -ErrorAction SilentlyContinue)) { # not registered is the question asked
            Stop-Op 'not_available' "snap-in $CitrixSnapin is not installed (not a Delivery Controller)"
        }
        Add-PSSnapin -Name $CitrixSnapin
    }
    $driveName = 'VipctlPolicy'
    if ($null -ne (Get-PSDrive -Name $driveName -ErrorAction SilentlyContinue)) { # no drive left from an earlier op is the usual case
        Remove-PSDrive -Name $driveName
    }
    if ($Address.scope -eq 'site') {
        [void](New-PSDrive -Name $driveName -PSProvider CitrixGroupPolicy -Root '\' -Controller $Address.controller -Scope Script)
    }
    else {
        Assert-DomainGpo $Address.gpo
        try {
            [void](New-PSDrive -Name $driveName -PSProvider CitrixGroupPolicy -Root '\' -DomainGpo $Address.gpo -Scope Script)
        }
        catch {
            Stop-SecondHop $Address.gpo $_.Exception
            throw
        }
    }
    return $driveName + ':'
}

function Stop-SecondHop([string]$Gpo, [System.Exception]$Exception) {
    # From a WinRM session the domain is a second hop: without CredSSP or Kerberos delegation the
    # session has no credentials to pass on, and the domain answers access denied or cannot be
    # contacted (docs/windows-facts.md#a-domain-gpo-from-a-winrm-session-is-a-second-hop).
    $message = Get-ErrorMessage $Exception
    if ($message -match 'Access is denied|could not be contacted|operations error|no logon servers') {
        Stop-Op 'delegation_required' ("AD GPO '{0}' cannot be reached from this WinRM session: writing a domain GPO is a second hop and the connection carries no delegated credentials. Connect with CredSSP, or use Kerberos delegation (a forwardable ticket to a host trusted for delegation); if the connection is delegated already, the account lacks rights on the GPO [{1}]" -f $Gpo, $message)
    }
}

function ConvertTo-LdapFilterValue([string]$Text) {
    # RFC 4515 escaping: a GPO name is data, never part of the filter's syntax.
    $escaped = New-Object System.Text.StringBuilder
    foreach ($character in $Text.ToCharArray()) {
        if ('\*()'.IndexOf($character) -ge 0 -or [int]$character -eq 0) {
            [void]$escaped.AppendFormat('\{0:x2}', [int]$character)
        }
        else {
            [void]$escaped.Append($character)
        }
    }
    return $escaped.ToString()
}

function Assert-DomainGpo([string]$Gpo) {
    # A GPO is a groupPolicyContainer whose displayName is its name. Looked up before the drive is
    # opened, so an unknown GPO is not_found and nothing is created
    # (docs/windows-facts.md#an-unknown-gpo-is-not-found).
    try {
        $searcher = New-Object System.DirectoryServices.DirectorySearcher ('(&(objectClass=groupPolicyContainer)(displayName={0}))' -f (ConvertTo-LdapFilterValue $Gpo))
        $found = $searcher.FindOne()
    }
    catch {
        Stop-SecondHop $Gpo $_.Exception
        throw
    }
    if ($null -eq $found) {
        Stop-Op 'not_found' "AD GPO not found: $Gpo (nothing was created)"
    }
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
    # The category folder of a setting differs between releases, and so may its half: both are
    # looked up, not assumed (docs/windows-facts.md#which-half-holds-the-virtual-loopback-settings).
    foreach ($node in $CitrixHalves) {
        $root = "$Drive\$node\Unfiltered\Settings"
        $found = @(Get-ChildItem -LiteralPath $root -Recurse -ErrorAction SilentlyContinue | Where-Object { $_.PSChildName -eq $Setting }) # a node without that half is skipped; found nowhere is not_found below
        if ($found.Count -gt 0) {
            $relative = $found[0].PSPath.Substring($found[0].PSPath.IndexOf('\Unfiltered\Settings\') + '\Unfiltered\Settings\'.Length)
            return @{ node = $node; relative = $relative }
        }
    }
    Stop-Op 'not_found' "Citrix policy setting not found: $Setting"
}

function Read-CitrixFilters([string]$Root) {
    $filters = New-Object System.Collections.Generic.List[object]
    if (Test-Path -LiteralPath $Root) {
        foreach ($filter in @(Get-ChildItem -LiteralPath $Root -Recurse | Where-Object { $null -ne $_.PSObject.Properties['FilterValue'] })) {
            $parent = [string]$filter.PSParentPath
            $filters.Add([ordered]@{
                    type    = [string]$parent.Substring($parent.LastIndexOf('\') + 1)
                    name    = [string]$filter.PSChildName
                    value   = [string]$filter.FilterValue
                    enabled = [bool]$filter.Enabled
                    mode    = [string]$filter.Mode
                })
        }
    }
    return , $filters.ToArray()
}

function Read-CitrixPolicy([string]$Drive, [string]$Name) {
    # A policy's Computer and User halves are separate items; either may be missing
    # (docs/windows-facts.md#citrix-policies-have-two-independent-halves). Settings of both halves
    # are listed together (a setting lives in one half), Enabled, Priority, Description and
    # filters per half.
    $halves = [ordered]@{}
    $settings = [ordered]@{}
    $exists = $false
    foreach ($half in $CitrixHalves) {
        $root = "$Drive\$half\$Name"
        if (-not (Test-Path -LiteralPath $root)) {
            $halves[$half] = $null
            continue
        }
        $exists = $true
        $item = Get-Item -LiteralPath $root
        if (Test-Path -LiteralPath "$root\Settings") {
            foreach ($setting in @(Get-ChildItem -LiteralPath "$root\Settings" -Recurse)) {
                $state = $setting.PSObject.Properties['State']
                if ($null -eq $state -or [string]$state.Value -eq 'NotConfigured') {
                    continue
                }
                $entry = [ordered]@{ State = [string]$state.Value }
                if ($null -ne $setting.PSObject.Properties['Values']) {
                    # An empty list reads back as one empty string
                    # (docs/windows-facts.md#empty-citrix-values-read-as-one-empty-string).
                    $entry.Values = [object[]]@($setting.Values | Where-Object { $null -ne $_ -and [string]$_ -ne '' } | ForEach-Object { [string]$_ })
                }
                if ($null -ne $setting.PSObject.Properties['Value'] -and $null -ne $setting.Value) {
                    $entry.Value = [string]$setting.Value
                }
                $settings[[string]$setting.PSChildName] = $entry
            }
        }
        $halves[$half] = [ordered]@{
            enabled     = [bool]$item.Enabled
            priority    = [int]$item.Priority
            description = [string]$item.Description
            filters     = (Read-CitrixFilters "$root\Filters")
        }
    }
    if (-not $exists) {
        return $null
    }
    $names = [string[]]@($settings.Keys)
    $sorted = [ordered]@{}
    foreach ($settingName in (Get-SortedByKey $names $names)) {
        $sorted[$settingName] = $settings[$settingName]
    }
    return [ordered]@{ name = $Name; settings = $sorted; halves = $halves }
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

function Get-CitrixFilterHalves([string]$Type) {
    # User-only filter types exist under the User half; the others under both, kept equal
    # (docs/windows-facts.md#citrix-policy-filters-live-per-half).
    if ($CitrixUserOnlyFilters -contains $Type) {
        return , @('User')
    }
    return , $CitrixHalves
}

function Get-CitrixPolicyCount([string]$Drive, [string]$Half) {
    # The numbered policies of one half (Unfiltered always ranks last and is not numbered).
    return @(Get-ChildItem -LiteralPath "$Drive\$Half" | Where-Object { $_.PSChildName -ne 'Unfiltered' }).Count
}

function Assert-CitrixPolicySpec($Wanted) {
    foreach ($field in (Get-FieldNames $Wanted)) {
        if (@('enabled', 'priority', 'description', 'settings', 'filters') -notcontains $field) {
            Stop-Op 'bad_request' "policy has an unknown field '$field'"
        }
    }
    if ((Test-Field $Wanted 'enabled') -and -not ((Get-Field $Wanted 'enabled') -is [bool])) {
        Stop-Op 'bad_request' 'policy.enabled must be true or false'
    }
    if (Test-Field $Wanted 'priority') {
        $priority = Get-Field $Wanted 'priority'
        if (-not (Test-IsInteger $priority) -or $priority -lt 1) {
            Stop-Op 'bad_request' 'policy.priority must be an integer >= 1'
        }
    }
    if ((Test-Field $Wanted 'description') -and -not ((Get-Field $Wanted 'description') -is [string])) {
        Stop-Op 'bad_request' 'policy.description must be a string'
    }
    $settings = Get-Field $Wanted 'settings'
    if ($null -ne $settings) {
        if (-not (Test-IsObject $settings)) {
            Stop-Op 'bad_request' 'policy.settings must be an object'
        }
        foreach ($setting in (Get-FieldNames $settings)) {
            $wantedSetting = Get-Field $settings $setting
            if (-not (Test-IsObject $wantedSetting) -or $CitrixSettingStates -cnotcontains [string](Get-Field $wantedSetting 'State')) {
                Stop-Op 'bad_request' ("policy.settings.{0}.State must be one of {1}" -f $setting, ($CitrixSettingStates -join ', '))
            }
            foreach ($field in (Get-FieldNames $wantedSetting)) {
                if (@('State', 'Values', 'Value') -notcontains $field) {
                    Stop-Op 'bad_request' "policy.settings.$setting has an unknown field '$field'"
                }
            }
            if ((Test-Field $wantedSetting 'Value') -and -not ((Get-Field $wantedSetting 'Value') -is [string])) {
                Stop-Op 'bad_request' "policy.settings.$setting.Value must be a string"
            }
        }
    }
    $filters = Get-Field $Wanted 'filters'
    if ($null -ne $filters) {
        if (-not (Test-IsList $filters)) {
            Stop-Op 'bad_request' 'policy.filters must be a list'
        }
        foreach ($filter in $filters) {
            if (-not (Test-IsObject $filter) -or -not ((Get-Field $filter 'type') -is [string]) -or -not ((Get-Field $filter 'name') -is [string])) {
                Stop-Op 'bad_request' "policy.filters entries need a string 'type' and 'name'"
            }
            # Filter types and names become provider path segments (45_provider_paths.ps1).
            $null = Assert-PathSegment (Get-Field $filter 'type') 'filters.type'
            $null = Assert-PathSegment (Get-Field $filter 'name') 'filters.name'
            foreach ($field in (Get-FieldNames $filter)) {
                if (@('type', 'name', 'value', 'enabled', 'mode') -notcontains $field) {
                    Stop-Op 'bad_request' "policy.filters entries have an unknown field '$field'"
                }
            }
            if ((Test-Field $filter 'mode') -and @('Allow', 'Deny') -cnotcontains [string](Get-Field $filter 'mode')) {
                Stop-Op 'bad_request' 'policy.filters mode must be Allow or Deny'
            }
            if ((Test-Field $filter 'enabled') -and -not ((Get-Field $filter 'enabled') -is [bool])) {
                Stop-Op 'bad_request' 'policy.filters enabled must be true or false'
            }
            if ((Test-Field $filter 'value') -and -not ((Get-Field $filter 'value') -is [string])) {
                Stop-Op 'bad_request' 'policy.filters value must be a string'
            }
        }
    }
}

function Set-CitrixPolicy([string]$Drive, [string]$Name, $Current, $Wanted, $Changes) {
    # Computes changes against $Current and, unless in check mode, writes them: the policy, then
    # per half its presence, Enabled, Priority, Description and filters, then the settings. Only
    # the halves the policy has, or that its settings and user-only filters need, are touched.
    $write = -not $script:Check
    Assert-CitrixPolicySpec $Wanted
    $settings = Get-Field $Wanted 'settings'
    # Assigned, not wrapped in @(): Get-Field hands the list back as one object.
    $filters = Get-Field $Wanted 'filters'
    if ($null -eq $filters) {
        $filters = @()
    }
    $locations = @{}
    $needed = @{}
    $existed = New-Object System.Collections.Generic.List[string]
    foreach ($half in $CitrixHalves) {
        if ($null -ne $Current -and $null -ne $Current.halves[$half]) {
            $needed[$half] = $true
            $existed.Add($half)
        }
    }
    if ($null -ne $settings) {
        foreach ($setting in (Get-FieldNames $settings)) {
            $locations[$setting] = Find-CitrixSettingCategory $Drive $setting
            $needed[$locations[$setting].node] = $true
        }
    }
    foreach ($filter in $filters) {
        if ($CitrixUserOnlyFilters -contains [string](Get-Field $filter 'type')) {
            $needed['User'] = $true
        }
    }
    if ($needed.Count -eq 0) {
        $needed['Computer'] = $true
    }
    if ($null -eq $Current) {
        [void](Add-Change $Changes 'policy' 'absent' 'present')
    }
    foreach ($half in $CitrixHalves) {
        if (-not $needed.ContainsKey($half)) {
            continue
        }
        $path = "$Drive\$half\$Name"
        $fresh = -not $existed.Contains($half)
        $state = [ordered]@{ enabled = $null; priority = $null; description = $null; filters = @() }
        $inherited = @()
        if ($fresh) {
            if ($existed.Count -gt 0) {
                [void](Add-Change $Changes $half 'absent' 'present')
                # Both-halves filters of the half that exists come along, so the halves agree.
                $inherited = @($Current.halves[$existed[0]].filters | Where-Object { $CitrixUserOnlyFilters -notcontains $_.type })
            }
            if ($write) {
                # New-Item creates the half disabled and last in its half's order
                # (docs/windows-facts.md#a-new-citrix-policy-starts-disabled).
                New-ProviderItem "$Drive\$half" $Name
            }
        }
        else {
            $state = $Current.halves[$half]
        }
        if (Test-Field $Wanted 'enabled') {
            $after = [bool](Get-Field $Wanted 'enabled')
            if ((Add-Change $Changes "$half.enabled" $state.enabled $after) -and $write) {
                Set-ItemProperty -LiteralPath $path -Name 'Enabled' -Value $after
            }
        }
        if (Test-Field $Wanted 'priority') {
            # The provider clamps Priority to the number of policies in the half and renumbers the
            # others; the halves may hold different numbers of policies, so the clamped value is
            # what is compared, else every run would report a change
            # (docs/windows-facts.md#citrix-policy-priority-renumbers-and-clamps).
            $count = Get-CitrixPolicyCount $Drive $half
            if ($fresh -and -not $write) {
                $count++
            }
            $after = [int][math]::Min([decimal](Get-Field $Wanted 'priority'), [decimal]$count)
            if ((Add-Change $Changes "$half.priority" $state.priority $after) -and $write) {
                Set-ItemProperty -LiteralPath $path -Name 'Priority' -Value $after
            }
        }
        if (Test-Field $Wanted 'description') {
            $after = [string](Get-Field $Wanted 'description')
            if ((Add-Change $Changes "$half.description" $state.description $after) -and $write) {
                Set-ItemProperty -LiteralPath $path -Name 'Description' -Value $after
            }
        }
        $halfFilters = New-Object System.Collections.Generic.List[object]
        foreach ($filter in $inherited) {
            $halfFilters.Add($filter)
        }
        foreach ($filter in $filters) {
            if ((Get-CitrixFilterHalves ([string](Get-Field $filter 'type'))) -contains $half) {
                $halfFilters.Add($filter)
            }
        }
        $written = @{}
        foreach ($filter in $halfFilters) {
            $type = [string](Get-Field $filter 'type')
            $filterName = [string](Get-Field $filter 'name')
            $key = "$type\$filterName"
            $old = $null
            if ($written.ContainsKey($key)) {
                $old = $written[$key]
            }
            else {
                $before = @($state.filters | Where-Object { $_.type -ceq $type -and $_.name -ceq $filterName })
                if ($before.Count -gt 0) {
                    $old = $before[0]
                }
            }
            if ($null -eq $old -and $write) {
                New-ProviderItem "$path\Filters\$type" $filterName
            }
            $now = [ordered]@{ type = $type; name = $filterName; value = ''; enabled = $true; mode = 'Allow' }
            if ($null -ne $old) {
                foreach ($field in @('value', 'enabled', 'mode')) {
                    $now[$field] = Get-Field $old $field
                }
            }
            $fieldMap = [ordered]@{ value = 'FilterValue'; enabled = 'Enabled'; mode = 'Mode' }
            foreach ($field in $fieldMap.Keys) {
                if (-not (Test-Field $filter $field)) {
                    continue
                }
                $after = Get-Field $filter $field
                if ((Add-Change $Changes "filters.$half.$type.$filterName.$field" (Get-Field $old $field) $after) -and $write) {
                    Set-ItemProperty -LiteralPath "$path\Filters\$type\$filterName" -Name $fieldMap[$field] -Value $after
                }
                $now[$field] = $after
            }
            $written[$key] = $now
        }
    }
    if ($null -ne $settings) {
        foreach ($setting in (Get-FieldNames $settings)) {
            $wantedSetting = Get-Field $settings $setting
            $before = $null
            if ($null -ne $Current -and $Current.settings.Contains($setting)) {
                $before = $Current.settings[$setting]
            }
            $location = $locations[$setting]
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
                    $path = "$Drive\$($location.node)\$Name\Settings\$($location.relative)"
                    Set-ItemProperty -LiteralPath $path -Name $field -Value $after
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
    [System.IO.File]::WriteAllText($file, ($saved | ConvertTo-Json -Depth 20 -Compress), (New-Object System.Text.UTF8Encoding $false))
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
            Restore-CitrixPolicy $drive $address.name $policy
        }
    }
    return @{ changed = $true; data = [ordered]@{ file = $file; name = $address.name } }
}


function Restore-CitrixPolicy([string]$Drive, [string]$Name, $Saved) {
    # Rebuilds exactly the halves the backup holds, each with its own Enabled, Priority,
    # Description and filters, then the settings in the half that holds them.
    $halves = Get-Field $Saved 'halves'
    if (-not (Test-IsObject $halves)) {
        Stop-Op 'bad_request' "not a vipctl Citrix policy backup (no 'halves' object)"
    }
    foreach ($half in $CitrixHalves) {
        $state = Get-Field $halves $half
        if ($null -eq $state) {
            continue
        }
        $path = "$Drive\$half\$Name"
        New-ProviderItem "$Drive\$half" $Name
        Set-ItemProperty -LiteralPath $path -Name 'Enabled' -Value ([bool](Get-Field $state 'enabled'))
        Set-ItemProperty -LiteralPath $path -Name 'Priority' -Value ([int](Get-Field $state 'priority'))
        Set-ItemProperty -LiteralPath $path -Name 'Description' -Value ([string](Get-Field $state 'description'))
        $savedFilters = Get-Field $state 'filters'
        if ($null -eq $savedFilters) {
            $savedFilters = @()
        }
        foreach ($filter in $savedFilters) {
            $type = Assert-PathSegment (Get-Field $filter 'type') 'filters.type'
            $filterName = Assert-PathSegment (Get-Field $filter 'name') 'filters.name'
            New-ProviderItem "$path\Filters\$type" $filterName
            Set-ItemProperty -LiteralPath "$path\Filters\$type\$filterName" -Name 'FilterValue' -Value ([string](Get-Field $filter 'value'))
            Set-ItemProperty -LiteralPath "$path\Filters\$type\$filterName" -Name 'Enabled' -Value ([bool](Get-Field $filter 'enabled'))
            Set-ItemProperty -LiteralPath "$path\Filters\$type\$filterName" -Name 'Mode' -Value ([string](Get-Field $filter 'mode'))
        }
    }
    $settings = Get-Field $Saved 'settings'
    if ($null -ne $settings) {
        foreach ($setting in (Get-FieldNames $settings)) {
            $location = Find-CitrixSettingCategory $Drive $setting
            $path = "$Drive\$($location.node)\$Name\Settings\$($location.relative)"
            $savedSetting = Get-Field $settings $setting
            foreach ($field in @('State', 'Values', 'Value')) {
                if (Test-Field $savedSetting $field) {
                    $value = Get-Field $savedSetting $field
                    if ($field -eq 'Values') {
                        $value = [string[]]@($value)
                    }
                    Set-ItemProperty -LiteralPath $path -Name $field -Value $value
                }
            }
        }
    }
}
