# Pester 5: runs the shipped executor against every contract vector on a real, disposable
# Windows Server. It writes to HKLM as the vectors say: never run it on a machine you care about.
# See README.md next to this file.

BeforeDiscovery {
    $vectorFiles = @(Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot 'vectors') -Filter '*.json' | Sort-Object -Property Name)
    $vectors = @($vectorFiles | ForEach-Object { @{ File = $_.FullName; Name = $_.BaseName } })
}

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $script:Executor = (Resolve-Path (Join-Path $PSScriptRoot '..\..\python\src\vipctl\executor\vipctl.ps1')).Path
    # The child writes UTF-8 and this session must read it as UTF-8 (non-ASCII names in vectors).
    [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false

    function Test-HostFeature([string]$Feature) {
        # One place that says how each `requires` entry is detected on a real host.
        if ($Feature -eq 'windows_server') {
            return (Get-CimInstance -ClassName Win32_OperatingSystem).ProductType -ne 1
        }
        if ($Feature -eq 'rdsh') {
            $command = Get-Command -Name Get-WindowsFeature -ErrorAction SilentlyContinue
            return ($null -ne $command) -and [bool](Get-WindowsFeature -Name 'RDS-RD-Server').Installed
        }
        if ($Feature -eq 'citrix_controller') {
            return $null -ne (Get-PSSnapin -Registered -Name 'Citrix.Common.GroupPolicy' -ErrorAction SilentlyContinue)
        }
        if ($Feature -eq 'citrix_vda') {
            return $null -ne (Get-Service -Name 'BrokerAgent' -ErrorAction SilentlyContinue)
        }
        return $false
    }

    function Get-SkipReason($Vector) {
        $missing = @(@($Vector.requires) | Where-Object { $null -ne $_ -and -not (Test-HostFeature $_) })
        if ($missing.Count -gt 0) {
            return "this host lacks: $($missing -join ', ')"
        }
        if ($null -ne $Vector.state_before) {
            $unsupported = @($Vector.state_before.PSObject.Properties | Where-Object { $_.Name -ne 'registry' -and $null -ne $_.Value })
            if ($unsupported.Count -gt 0) {
                return "the suite stages only registry state, not: $(($unsupported | ForEach-Object { $_.Name }) -join ', ')"
            }
        }
        return $null
    }

    function Get-SubKey([string]$Path) {
        if (-not ($Path -match '^(HKLM|HKEY_LOCAL_MACHINE)\\(.+)$')) {
            throw "vector registry paths must be under HKLM: $Path"
        }
        return $Matches[2].TrimEnd('\')
    }

    function Open-LocalMachine {
        return [Microsoft.Win32.RegistryKey]::OpenBaseKey(
            [Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
    }

    function ConvertTo-RegistryData($Typed) {
        $type = [string]$Typed.type
        if ($type -eq 'REG_SZ') {
            return @{ Kind = [Microsoft.Win32.RegistryValueKind]::String; Data = [string]$Typed.value }
        }
        if ($type -eq 'REG_EXPAND_SZ') {
            return @{ Kind = [Microsoft.Win32.RegistryValueKind]::ExpandString; Data = [string]$Typed.value }
        }
        if ($type -eq 'REG_DWORD') {
            $bytes = [System.BitConverter]::GetBytes([uint32]$Typed.value)
            return @{ Kind = [Microsoft.Win32.RegistryValueKind]::DWord; Data = [System.BitConverter]::ToInt32($bytes, 0) }
        }
        if ($type -eq 'REG_QWORD') {
            $bytes = [System.BitConverter]::GetBytes([uint64]$Typed.value)
            return @{ Kind = [Microsoft.Win32.RegistryValueKind]::QWord; Data = [System.BitConverter]::ToInt64($bytes, 0) }
        }
        if ($type -eq 'REG_MULTI_SZ') {
            return @{ Kind = [Microsoft.Win32.RegistryValueKind]::MultiString; Data = [string[]]@($Typed.value) }
        }
        if ($type -eq 'REG_BINARY') {
            $hex = [string]$Typed.value
            $bytes = New-Object byte[] ($hex.Length / 2)
            for ($i = 0; $i -lt $bytes.Length; $i++) {
                $bytes[$i] = [System.Convert]::ToByte($hex.Substring($i * 2, 2), 16)
            }
            return @{ Kind = [Microsoft.Win32.RegistryValueKind]::Binary; Data = $bytes }
        }
        throw "unknown registry type in vector: $type"
    }

    function Set-RegistryState($Registry) {
        # Each listed key is made to hold exactly the listed values; null means the key is absent.
        if ($null -eq $Registry) {
            return
        }
        $base = Open-LocalMachine
        $entries = @($Registry.PSObject.Properties | Sort-Object -Property { $_.Name.Length })
        foreach ($entry in $entries) {
            $base.DeleteSubKeyTree((Get-SubKey $entry.Name), $false)
        }
        foreach ($entry in $entries) {
            if ($null -eq $entry.Value) {
                continue
            }
            $key = $base.CreateSubKey((Get-SubKey $entry.Name))
            try {
                foreach ($value in $entry.Value.PSObject.Properties) {
                    $data = ConvertTo-RegistryData $value.Value
                    $key.SetValue($value.Name, $data.Data, $data.Kind)
                }
            }
            finally {
                $key.Close()
            }
        }
    }

    function Get-RegistryState($Expected) {
        # Reads back the keys the vector names, in the vector's own format, through the executor's
        # registry_get, so both sides agree on how types are spelled.
        $ops = @($Expected.PSObject.Properties | ForEach-Object { @{ op = 'registry_get'; path = $_.Name } })
        $response = Invoke-Executor @{ v = 1; check = $false; backup_dir = $null; ops = $ops }
        $state = [ordered]@{}
        foreach ($result in $response.Json.results) {
            if ($result.data.exists) {
                $state[$result.data.path] = $result.data.values
            }
            else {
                $state[$result.data.path] = $null
            }
        }
        return [pscustomobject]$state
    }

    function Invoke-Executor($Request) {
        if ($Request -is [string]) {
            # Malformed-request vectors carry the raw request text, sent as it is.
            $json = $Request
        }
        else {
            $json = $Request | ConvertTo-Json -Depth 20 -Compress
        }
        $encoded = [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($json))
        # A fresh powershell.exe, as WinRS would start it, so exit code and stdout are the real ones.
        # An argument array, not `-RequestBase64 $encoded` inline: the repository's parse check
        # (tree-sitter) misreads parameter names that end in a digit.
        $arguments = @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', $script:Executor, '-RequestBase64', $encoded)
        $lines = & powershell.exe @arguments
        $exitCode = $LASTEXITCODE
        $text = (@($lines) -join "`n").Trim()
        return @{ Text = $text; ExitCode = $exitCode; Json = ($text | ConvertFrom-Json) }
    }

    function Compare-Json($Expected, $Actual, [string]$Where) {
        # Returns the differences as readable lines; "<any>" in the expectation matches anything.
        if ($Expected -is [string] -and $Expected -eq '<any>') {
            return
        }
        if ($null -eq $Expected -or $null -eq $Actual) {
            if (-not (($null -eq $Expected) -and ($null -eq $Actual))) {
                "${Where}: expected $(ConvertTo-Json $Expected -Compress -Depth 20), got $(ConvertTo-Json $Actual -Compress -Depth 20)"
            }
            return
        }
        if ($Expected -is [System.Management.Automation.PSCustomObject]) {
            if (-not ($Actual -is [System.Management.Automation.PSCustomObject])) {
                "${Where}: expected an object, got $(ConvertTo-Json $Actual -Compress -Depth 20)"
                return
            }
            $expectedNames = @($Expected.PSObject.Properties | ForEach-Object { $_.Name })
            $actualNames = @($Actual.PSObject.Properties | ForEach-Object { $_.Name })
            foreach ($name in $actualNames) {
                if ($expectedNames -notcontains $name) {
                    "${Where}.${name}: not expected"
                }
            }
            foreach ($name in $expectedNames) {
                if ($actualNames -notcontains $name) {
                    "${Where}.${name}: missing"
                    continue
                }
                Compare-Json $Expected.$name $Actual.$name "$Where.$name"
            }
            return
        }
        if (($Expected -is [array]) -or ($Actual -is [array])) {
            $left = @($Expected)
            $right = @($Actual)
            if (-not ($Expected -is [array]) -or -not ($Actual -is [array]) -or $left.Count -ne $right.Count) {
                "${Where}: expected $(ConvertTo-Json $Expected -Compress -Depth 20), got $(ConvertTo-Json $Actual -Compress -Depth 20)"
                return
            }
            for ($i = 0; $i -lt $left.Count; $i++) {
                Compare-Json $left[$i] $right[$i] "$Where[$i]"
            }
            return
        }
        $sameType = ($Expected -is [string]) -eq ($Actual -is [string]) -and ($Expected -is [bool]) -eq ($Actual -is [bool])
        if (-not $sameType -or -not ($Expected -ceq $Actual)) {
            "${Where}: expected $(ConvertTo-Json $Expected -Compress), got $(ConvertTo-Json $Actual -Compress)"
        }
    }
}

Describe 'vipctl.ps1 contract vector <Name>' -ForEach $vectors {
    BeforeAll {
        $vector = [System.IO.File]::ReadAllText($File, [System.Text.Encoding]::UTF8) | ConvertFrom-Json
        $skipReason = Get-SkipReason $vector
    }

    It 'answers with the expected response and leaves the expected registry' {
        if ($null -ne $skipReason) {
            Set-ItResult -Skipped -Because $skipReason
            return
        }
        if ($null -ne $vector.state_before) {
            Set-RegistryState $vector.state_before.registry
        }
        $run = Invoke-Executor $vector.request

        $expectedExit = 0
        if ($null -ne $vector.response.error) {
            $expectedExit = 1
        }
        $run.ExitCode | Should -Be $expectedExit
        @(Compare-Json $vector.response $run.Json 'response') | Should -BeNullOrEmpty

        if ($null -ne $vector.state_after -and $null -ne $vector.state_after.registry) {
            $actual = Get-RegistryState $vector.state_after.registry
            @(Compare-Json $vector.state_after.registry $actual 'state_after.registry') | Should -BeNullOrEmpty
        }
    }
}
