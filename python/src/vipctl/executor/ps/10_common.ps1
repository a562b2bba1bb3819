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
        # Win32 API failures (the WTS API) and provider errors (the Citrix Group Policy provider)
        # keep their meaning (docs/windows-facts.md#typed-errors-from-windows-apis).
        if ($current -is [System.ComponentModel.Win32Exception]) {
            $win32 = [int]$current.NativeErrorCode
            if ($win32 -eq 5) {
                return 'access_denied'
            }
            if ($win32 -eq 2 -or $win32 -eq 1168) {
                return 'not_found'
            }
            if ($win32 -eq 1722 -or $win32 -eq 1726) {
                return 'not_available'
            }
        }
        if ($current -is [System.Management.Automation.ItemNotFoundException]) {
            return 'not_found'
        }
        if ($current -is [System.Management.Automation.DriveNotFoundException] -or $current -is [System.Management.Automation.ProviderNotFoundException]) {
            return 'not_available'
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
