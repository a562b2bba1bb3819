# vipctl executor: one JSON request in, one JSON response out (docs/executor-protocol.md).
# It knows how to read and write; what to change is decided in Python and arrives as data.
# Target: Windows PowerShell 5.1. Request values are only ever used as data, never as code.
param([string]$RequestBase64)

$ErrorActionPreference = 'Stop'
# Progress records would reach the controller as CLIXML noise on stderr.
$ProgressPreference = 'SilentlyContinue'

$CitrixSnapin = 'Citrix.Common.GroupPolicy'

$script:Check = $false
$script:BackupDir = $null
$script:Backups = New-Object System.Collections.Generic.List[object]
$script:BackedUp = @{}
# What tsvip_set saved in this request, so a second tsvip_set adds to the same tsvip.json.
$script:TsVipSaved = [ordered]@{}

# ---------------------------------------------------------------- errors and JSON values

function Stop-Op([string]$Kind, [string]$Message) {
    # The kind travels in Exception.Data so one catch can tell our errors from Windows' own.
    $exception = New-Object System.Exception $Message
    $exception.Data['vipctl_kind'] = $Kind
    throw $exception
}

function Get-ErrorKind([System.Exception]$Exception) {
    $current = $Exception
    while ($null -ne $current) {
        if ($current.Data.Contains('vipctl_kind')) {
            return [string]$current.Data['vipctl_kind']
        }
        if ($current -is [System.UnauthorizedAccessException] -or $current -is [System.Security.SecurityException]) {
            return 'access_denied'
        }
        if ($current.GetType().FullName -eq 'Microsoft.Management.Infrastructure.CimException') {
            $code = [string]$current.NativeErrorCode
            if ($code -eq 'AccessDenied') {
                return 'access_denied'
            }
            if ($code -eq 'InvalidNamespace' -or $code -eq 'InvalidClass') {
                return 'not_available'
            }
        }
        $current = $current.InnerException
    }
    return 'failed'
}

function Get-ErrorMessage([System.Exception]$Exception) {
    # MethodInvocationException wraps the useful .NET message one level down.
    if ($Exception -is [System.Management.Automation.MethodInvocationException] -and $null -ne $Exception.InnerException) {
        return $Exception.InnerException.Message
    }
    return $Exception.Message
}

function Test-Field($Object, [string]$Name) {
    if ($Object -is [System.Collections.IDictionary]) {
        return $Object.Contains($Name)
    }
    if ($Object -is [System.Management.Automation.PSCustomObject]) {
        return $null -ne $Object.PSObject.Properties[$Name]
    }
    return $false
}

function Get-Field($Object, [string]$Name) {
    # Index rather than member access, so a key such as 'Count' never reads a .NET property.
    # The unary comma keeps a list a list: a bare `return` would unroll it, turning a
    # one-element list into its element and an empty list into $null.
    if ($Object -is [System.Collections.IDictionary]) {
        return , $Object[$Name]
    }
    if (Test-Field $Object $Name) {
        return , $Object.PSObject.Properties[$Name].Value
    }
    return $null
}

function Test-IsObject($Value) {
    # A JSON object: ConvertFrom-Json gives PSCustomObject, our own data is a dictionary.
    return ($Value -is [System.Management.Automation.PSCustomObject]) -or ($Value -is [System.Collections.IDictionary])
}

function Test-IsList($Value) {
    return ($Value -is [System.Collections.IList]) -and -not ($Value -is [string])
}

function Test-IsNumber($Value) {
    return ($Value -is [int] -or $Value -is [long] -or $Value -is [uint32] -or $Value -is [uint64] -or
        $Value -is [decimal] -or $Value -is [double] -or $Value -is [single])
}

function Test-IsInteger($Value) {
    # JSON numbers arrive as Int32, Int64 or Decimal; booleans must not pass as 0/1.
    if ($Value -is [int] -or $Value -is [long] -or $Value -is [uint32] -or $Value -is [uint64]) {
        return $true
    }
    if ($Value -is [decimal] -or $Value -is [double]) {
        return [math]::Floor($Value) -eq $Value
    }
    return $false
}

function Get-RequiredString($Op, [string]$Name) {
    $value = Get-Field $Op $Name
    if (-not ($value -is [string]) -or $value -eq '') {
        Stop-Op 'bad_request' "argument '$Name' must be a non-empty string"
    }
    return $value
}

function Get-StringList($Value, [string]$Name) {
    if (-not (Test-IsList $Value)) {
        Stop-Op 'bad_request' "argument '$Name' must be a list of strings"
    }
    $items = New-Object System.Collections.Generic.List[string]
    foreach ($item in $Value) {
        if (-not ($item -is [string])) {
            Stop-Op 'bad_request' "argument '$Name' must be a list of strings"
        }
        $items.Add($item)
    }
    return , $items.ToArray()
}

