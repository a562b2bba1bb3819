# ---------------------------------------------------------------- conditions and the run loop

function Resolve-ConditionValue($Results, $Condition) {
    $ref = Get-Field $Condition 'ref'
    if (-not ($ref -is [string]) -or -not $Results.ContainsKey($ref)) {
        Stop-Op 'bad_request' "condition refers to no earlier op id: $ref"
    }
    $path = Get-Field $Condition 'path'
    if (-not (Test-IsList $path)) {
        Stop-Op 'bad_request' "condition 'path' must be a list"
    }
    $value = $Results[$ref]
    foreach ($step in $path) {
        if ($step -is [string] -and (Test-Field $value $step)) {
            $value = Get-Field $value $step
        }
        elseif ((Test-IsInteger $step) -and (Test-IsList $value) -and $step -ge 0 -and $step -lt $value.Count) {
            $value = $value[[int]$step]
        }
        else {
            return $null
        }
    }
    # Comma: a list value must reach the comparison as a list, not unrolled.
    return , $value
}

function Test-Condition($Results, $Condition) {
    $value = Resolve-ConditionValue $Results $Condition
    $hasIn = Test-Field $Condition 'in'
    $hasNotIn = Test-Field $Condition 'not_in'
    if ($hasIn -eq $hasNotIn) {
        Stop-Op 'bad_request' "a condition needs exactly one of 'in' and 'not_in'"
    }
    # Only the field that is there is read: under Set-StrictMode a missing property would throw.
    if ($hasIn) {
        $list = Get-Field $Condition 'in'
    }
    else {
        $list = Get-Field $Condition 'not_in'
    }
    if (-not (Test-IsList $list)) {
        Stop-Op 'bad_request' "condition 'in' / 'not_in' must be a list"
    }
    $found = $false
    foreach ($candidate in $list) {
        if (Test-JsonEqual $value $candidate) {
            $found = $true
            break
        }
    }
    return $found -eq $hasIn
}

function Test-AllConditions($Results, $Conditions, [string]$Field) {
    if (-not (Test-IsList $Conditions)) {
        Stop-Op 'bad_request' "'$Field' must be a list of conditions"
    }
    foreach ($condition in $Conditions) {
        if (-not (Test-Condition $Results $condition)) {
            return $false
        }
    }
    return $true
}

function Invoke-Require($Op, $Results) {
    $message = Get-RequiredString $Op 'message'
    if (-not (Test-AllConditions $Results (Get-Field $Op 'conditions') 'conditions')) {
        Stop-Op 'precondition_failed' $message
    }
    return @{ changed = $false; data = [ordered]@{} }
}

$OpHandlers = @{
    host_facts            = 'Invoke-HostFacts'
    registry_get          = 'Invoke-RegistryGet'
    registry_set          = 'Invoke-RegistrySet'
    registry_rename_key   = 'Invoke-RegistryRenameKey'
    registry_restore      = 'Invoke-RegistryRestore'
    backup_list           = 'Invoke-BackupList'
    tsvip_get             = 'Invoke-TsVipGet'
    tsvip_set             = 'Invoke-TsVipSet'
    tsvip_restore         = 'Invoke-TsVipRestore'
    citrix_policy_get     = 'Invoke-CitrixPolicyGet'
    citrix_policy_set     = 'Invoke-CitrixPolicySet'
    citrix_policy_restore = 'Invoke-CitrixPolicyRestore'
    feature_install       = 'Invoke-FeatureInstall'
    net_endpoints         = 'Invoke-NetEndpoints'
    sessions              = 'Invoke-Sessions'
    restart_state         = 'Invoke-RestartState'
    restart_mark          = 'Invoke-RestartMark'
    address_match         = 'Invoke-AddressMatch'
}

function New-Result([string]$Name, $Id) {
    $result = [ordered]@{ op = $Name }
    if ($null -ne $Id) {
        $result.id = $Id
    }
    return $result
}

