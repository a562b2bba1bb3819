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
        # reg.exe exits 1 for every error; only its (English) message tells them apart
        # (docs/windows-facts.md#regexe-errors-are-told-apart-by-their-message).
        $text = ($output -join ' ').Trim()
        $kind = 'failed'
        if ($text -match 'Access is denied') {
            $kind = 'access_denied'
        }
        elseif ($text -match 'unable to find the specified registry key or value') {
            $kind = 'not_found'
        }
        Stop-Op $kind ("reg.exe {0} failed ({1}): {2}" -f $Arguments[0], $LASTEXITCODE, $text)
    }
}

function Get-BackupFile([string]$Name) {
    Initialize-BackupSet
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
    $managed = Get-ManagedKeys $Op
    if (-not [System.IO.File]::Exists($file)) {
        Stop-Op 'not_found' "backup file not found: $file"
    }
    Assert-BackupFileIntact $file
    $problem = Get-RegFileProblem $file $managed
    if ($null -ne $problem) {
        Stop-Op 'backup_tampered' "refusing to restore ${file}: $problem"
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
            # The cause keeps its kind (a key that refuses writes is access_denied, not failed).
            $failureKind = Get-ErrorKind $_.Exception
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
            Stop-Op $failureKind "restoring $File failed: $failure; $putBack"
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
        # Files below a root others can write may be planted: nothing there is listed as a set.
        Assert-BackupRootSecure $root
        # Set folders are named by UTC time stamp first, so name order is time order. Names compare
        # case-insensitively (lower-cased, ordinal), as vipctl.sim.twin does.
        $dirs = @([System.IO.Directory]::GetDirectories($root))
        $dirs = Get-SortedByKey $dirs @($dirs | ForEach-Object { $_.ToLowerInvariant() })
        [System.Array]::Reverse($dirs)
        foreach ($dir in $dirs) {
            $names = @([System.IO.Directory]::GetFiles($dir) | ForEach-Object { [System.IO.Path]::GetFileName($_) })
            $files = Get-SortedByKey $names @($names | ForEach-Object { $_.ToLowerInvariant() })
            $sets.Add((New-BackupSetListing ([string]$dir) $files))
        }
    }
    return @{ changed = $false; data = [ordered]@{ sets = $sets.ToArray() } }
}