function Test-JsonEqual($Left, $Right) {
    # JSON equality: no PowerShell coercion, so "1" is not 1 and true is not 1.
    if ($null -eq $Left -or $null -eq $Right) {
        return ($null -eq $Left) -and ($null -eq $Right)
    }
    if ($Left -is [bool] -or $Right -is [bool]) {
        return ($Left -is [bool]) -and ($Right -is [bool]) -and ($Left -eq $Right)
    }
    if ($Left -is [string] -or $Right -is [string]) {
        return ($Left -is [string]) -and ($Right -is [string]) -and ($Left -ceq $Right)
    }
    if ((Test-IsNumber $Left) -or (Test-IsNumber $Right)) {
        # A number never equals a list or an object (and a cast of one would throw).
        return (Test-IsNumber $Left) -and (Test-IsNumber $Right) -and (([decimal]$Left) -eq ([decimal]$Right))
    }
    if (Test-IsList $Left) {
        if (-not (Test-IsList $Right) -or $Left.Count -ne $Right.Count) {
            return $false
        }
        for ($i = 0; $i -lt $Left.Count; $i++) {
            if (-not (Test-JsonEqual $Left[$i] $Right[$i])) {
                return $false
            }
        }
        return $true
    }
    if (Test-IsList $Right) {
        return $false
    }
    $leftNames = @(Get-FieldNames $Left)
    $rightNames = @(Get-FieldNames $Right)
    if ($leftNames.Count -ne $rightNames.Count) {
        return $false
    }
    foreach ($name in $leftNames) {
        if (-not (Test-Field $Right $name) -or -not (Test-JsonEqual (Get-Field $Left $name) (Get-Field $Right $name))) {
            return $false
        }
    }
    return $true
}

function Get-FieldNames($Object) {
    if ($Object -is [System.Collections.IDictionary]) {
        return @($Object.Keys)
    }
    return @($Object.PSObject.Properties | ForEach-Object { $_.Name })
}

function Get-SortedByKey($Items, $Keys) {
    # Ordinal order of precomputed string keys: Sort-Object compares culture-aware, which ignores
    # hyphens and may differ between hosts; a response must not.
    $itemArray = [object[]]@($Items)
    $keyArray = [string[]]@($Keys)
    [System.Array]::Sort($keyArray, $itemArray, [System.StringComparer]::Ordinal)
    return , $itemArray
}

function ConvertTo-PlainValue($Value) {
    # Request objects (PSCustomObject) become ordered hashtables so they serialize like our own data.
    if ($null -eq $Value -or $Value -is [string] -or $Value -is [bool] -or $Value -is [ValueType]) {
        return $Value
    }
    if (Test-IsList $Value) {
        $items = New-Object System.Collections.Generic.List[object]
        foreach ($item in $Value) {
            $items.Add((ConvertTo-PlainValue $item))
        }
        return , $items.ToArray()
    }
    $plain = [ordered]@{}
    foreach ($name in (Get-FieldNames $Value)) {
        $plain[$name] = ConvertTo-PlainValue (Get-Field $Value $name)
    }
    return $plain
}

# ---------------------------------------------------------------- registry