function Invoke-Op($Op, $Results) {
    $name = [string](Get-Field $Op 'op')
    $result = New-Result $name (Get-Field $Op 'id')
    try {
        if (-not ($Op -is [System.Management.Automation.PSCustomObject]) -or -not ((Get-Field $Op 'op') -is [string])) {
            Stop-Op 'bad_request' "every op must be an object with a string 'op'"
        }
        if ((Test-Field $Op 'when') -and -not (Test-AllConditions $Results (Get-Field $Op 'when') 'when')) {
            $result.ok = $true
            $result.changed = $false
            $result.skipped = $true
            $result.data = [ordered]@{}
            return $result
        }
        if ($name -eq 'require') {
            $outcome = Invoke-Require $Op $Results
        }
        elseif ($OpHandlers.ContainsKey($name)) {
            # The handler table maps fixed op names to fixed functions; no request text is ever run.
            $outcome = & $OpHandlers[$name] $Op
        }
        else {
            Stop-Op 'unknown_op' "unknown op: $name"
        }
        $result.ok = $true
        $result.changed = [bool]$outcome.changed
        $result.data = $outcome.data
    }
    catch {
        $result.ok = $false
        $result.error = [ordered]@{ kind = (Get-ErrorKind $_.Exception); message = (Get-ErrorMessage $_.Exception) }
    }
    return $result
}

function Invoke-Request([string]$Encoded) {
    $languageProblem = Get-LanguageModeProblem
    if ($null -ne $languageProblem) {
        return New-BadRequest $languageProblem 'constrained_language'
    }
    try {
        $text = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($Encoded))
        $request = $text | ConvertFrom-Json
    }
    catch {
        return New-BadRequest "request is not base64 of UTF-8 JSON: $($_.Exception.Message)"
    }
    if (-not ($request -is [System.Management.Automation.PSCustomObject])) {
        return New-BadRequest 'request must be a JSON object'
    }
    $version = Get-Field $request 'v'
    # $ProtocolVersion is written into the shipped script from codec.PROTOCOL_VERSION (executor/__init__.py).
    if (-not (Test-IsInteger $version) -or $version -ne $ProtocolVersion) {
        return New-BadRequest "request field 'v' must be $ProtocolVersion"
    }
    if (-not (Test-IsList (Get-Field $request 'ops'))) {
        return New-BadRequest "request field 'ops' must be a list"
    }
    $check = Get-Field $request 'check'
    if ($null -ne $check -and -not ($check -is [bool])) {
        return New-BadRequest "request field 'check' must be true or false"
    }
    $backupDir = Get-Field $request 'backup_dir'
    if ($null -ne $backupDir -and -not ($backupDir -is [string])) {
        return New-BadRequest "request field 'backup_dir' must be a string or null"
    }
    $script:Check = $check -eq $true
    $script:BackupDir = $backupDir

    $results = New-Object System.Collections.Generic.List[object]
    $byId = @{}
    $failed = $null
    $index = -1
    foreach ($op in (Get-Field $request 'ops')) {
        # Positions in messages are 0-based indexes into 'ops'.
        $index++
        if ($null -ne $failed) {
            $result = New-Result ([string](Get-Field $op 'op')) (Get-Field $op 'id')
            $result.ok = $false
            $result.skipped = $true
            $result.error = [ordered]@{ kind = 'skipped'; message = "not run: op $($failed.index) ($($failed.op)) failed" }
            $results.Add($result)
            continue
        }
        $result = Invoke-Op $op $byId
        try {
            Save-BackupManifest
        }
        catch {
            # A set without a true manifest would be refused at restore: say so now.
            $result.ok = $false
            $result.error = [ordered]@{ kind = 'failed'; message = "could not write the backup manifest: $(Get-ErrorMessage $_.Exception)" }
        }
        $results.Add($result)
        if ($result.Contains('id') -and $result.id -is [string]) {
            $byId[$result.id] = $result
        }
        if (-not $result.ok) {
            $failed = @{ index = $index; op = $result.op }
        }
    }
    return [ordered]@{ v = $ProtocolVersion; ok = ($null -eq $failed); results = $results.ToArray(); backups = $script:Backups.ToArray() }
}

function New-BadRequest([string]$Message, [string]$Kind = 'bad_request') {
    return [ordered]@{ v = $ProtocolVersion; ok = $false; error = [ordered]@{ kind = $Kind; message = $Message }; results = @(); backups = @() }
}

$response = Invoke-Request $RequestBase64
# No 'exit' here: under PSRP it would end the runspace's pipeline, not just this script.
if ($response.Contains('error')) {
    $global:LASTEXITCODE = 1
}
else {
    $global:LASTEXITCODE = 0
}
Write-Output ($response | ConvertTo-Json -Depth 20 -Compress)