function ConvertTo-RegistryPath([string]$Path) {
    # Returns the subkey below HKLM; only HKLM is in the contract.
    if (-not ($Path -match '^(HKLM|HKEY_LOCAL_MACHINE)\\(.+)$')) {
        Stop-Op 'bad_request' "path must start with HKLM\: $Path"
    }
    $subKey = $Matches[2].TrimEnd('\')
    if ($subKey -eq '' -or $subKey.Contains('\\') -or $subKey.Contains('"')) {
        # A double quote could not be passed safely to reg.exe by Windows PowerShell 5.1.
        Stop-Op 'bad_request' "path is not a valid registry key path: $Path"
    }
    return $subKey
}

function Open-LocalMachine {
    # Registry64 so a 32-bit host process still sees the real keys (Wow6432Node is explicit).
    return [Microsoft.Win32.RegistryKey]::OpenBaseKey(
        [Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
}

function Open-RegistryKey([string]$SubKey, [bool]$Writable) {
    return (Open-LocalMachine).OpenSubKey($SubKey, $Writable)
}

function ConvertTo-Hex([byte[]]$Bytes) {
    if ($null -eq $Bytes) {
        return ''
    }
    return ([System.BitConverter]::ToString($Bytes) -replace '-', '').ToLowerInvariant()
}

function Read-TypedValue($Key, [string]$Name) {
    $kind = $Key.GetValueKind($Name)
    $raw = $Key.GetValue($Name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    if ($kind -eq [Microsoft.Win32.RegistryValueKind]::String) {
        return [ordered]@{ type = 'REG_SZ'; value = [string]$raw }
    }
    if ($kind -eq [Microsoft.Win32.RegistryValueKind]::ExpandString) {
        return [ordered]@{ type = 'REG_EXPAND_SZ'; value = [string]$raw }
    }
    if ($kind -eq [Microsoft.Win32.RegistryValueKind]::DWord) {
        # .NET hands DWORDs back signed; the contract speaks unsigned.
        return [ordered]@{ type = 'REG_DWORD'; value = [System.BitConverter]::ToUInt32([System.BitConverter]::GetBytes([int]$raw), 0) }
    }
    if ($kind -eq [Microsoft.Win32.RegistryValueKind]::QWord) {
        return [ordered]@{ type = 'REG_QWORD'; value = [System.BitConverter]::ToUInt64([System.BitConverter]::GetBytes([long]$raw), 0) }
    }
    if ($kind -eq [Microsoft.Win32.RegistryValueKind]::MultiString) {
        return [ordered]@{ type = 'REG_MULTI_SZ'; value = [object[]]@($raw | ForEach-Object { [string]$_ }) }
    }
    if ($kind -eq [Microsoft.Win32.RegistryValueKind]::Binary) {
        return [ordered]@{ type = 'REG_BINARY'; value = (ConvertTo-Hex $raw) }
    }
    # Types outside the contract are reported read-only, as raw bytes.
    return [ordered]@{ type = 'REG_NONE'; value = (ConvertTo-Hex ([byte[]]$raw)) }
}

function Read-ExistingValue($Key, [string]$Name) {
    if ($null -eq $Key -or -not (@($Key.GetValueNames()) -contains $Name)) {
        return $null
    }
    return Read-TypedValue $Key $Name
}

function ConvertTo-RegistryWrite([string]$Name, [string]$Type, $Value) {
    # Returns the value as it will read back ('typed') and what .NET needs to write it.
    $bad = "value '$Name' does not fit $Type"
    if ($Type -eq 'REG_SZ' -or $Type -eq 'REG_EXPAND_SZ') {
        if (-not ($Value -is [string])) {
            Stop-Op 'wrong_type' $bad
        }
        $kind = [Microsoft.Win32.RegistryValueKind]::String
        if ($Type -eq 'REG_EXPAND_SZ') {
            $kind = [Microsoft.Win32.RegistryValueKind]::ExpandString
        }
        return @{ typed = [ordered]@{ type = $Type; value = $Value }; kind = $kind; data = $Value }
    }
    if ($Type -eq 'REG_DWORD' -or $Type -eq 'REG_QWORD') {
        $max = [decimal][uint32]::MaxValue
        if ($Type -eq 'REG_QWORD') {
            $max = [decimal][uint64]::MaxValue
        }
        if (-not (Test-IsInteger $Value) -or [decimal]$Value -lt 0 -or [decimal]$Value -gt $max) {
            Stop-Op 'wrong_type' $bad
        }
        if ($Type -eq 'REG_DWORD') {
            $unsigned = [uint32][decimal]$Value
            $data = [System.BitConverter]::ToInt32([System.BitConverter]::GetBytes($unsigned), 0)
            return @{ typed = [ordered]@{ type = $Type; value = $unsigned }; kind = [Microsoft.Win32.RegistryValueKind]::DWord; data = $data }
        }
        $unsigned = [uint64][decimal]$Value
        $data = [System.BitConverter]::ToInt64([System.BitConverter]::GetBytes($unsigned), 0)
        return @{ typed = [ordered]@{ type = $Type; value = $unsigned }; kind = [Microsoft.Win32.RegistryValueKind]::QWord; data = $data }
    }
    if ($Type -eq 'REG_MULTI_SZ') {
        if (-not (Test-IsList $Value)) {
            Stop-Op 'wrong_type' $bad
        }
        $strings = New-Object System.Collections.Generic.List[string]
        foreach ($item in $Value) {
            if (-not ($item -is [string])) {
                Stop-Op 'wrong_type' $bad
            }
            $strings.Add($item)
        }
        $array = $strings.ToArray()
        return @{ typed = [ordered]@{ type = $Type; value = [object[]]$array }; kind = [Microsoft.Win32.RegistryValueKind]::MultiString; data = $array }
    }
    if ($Type -eq 'REG_BINARY') {
        if (-not ($Value -is [string]) -or -not ($Value -match '^([0-9a-fA-F]{2})*$')) {
            Stop-Op 'wrong_type' $bad
        }
        $bytes = New-Object byte[] ($Value.Length / 2)
        for ($i = 0; $i -lt $bytes.Length; $i++) {
            $bytes[$i] = [System.Convert]::ToByte($Value.Substring($i * 2, 2), 16)
        }
        return @{ typed = [ordered]@{ type = $Type; value = $Value.ToLowerInvariant() }; kind = [Microsoft.Win32.RegistryValueKind]::Binary; data = $bytes }
    }
    Stop-Op 'bad_request' "value '$Name': unknown registry type '$Type'"
}

function Invoke-Reg([string[]]$Arguments) {
    # reg.exe writes to stderr on failure; under 'Stop' Windows PowerShell 5.1 would turn that
    # into a terminating error before the exit code could be read.
    $ErrorActionPreference = 'Continue'
    $output = & reg.exe @Arguments 2>&1 | ForEach-Object { [string]$_ }
    if ($LASTEXITCODE -ne 0) {
        Stop-Op 'failed' ("reg.exe {0} failed ({1}): {2}" -f $Arguments[0], $LASTEXITCODE, ($output -join ' ').Trim())
    }
}

function Get-BackupFile([string]$Name) {
    [void][System.IO.Directory]::CreateDirectory($script:BackupDir)
    return [System.IO.Path]::Combine($script:BackupDir, $Name)
}

function Get-TopmostMissingKey([string]$SubKey) {
    # For a key that does not exist: the highest of its ancestors that does not exist either (the
    # key itself when its parent exists). Everything above it existed before and must survive.
    $missing = $SubKey
    $cut = $missing.LastIndexOf('\')
    while ($cut -gt 0) {
        $parent = $missing.Substring(0, $cut)
        if (Test-RegistryKey $parent) {
            break
        }
        $missing = $parent
        $cut = $missing.LastIndexOf('\')
    }
    return $missing
}

function Backup-RegistryKey([string]$SubKey) {
    # Called just before the first write to a key; returns the backup file or $null.
    if ($null -eq $script:BackupDir) {
        return $null
    }
    $display = 'HKLM\' + $SubKey
    $lookup = $display.ToLowerInvariant()
    if ($script:BackedUp.ContainsKey($lookup)) {
        return $script:BackedUp[$lookup]
    }
    $file = Get-BackupFile (($display -replace '[\\ ]', '_') + '.reg')
    $key = Open-RegistryKey $SubKey $false
    if ($null -eq $key) {
        # The write creates every missing level, so restoring this file deletes the topmost of
        # them, which is exactly the state before; the name stays that of the key written.
        $root = Get-TopmostMissingKey $SubKey
        $text = "Windows Registry Editor Version 5.00`r`n`r`n[-HKEY_LOCAL_MACHINE\$root]`r`n"
        [System.IO.File]::WriteAllText($file, $text, [System.Text.Encoding]::Unicode)
    }
    else {
        $key.Close()
        Invoke-Reg @('export', $display, $file, '/y', '/reg:64')
    }
    $script:BackedUp[$lookup] = $file
    $script:Backups.Add($file)
    return $file
}

function Invoke-RegistryGet($Op) {
    $path = Get-RequiredString $Op 'path'
    $subKey = ConvertTo-RegistryPath $path
    $names = $null
    if ($null -ne (Get-Field $Op 'names')) {
        $names = Get-StringList (Get-Field $Op 'names') 'names'
    }
    $key = Open-RegistryKey $subKey $false
    $values = [ordered]@{}
    $subkeys = @()
    if ($null -ne $key) {
        try {
            $present = @($key.GetValueNames())
            if ($null -eq $names) {
                $names = $present
            }
            foreach ($name in $names) {
                if ($present -contains $name) {
                    $values[$name] = Read-TypedValue $key $name
                }
            }
            $subkeys = [object[]]@($key.GetSubKeyNames())
        }
        finally {
            $key.Close()
        }
    }
    return @{ changed = $false; data = [ordered]@{ path = 'HKLM\' + $subKey; exists = ($null -ne $key); values = $values; subkeys = $subkeys } }
}

function Invoke-RegistrySet($Op) {
    $path = Get-RequiredString $Op 'path'
    $subKey = ConvertTo-RegistryPath $path
    $wanted = Get-Field $Op 'values'
    if (-not (Test-IsList $wanted)) {
        Stop-Op 'bad_request' "argument 'values' must be a list"
    }
    # Validate every value before touching anything, so a bad one never leaves half a write.
    $plans = New-Object System.Collections.Generic.List[object]
    foreach ($item in $wanted) {
        $name = Get-Field $item 'name'
        $state = Get-Field $item 'state'
        if (-not ($name -is [string])) {
            Stop-Op 'bad_request' "every entry of 'values' needs a string 'name'"
        }
        if ($null -eq $state) {
            # As in vipctl.sim.twin: an entry without a state is a value to be present.
            $state = 'present'
        }
        if ($state -cne 'present' -and $state -cne 'absent') {
            Stop-Op 'bad_request' "value '$name': state must be present or absent"
        }
        $write = $null
        if ($state -eq 'present') {
            $write = ConvertTo-RegistryWrite $name ([string](Get-Field $item 'type')) (Get-Field $item 'value')
        }
        $plans.Add(@{ name = $name; write = $write })
    }
    $key = Open-RegistryKey $subKey $false
    $changes = New-Object System.Collections.Generic.List[object]
    $toApply = New-Object System.Collections.Generic.List[object]
    # A name listed twice compares with what the earlier entry will have written (names are
    # case-insensitive, and so is this hashtable).
    $pending = @{}
    try {
        foreach ($plan in $plans) {
            if ($pending.ContainsKey($plan.name)) {
                $before = $pending[$plan.name]
            }
            else {
                $before = Read-ExistingValue $key $plan.name
            }
            $after = $null
            if ($null -ne $plan.write) {
                $after = $plan.write.typed
            }
            $pending[$plan.name] = $after
            if (-not (Test-JsonEqual $before $after)) {
                $changes.Add([ordered]@{ name = $plan.name; before = $before; after = $after })
                $toApply.Add($plan)
            }
        }
    }
    finally {
        if ($null -ne $key) {
            $key.Close()
        }
    }
    $backup = $null
    if ($changes.Count -gt 0 -and -not $script:Check) {
        $backup = Backup-RegistryKey $subKey
        $writable = (Open-LocalMachine).CreateSubKey($subKey)
        try {
            foreach ($plan in $toApply) {
                if ($null -eq $plan.write) {
                    $writable.DeleteValue($plan.name, $false)
                }
                else {
                    $writable.SetValue($plan.name, $plan.write.data, $plan.write.kind)
                }
            }
        }
        finally {
            $writable.Close()
        }
    }
    $data = [ordered]@{ path = 'HKLM\' + $subKey; changes = $changes.ToArray(); backup = $backup }
    return @{ changed = ($changes.Count -gt 0); data = $data }
}

function Copy-RegistryTree($From, $To) {
    # .NET has no rename, so a rename is a copy of values and subkeys, then a delete.
    foreach ($name in $From.GetValueNames()) {
        $raw = $From.GetValue($name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
        $To.SetValue($name, $raw, $From.GetValueKind($name))
    }
    foreach ($childName in $From.GetSubKeyNames()) {
        $source = $From.OpenSubKey($childName, $false)
        $target = $To.CreateSubKey($childName)
        try {
            Copy-RegistryTree $source $target
        }
        finally {
            $source.Close()
            $target.Close()
        }
    }
}

function Test-RegistryKey([string]$SubKey) {
    $key = Open-RegistryKey $SubKey $false
    if ($null -eq $key) {
        return $false
    }
    $key.Close()
    return $true
}

function Invoke-RegistryRenameKey($Op) {
    $path = Get-RequiredString $Op 'path'
    $newName = Get-RequiredString $Op 'new_name'
    $subKey = ConvertTo-RegistryPath $path
    if ($newName.Contains('\') -or $newName.Contains('"')) {
        Stop-Op 'bad_request' "argument 'new_name' must be a leaf key name"
    }
    $cut = $subKey.LastIndexOf('\')
    if ($cut -lt 0) {
        Stop-Op 'bad_request' "cannot rename a top-level key: $path"
    }
    $newSubKey = $subKey.Substring(0, $cut + 1) + $newName
    $data = [ordered]@{ path = 'HKLM\' + $subKey; new_path = 'HKLM\' + $newSubKey; state = 'renamed' }
    $sourceExists = Test-RegistryKey $subKey
    $targetExists = Test-RegistryKey $newSubKey
    if (-not $sourceExists -and $targetExists) {
        $data.state = 'already'
        return @{ changed = $false; data = $data }
    }
    if (-not $sourceExists) {
        Stop-Op 'not_found' "key not found: HKLM\$subKey"
    }
    if ($targetExists) {
        Stop-Op 'conflict' "both HKLM\$subKey and HKLM\$newSubKey exist"
    }
    if (-not $script:Check) {
        # Both sides are backed up: restoring the two files undoes the rename exactly.
        [void](Backup-RegistryKey $subKey)
        [void](Backup-RegistryKey $newSubKey)
        $base = Open-LocalMachine
        $source = $base.OpenSubKey($subKey, $false)
        $target = $base.CreateSubKey($newSubKey)
        try {
            Copy-RegistryTree $source $target
        }
        finally {
            $source.Close()
            $target.Close()
        }
        $base.DeleteSubKeyTree($subKey, $false)
    }
    return @{ changed = $true; data = $data }
}

function Invoke-RegistryRestore($Op) {
    $file = Get-RequiredString $Op 'file'
    if (-not [System.IO.File]::Exists($file)) {
        Stop-Op 'not_found' "backup file not found: $file"
    }
    $header = $null
    foreach ($line in [System.IO.File]::ReadAllLines($file)) {
        if ($line -match '^\[-?HKEY_LOCAL_MACHINE\\(.+)\]$') {
            $header = $Matches[1]
            break
        }
    }
    if ($null -eq $header) {
        Stop-Op 'bad_request' "not a vipctl registry backup of an HKLM key: $file"
    }
    $subKey = ConvertTo-RegistryPath ('HKLM\' + $header)
    if (-not $script:Check) {
        Restore-RegistryTree $subKey $file
    }
    return @{ changed = $true; data = [ordered]@{ file = $file; key = 'HKLM\' + $subKey } }
}

function Restore-RegistryTree([string]$SubKey, [string]$File) {
    # Delete first: an import only adds, so values created after the backup would survive it.
    # A failed import would leave the key deleted, so the tree as it is now is exported to a safety
    # copy first and put back if the delete or the import fails.
    $display = 'HKLM\' + $SubKey
    $safety = $null
    if (Test-RegistryKey $SubKey) {
        $safety = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), ('vipctl-restore-{0}.reg' -f [guid]::NewGuid().ToString('N')))
        Invoke-Reg @('export', $display, $safety, '/y', '/reg:64')
    }
    $keepSafety = $false
    try {
        try {
            (Open-LocalMachine).DeleteSubKeyTree($SubKey, $false)
            Invoke-Reg @('import', $File, '/reg:64')
        }
        catch {
            $failure = Get-ErrorMessage $_.Exception
            $putBack = "$display did not exist before and was deleted again"
            if ($null -ne $safety) {
                $putBack = "$display was put back from the safety copy $safety"
            }
            try {
                # Whatever the failed import wrote goes first, so the safety copy restores exactly.
                (Open-LocalMachine).DeleteSubKeyTree($SubKey, $false)
                if ($null -ne $safety) {
                    Invoke-Reg @('import', $safety, '/reg:64')
                }
            }
            catch {
                # The safety copy stays on disk: it is the only record of the key left.
                $keepSafety = $true
                $putBack = "putting $display back from the safety copy $safety failed too: $(Get-ErrorMessage $_.Exception)"
            }
            Stop-Op 'failed' "restoring $File failed: $failure; $putBack"
        }
    }
    finally {
        if ($null -ne $safety -and -not $keepSafety -and [System.IO.File]::Exists($safety)) {
            [System.IO.File]::Delete($safety)
        }
    }
}

function Invoke-BackupList($Op) {
    $root = Get-RequiredString $Op 'root'
    $sets = New-Object System.Collections.Generic.List[object]
    if ([System.IO.Directory]::Exists($root)) {
        # Set folders are named by UTC time stamp first, so name order is time order. Names compare
        # case-insensitively (lower-cased, ordinal), as vipctl.sim.twin does.
        $dirs = @([System.IO.Directory]::GetDirectories($root))
        $dirs = Get-SortedByKey $dirs @($dirs | ForEach-Object { $_.ToLowerInvariant() })
        [System.Array]::Reverse($dirs)
        foreach ($dir in $dirs) {
            $names = @([System.IO.Directory]::GetFiles($dir) | ForEach-Object { [System.IO.Path]::GetFileName($_) })
            $files = Get-SortedByKey $names @($names | ForEach-Object { $_.ToLowerInvariant() })
            $sets.Add([ordered]@{ dir = [string]$dir; files = $files })
        }
    }
    return @{ changed = $false; data = [ordered]@{ sets = $sets.ToArray() } }
}

# ---------------------------------------------------------------- WMI Win32_TSVirtualIP

$TsVipSettable = [ordered]@{
    VirtualIPActive                    = @{ method = 'SetVirtualIPActive'; policy = 'PolicySourceVirtualIPActive' }
    VirtualIPMode                      = @{ method = 'SetVirtualIPMode'; policy = 'PolicySourceVirtualIPMode' }
    ProgramList                        = @{ method = 'SetProgramList'; policy = 'PolicySourceProgramList' }
    NetworkAdapterMacAddress           = @{ method = 'SelectNetworkAdapter'; policy = 'PolicySourceNetworkAdapter' }
    # The parameter name of this method mirrors the property name (UNCONFIRMED in DOMAIN.md terms).
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

function Invoke-TsVipSet($Instance, $Name, $Value) {
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
    # SelectNetworkAdapter returns an error while the mode is per session (Microsoft's page for the
    # method), so an adapter is selected in per-program mode and the wanted mode is set after it.
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
            Invoke-TsVipSet $Instance $change.name $change.after
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
            Invoke-TsVipSet $Instance 'VirtualIPMode' 1
            $currentMode = 1
        }
        Invoke-TsVipSet $Instance 'NetworkAdapterMacAddress' $adapter.after
    }
    if ($finalMode -ne $currentMode) {
        Invoke-TsVipSet $Instance 'VirtualIPMode' $finalMode
    }
}

function Save-TsVipBackup($Changes) {
    # The local store behind Win32_TSVirtualIP is written only through WMI (DOMAIN.md section 2),
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
    [System.IO.File]::WriteAllText($file, ($saved | ConvertTo-Json -Depth 20), (New-Object System.Text.UTF8Encoding $false))
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
    $name = Get-RequiredString $Op 'name'
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
            $type = [string](Get-Field $filter 'type')
            $filterName = [string](Get-Field $filter 'name')
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
        if (Test-Path -LiteralPath "$Drive\$node\$Name") {
            Remove-Item -LiteralPath "$Drive\$node\$Name" -Recurse
        }
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

# ---------------------------------------------------------------- features, sockets, sessions

function Invoke-FeatureInstall($Op) {
    $name = Get-RequiredString $Op 'name'
    if ($null -eq (Get-Command -Name Get-WindowsFeature -ErrorAction SilentlyContinue)) {
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

function Get-ProcessTable {
    $table = @{}
    foreach ($process in @(Get-CimInstance -ClassName Win32_Process)) {
        $path = $null
        if ($null -ne $process.ExecutablePath) {
            $path = [string]$process.ExecutablePath
        }
        $table[[int]$process.ProcessId] = [ordered]@{
            pid     = [int]$process.ProcessId
            name    = [string]$process.Name
            path    = $path
            session = [int]$process.SessionId
        }
    }
    return $table
}

function New-EndpointRow([string]$Protocol, $Row, $Processes, [bool]$Tcp) {
    $owner = $Processes[[int]$Row.OwningProcess]
    $endpoint = [ordered]@{
        protocol       = $Protocol
        local_address  = [string]$Row.LocalAddress
        local_port     = [int]$Row.LocalPort
        remote_address = $null
        remote_port    = $null
        state          = $null
        pid            = [int]$Row.OwningProcess
        process        = $null
        path           = $null
        session        = $null
    }
    if ($Tcp) {
        $endpoint.remote_address = [string]$Row.RemoteAddress
        $endpoint.remote_port = [int]$Row.RemotePort
        $endpoint.state = [string]$Row.State
    }
    if ($null -ne $owner) {
        $endpoint.process = $owner.name
        $endpoint.path = $owner.path
        $endpoint.session = $owner.session
    }
    return $endpoint
}

function Get-EndpointSortKey($Endpoint) {
    # Protocol, then local address numerically (every IPv4 address before every IPv6 one), then
    # port, then pid. Fixed-width hex of the address bytes and zero-padded numbers make the ordinal
    # order of the key string that order.
    $protocolRank = 1
    if ($Endpoint.protocol -eq 'tcp') {
        $protocolRank = 0
    }
    $address = $null
    $familyRank = 2
    $addressHex = ''
    if ([System.Net.IPAddress]::TryParse([string]$Endpoint.local_address, [ref]$address)) {
        if ($address.AddressFamily -eq [System.Net.Sockets.AddressFamily]::InterNetwork) {
            $familyRank = 0
        }
        else {
            $familyRank = 1
        }
        $addressHex = ConvertTo-Hex $address.GetAddressBytes()
    }
    else {
        # Not an address (never expected from the socket table): after all addresses, by text.
        $addressHex = [string]$Endpoint.local_address
    }
    return '{0}|{1}|{2}|{3:D5}|{4:D10}' -f $protocolRank, $familyRank, $addressHex, [int]$Endpoint.local_port, [long]$Endpoint.pid
}

function Invoke-NetEndpoints($Op) {
    $protocols = @('tcp', 'udp')
    if (Test-Field $Op 'protocols') {
        $protocols = Get-StringList (Get-Field $Op 'protocols') 'protocols'
        if ($protocols.Count -eq 0) {
            Stop-Op 'bad_request' "argument 'protocols' must name tcp and/or udp"
        }
        foreach ($protocol in $protocols) {
            if ($protocol -ne 'tcp' -and $protocol -ne 'udp') {
                Stop-Op 'bad_request' "argument 'protocols' accepts tcp and udp, not '$protocol'"
            }
        }
    }
    $processes = Get-ProcessTable
    $endpoints = New-Object System.Collections.Generic.List[object]
    if ($protocols -contains 'tcp') {
        foreach ($row in @(Get-NetTCPConnection -ErrorAction SilentlyContinue)) {
            $endpoints.Add((New-EndpointRow 'tcp' $row $processes $true))
        }
    }
    if ($protocols -contains 'udp') {
        foreach ($row in @(Get-NetUDPEndpoint -ErrorAction SilentlyContinue)) {
            $endpoints.Add((New-EndpointRow 'udp' $row $processes $false))
        }
    }
    $sortKeys = @($endpoints | ForEach-Object { Get-EndpointSortKey $_ })
    $sorted = Get-SortedByKey $endpoints.ToArray() $sortKeys
    $processList = [object[]]@($processes.Values | Sort-Object -Property { $_.pid })
    return @{ changed = $false; data = [ordered]@{ endpoints = $sorted; processes = $processList } }
}

# WTS* through P/Invoke: quser/qwinsta output is localized and column-aligned, so parsing it breaks.
$WtsSource = @'
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Vipctl
{
    public class WtsSession
    {
        public int Id;
        public string Station;
        public string User;
        public string State;
        public string VirtualIp;
    }

    public static class Wts
    {
        [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
        struct WTS_SESSION_INFO
        {
            public int SessionId;
            public string WinStationName;
            public int State;
        }

        [StructLayout(LayoutKind.Sequential)]
        struct WTS_SESSION_ADDRESS
        {
            public int AddressFamily;
            [MarshalAs(UnmanagedType.ByValArray, SizeConst = 20)]
            public byte[] Address;
        }

        const int WTSUserName = 5;
        const int WTSSessionAddressV4 = 28;
        const int AF_INET = 2;
        static readonly string[] States = { "Active", "Connected", "ConnectQuery", "Shadow", "Disconnected", "Idle", "Listen", "Reset", "Down", "Init" };

        [DllImport("wtsapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        static extern bool WTSEnumerateSessionsW(IntPtr server, int reserved, int version, out IntPtr info, out int count);

        [DllImport("wtsapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        static extern bool WTSQuerySessionInformationW(IntPtr server, int sessionId, int infoClass, out IntPtr buffer, out int bytes);

        [DllImport("wtsapi32.dll")]
        static extern void WTSFreeMemory(IntPtr memory);

        public static WtsSession[] List()
        {
            IntPtr info;
            int count;
            if (!WTSEnumerateSessionsW(IntPtr.Zero, 0, 1, out info, out count))
            {
                throw new System.ComponentModel.Win32Exception(Marshal.GetLastWin32Error());
            }
            var sessions = new List<WtsSession>();
            try
            {
                int size = Marshal.SizeOf(typeof(WTS_SESSION_INFO));
                for (int i = 0; i < count; i++)
                {
                    var raw = (WTS_SESSION_INFO)Marshal.PtrToStructure(new IntPtr(info.ToInt64() + i * size), typeof(WTS_SESSION_INFO));
                    var session = new WtsSession();
                    session.Id = raw.SessionId;
                    session.Station = raw.WinStationName;
                    session.State = raw.State >= 0 && raw.State < States.Length ? States[raw.State] : raw.State.ToString();
                    session.User = QueryString(raw.SessionId, WTSUserName);
                    session.VirtualIp = QueryVirtualIp(raw.SessionId);
                    sessions.Add(session);
                }
            }
            finally
            {
                WTSFreeMemory(info);
            }
            return sessions.ToArray();
        }

        static string QueryString(int sessionId, int infoClass)
        {
            IntPtr buffer;
            int bytes;
            if (!WTSQuerySessionInformationW(IntPtr.Zero, sessionId, infoClass, out buffer, out bytes))
            {
                return null;
            }
            try
            {
                string text = Marshal.PtrToStringUni(buffer);
                return string.IsNullOrEmpty(text) ? null : text;
            }
            finally
            {
                WTSFreeMemory(buffer);
            }
        }

        static string QueryVirtualIp(int sessionId)
        {
            IntPtr buffer;
            int bytes;
            // Fails or returns family 0 when the session has no virtual IP.
            if (!WTSQuerySessionInformationW(IntPtr.Zero, sessionId, WTSSessionAddressV4, out buffer, out bytes))
            {
                return null;
            }
            try
            {
                var address = (WTS_SESSION_ADDRESS)Marshal.PtrToStructure(buffer, typeof(WTS_SESSION_ADDRESS));
                if (address.AddressFamily != AF_INET)
                {
                    return null;
                }
                // Same layout as WTS_CLIENT_ADDRESS: the IPv4 bytes start at offset 2.
                var b = address.Address;
                if (b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 0)
                {
                    return null;
                }
                return string.Format("{0}.{1}.{2}.{3}", b[2], b[3], b[4], b[5]);
            }
            finally
            {
                WTSFreeMemory(buffer);
            }
        }
    }
}
'@

function Invoke-Sessions($Op) {
    if (-not ('Vipctl.Wts' -as [type])) {
        Add-Type -TypeDefinition $WtsSource
    }
    $sessions = New-Object System.Collections.Generic.List[object]
    foreach ($session in [Vipctl.Wts]::List()) {
        $sessions.Add([ordered]@{
                id         = [int]$session.Id
                user       = $session.User
                state      = [string]$session.State
                station    = $session.Station
                virtual_ip = $session.VirtualIp
                # No documented API tells an mstsc /admin session from a user session (neither
                # WTS_INFO_CLASS, WTSINFOEX nor WTSCLIENT carries it), so this executor cannot
                # report it; the protocol doc marks the field UNCONFIRMED on real hosts.
                admin      = $false
            })
    }
    return @{ changed = $false; data = [ordered]@{ sessions = $sessions.ToArray() } }
}

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
    if ($null -ne (Get-Command -Name Get-WindowsFeature -ErrorAction SilentlyContinue)) {
        $rdsInstalled = [bool](Get-WindowsFeature -Name 'RDS-RD-Server').Installed
    }
    $controller = $null -ne (Get-PSSnapin -Registered -Name $CitrixSnapin -ErrorAction SilentlyContinue)
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
    if (-not (Test-IsInteger $version) -or $version -ne 1) {
        return New-BadRequest "request field 'v' must be 1"
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
        $results.Add($result)
        if ($result.Contains('id') -and $result.id -is [string]) {
            $byId[$result.id] = $result
        }
        if (-not $result.ok) {
            $failed = @{ index = $index; op = $result.op }
        }
    }
    return [ordered]@{ v = 1; ok = ($null -eq $failed); results = $results.ToArray(); backups = $script:Backups.ToArray() }
}

function New-BadRequest([string]$Message) {
    return [ordered]@{ v = 1; ok = $false; error = [ordered]@{ kind = 'bad_request'; message = $Message }; results = @(); backups = @() }
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
