# Pester 5: runs the shipped executor against every contract vector on a real, disposable
# Windows Server, through the entry path vipctl and Ansible use: a fresh powershell.exe with the
# -EncodedCommand bootstrap, the stdin frame (shipped script, request) redirected in. The command
# line and every frame come from the controller's own code (pester_entry.py), never from a copy.
# It writes to HKLM as the vectors say: never run it on a machine you care about.
# See README.md next to this file.

BeforeDiscovery {
    $vectorFiles = @(Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot 'vectors') -Filter '*.json' | Sort-Object -Property Name)
    $vectors = @($vectorFiles | ForEach-Object { @{ File = $_.FullName; Name = $_.BaseName } })
}

BeforeAll {
    $ErrorActionPreference = 'Stop'
    # The Python that has vipctl installed (pip install -e python/); VIPCTL_PYTHON overrides.
    $script:Python = 'python'
    if ($env:VIPCTL_PYTHON) {
        $script:Python = $env:VIPCTL_PYTHON
    }
    $script:Entry = Join-Path $PSScriptRoot 'pester_entry.py'
    $commandLine = (@(& $script:Python $script:Entry command) -join '').Trim()
    if ($LASTEXITCODE -ne 0 -or -not ($commandLine -match '^powershell(\.exe)? ')) {
        throw "pester_entry.py command failed ($LASTEXITCODE): $commandLine"
    }
    # The program, then its arguments (none holds a space: flags and base64).
    $script:EntryFile, $script:EntryArguments = $commandLine -split ' ', 2
    # The child writes UTF-8 and this session must read it as UTF-8 (non-ASCII names in vectors).
    [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false

    function Get-RdshState {
        # 'installed', 'pending' (installed, restart outstanding: Win32_TSVirtualIP is not there
        # yet) or 'absent' (also on a client OS, which has no Get-WindowsFeature).
        if ($null -eq (Get-Command -Name Get-WindowsFeature -ErrorAction SilentlyContinue)) {
            return 'absent'
        }
        $state = [string](Get-WindowsFeature -Name 'RDS-RD-Server').InstallState
        if ($state -eq 'Installed') {
            return 'installed'
        }
        if ($state -eq 'InstallPending') {
            return 'pending'
        }
        return 'absent'
    }

    function Test-CitrixController {
        return $null -ne (Get-PSSnapin -Registered -Name 'Citrix.Common.GroupPolicy' -ErrorAction SilentlyContinue)
    }

    function Get-RequirementProblem([string]$Requirement) {
        # One place that says how each `requires` entry is detected on a real host; returns why the
        # host does not meet it, or $null.
        if ($Requirement -eq 'windows_server') {
            if ((Get-CimInstance -ClassName Win32_OperatingSystem).ProductType -eq 1) {
                return 'windows_server: this is a client OS'
            }
            return $null
        }
        if ($Requirement -eq 'rdsh' -or $Requirement -eq 'without_rdsh') {
            $state = Get-RdshState
            if ($state -eq 'pending') {
                return "${Requirement}: RDS-RD-Server is installed but waits for a restart"
            }
            if ($Requirement -eq 'rdsh' -and $state -ne 'installed') {
                return 'rdsh: role RDS-RD-Server is not installed'
            }
            if ($Requirement -eq 'without_rdsh' -and $state -eq 'installed') {
                return 'without_rdsh: role RDS-RD-Server is installed'
            }
            return $null
        }
        if ($Requirement -eq 'citrix_controller') {
            if (-not (Test-CitrixController)) {
                return 'citrix_controller: snap-in Citrix.Common.GroupPolicy is not registered'
            }
            return $null
        }
        if ($Requirement -eq 'without_citrix_controller') {
            if (Test-CitrixController) {
                return 'without_citrix_controller: snap-in Citrix.Common.GroupPolicy is registered'
            }
            return $null
        }
        if ($Requirement -eq 'citrix_vda') {
            if ($null -eq (Get-Service -Name 'BrokerAgent' -ErrorAction SilentlyContinue)) {
                return 'citrix_vda: service BrokerAgent is not installed'
            }
            return $null
        }
        if ($Requirement -eq 'sim_faults') {
            return 'sim_faults: the fault is injected by the simulator and cannot be staged on a real host'
        }
        if ($Requirement -eq 'sim_state') {
            return 'sim_state: the vector stages what only the simulator can stage safely (values of a key Windows owns, the language mode, a WinRM second hop)'
        }
        if ($Requirement -eq 'sim_state') {
            return 'sim_state: the vector stages what only the simulator can stage safely (values of a key Windows owns, the language mode, a WinRM second hop)'
        }
        if ($Requirement -eq 'simulated_processes') {
            return 'simulated_processes: the sessions and listening programs of state_before exist only in the simulator'
        }
        return "unknown requirement '$Requirement' (teach Get-RequirementProblem about it)"
    }

    function Get-HostIdentity {
        # What host_facts reports about the OS itself, read without the executor.
        $key = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
        $version = Get-ItemProperty -LiteralPath $key
        $os = Get-CimInstance -ClassName Win32_OperatingSystem
        $identity = @{
            product_name      = [string]$version.ProductName
            edition_id        = [string]$version.EditionID
            installation_type = [string]$version.InstallationType
            current_build     = [string]$version.CurrentBuildNumber
            build_number      = [int]$os.BuildNumber
            product_type      = [int]$os.ProductType
            sku               = [int]$os.OperatingSystemSKU
        }
        $ddcs = @()
        $vda = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Citrix\VirtualDesktopAgent' -ErrorAction SilentlyContinue
        if ($null -ne $vda -and $null -ne $vda.PSObject.Properties['ListOfDDCs']) {
            $ddcs = @([string]$vda.ListOfDDCs -split '\s+' | Where-Object { $_ -ne '' })
        }
        $identity.list_of_ddcs = $ddcs
        return $identity
    }

    function Get-IdentityProblem($Vector) {
        # A host_facts answer that pins the OS (edition, build, SKU, the VDA's controllers) describes
        # the vector's `host.image`; on any other real host the vector cannot pass, so it is skipped.
        $identity = $null
        foreach ($result in @($Vector.response.results)) {
            if ($null -eq $result -or $result.op -ne 'host_facts' -or -not ($result.data -is [System.Management.Automation.PSCustomObject])) {
                continue
            }
            if ($null -eq $identity) {
                $identity = Get-HostIdentity
            }
            foreach ($field in @('product_name', 'edition_id', 'installation_type', 'current_build', 'build_number', 'product_type', 'sku')) {
                $expected = $result.data.$field
                if ($expected -is [string] -and $expected -eq '<any>') {
                    continue
                }
                if ([string]$expected -ne [string]$identity[$field]) {
                    return "it describes a $($Vector.host.image) host ($field $expected); this host has $($identity[$field])"
                }
            }
            $vda = $result.data.citrix_vda
            if ($vda -is [System.Management.Automation.PSCustomObject] -and -not ($vda.list_of_ddcs -is [string])) {
                if ((@($vda.list_of_ddcs) -join ' ') -ne ($identity.list_of_ddcs -join ' ')) {
                    return "it pins the VDA's ListOfDDCs ($(@($vda.list_of_ddcs) -join ' ')); this host has '$($identity.list_of_ddcs -join ' ')'"
                }
            }
        }
        return $null
    }

    function Get-SkipReason($Vector) {
        $problems = @(@($Vector.requires) | Where-Object { $null -ne $_ } | ForEach-Object { Get-RequirementProblem $_ } | Where-Object { $null -ne $_ })
        if ($problems.Count -gt 0) {
            return "this host cannot run it: $($problems -join '; ')"
        }
        if ($null -ne $Vector.state_before) {
            # registry and files are staged; the rest live in WMI, the Citrix site database or
            # running sessions, which a generic suite must not rewrite on a real host.
            $unsupported = @($Vector.state_before.PSObject.Properties | Where-Object { @('registry', 'files', 'secure_folders', 'backup_manifests') -notcontains $_.Name -and $null -ne $_.Value })
            if ($unsupported.Count -gt 0) {
                return "the suite stages only registry and files state, not: $(($unsupported | ForEach-Object { $_.Name }) -join ', ')"
            }
            $outside = @(Get-FileEntries $Vector.state_before.files | Where-Object { -not (Test-StagingPath $_.Name) })
            if ($outside.Count -gt 0) {
                return "state_before.files outside $script:StagingRoot are not written: $(($outside | ForEach-Object { $_.Name }) -join ', ')"
            }
        }
        $identity = Get-IdentityProblem $Vector
        if ($null -ne $identity) {
            return "host identity: $identity"
        }
        return $null
    }

    function Get-FileEntries($Files) {
        if ($null -eq $Files) {
            return
        }
        $Files.PSObject.Properties
    }

    # Files are only ever written or deleted below this folder, which the vectors use for backups.
    $script:StagingRoot = 'C:\ProgramData\vipctl\'

    function Test-StagingPath([string]$Path) {
        $full = [System.IO.Path]::GetFullPath($Path)
        return $full.StartsWith($script:StagingRoot, [System.StringComparison]::OrdinalIgnoreCase) -and -not $full.Contains('..')
    }

    function Set-FileState($Files) {
        # .reg text is stored as reg.exe writes it (UTF-16LE with a BOM), .json as JSON, the rest as UTF-8.
        foreach ($entry in @(Get-FileEntries $Files)) {
            $path = $entry.Name
            if ($null -eq $entry.Value) {
                if ([System.IO.File]::Exists($path)) {
                    [System.IO.File]::Delete($path)
                }
                continue
            }
            [void][System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($path))
            if ($path.EndsWith('.reg', [System.StringComparison]::OrdinalIgnoreCase)) {
                [System.IO.File]::WriteAllText($path, [string]$entry.Value, [System.Text.Encoding]::Unicode)
            }
            elseif ($path.EndsWith('.json', [System.StringComparison]::OrdinalIgnoreCase)) {
                [System.IO.File]::WriteAllText($path, (ConvertTo-Json -InputObject $entry.Value -Depth 20), (New-Object System.Text.UTF8Encoding $false))
            }
            else {
                [System.IO.File]::WriteAllText($path, [string]$entry.Value, (New-Object System.Text.UTF8Encoding $false))
            }
        }
    }

    function Compare-FileState($Files) {
        # A null file must not exist; .reg files compare as exact text, .json files as JSON data.
        foreach ($entry in @(Get-FileEntries $Files)) {
            $path = $entry.Name
            $exists = [System.IO.File]::Exists($path)
            if ($null -eq $entry.Value) {
                if ($exists) {
                    "state_after.files[$path]: should not exist"
                }
                continue
            }
            if (-not $exists) {
                "state_after.files[$path]: missing"
                continue
            }
            # ReadAllText honours the BOM, so a reg.exe export reads back as text.
            $text = [System.IO.File]::ReadAllText($path)
            if ($path.EndsWith('.json', [System.StringComparison]::OrdinalIgnoreCase)) {
                Compare-Json $entry.Value ($text | ConvertFrom-Json) "state_after.files[$path]"
            }
            elseif (-not ($text -ceq [string]$entry.Value)) {
                "state_after.files[${path}]: expected $(ConvertTo-Json ([string]$entry.Value)), got $(ConvertTo-Json $text)"
            }
        }
    }

    # Every vector starts without backup roots, so one vector's root ACL or sets never reach the next.
    $script:BackupRoots = @('C:\ProgramData\vipctl\backups', 'C:\ProgramData\vipctl\vector-backups')

    function Reset-BackupRoots {
        foreach ($root in $script:BackupRoots) {
            if ([System.IO.Directory]::Exists($root)) {
                [System.IO.Directory]::Delete($root, $true)
            }
        }
    }

    function New-SecureFolder([string]$Path) {
        # The ACL the executor gives a backup root (executor part 15_backup_store.ps1), by SID.
        $security = New-Object System.Security.AccessControl.DirectorySecurity
        $security.SetAccessRuleProtection($true, $false)
        $inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
        foreach ($sid in @('S-1-5-32-544', 'S-1-5-18')) {
            $identity = New-Object System.Security.Principal.SecurityIdentifier $sid
            $rule = New-Object System.Security.AccessControl.FileSystemAccessRule $identity, ([System.Security.AccessControl.FileSystemRights]::FullControl), $inherit, ([System.Security.AccessControl.PropagationFlags]::None), ([System.Security.AccessControl.AccessControlType]::Allow)
            $security.AddAccessRule($rule)
        }
        $security.SetOwner((New-Object System.Security.Principal.SecurityIdentifier 'S-1-5-32-544'))
        [void][System.IO.Directory]::CreateDirectory($Path, $security)
    }

    function Set-BackupStoreState($Before) {
        foreach ($folder in @($Before.secure_folders)) {
            if ($null -ne $folder -and (Test-StagingPath $folder)) {
                New-SecureFolder $folder
            }
        }
    }

    function Set-BackupManifests($Before) {
        # What the executor writes after each op, over the files staged directly in each set.
        foreach ($setDir in @($Before.backup_manifests)) {
            if ($null -eq $setDir) {
                continue
            }
            $entries = @()
            foreach ($entry in @(Get-FileEntries $Before.files)) {
                if ([System.IO.Path]::GetDirectoryName($entry.Name) -eq $setDir) {
                    $name = [System.IO.Path]::GetFileName($entry.Name)
                    $hash = (Get-FileHash -LiteralPath $entry.Name -Algorithm SHA256).Hash.ToLowerInvariant()
                    $entries += [ordered]@{ name = $name; sha256 = $hash }
                }
            }
            $document = [ordered]@{ manifest_version = 1; files = $entries }
            $path = [System.IO.Path]::Combine($setDir, 'vipctl-manifest.json')
            [System.IO.File]::WriteAllText($path, (ConvertTo-Json -InputObject $document -Depth 5 -Compress), (New-Object System.Text.UTF8Encoding $false))
        }
    }

    function Clear-BackupDir($Request) {
        # Every vector names the same backup folder; files from an earlier vector must not count.
        if ($Request -is [string] -or $null -eq $Request.backup_dir) {
            return
        }
        $dir = [string]$Request.backup_dir
        if ((Test-StagingPath $dir) -and [System.IO.Directory]::Exists($dir)) {
            [System.IO.Directory]::Delete($dir, $true)
        }
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

    function Compare-RegistryState($Expected) {
        # Only what is listed counts: a key listed as null must be absent, a value listed as null
        # must be absent, every other listed value must match. Keys are read back through the
        # executor's registry_get, so both sides spell types the same way.
        $keys = @($Expected.PSObject.Properties)
        $ops = @($keys | ForEach-Object { @{ op = 'registry_get'; path = $_.Name } })
        $response = Invoke-Executor @{ v = 1; check = $false; backup_dir = $null; ops = $ops }
        $results = @($response.Json.results)
        for ($i = 0; $i -lt $keys.Count; $i++) {
            $where = "state_after.registry[$($keys[$i].Name)]"
            $data = $results[$i].data
            if ($null -eq $keys[$i].Value) {
                if ($data.exists) {
                    "${where}: the key should not exist"
                }
                continue
            }
            if (-not $data.exists) {
                "${where}: the key does not exist"
                continue
            }
            foreach ($value in $keys[$i].Value.PSObject.Properties) {
                # Value names are case-insensitive, as in the registry.
                $actual = $data.values.PSObject.Properties | Where-Object { $_.Name -eq $value.Name } | Select-Object -First 1
                if ($null -eq $value.Value) {
                    if ($null -ne $actual) {
                        "${where}.$($value.Name): the value should not exist"
                    }
                    continue
                }
                if ($null -eq $actual) {
                    "${where}.$($value.Name): missing"
                    continue
                }
                Compare-Json $value.Value $actual.Value "$where.$($value.Name)"
            }
        }
    }

    function Compare-TsVipState($Expected) {
        # The listed Win32_TSVirtualIP properties, read through tsvip_get.
        $response = Invoke-Executor @{ v = 1; check = $false; backup_dir = $null; ops = @(@{ op = 'tsvip_get' }) }
        $properties = @($response.Json.results)[0].data.properties
        if ($null -eq $properties) {
            'state_after.tsvip: Win32_TSVirtualIP is not available'
            return
        }
        foreach ($property in $Expected.PSObject.Properties) {
            Compare-Json $property.Value $properties.($property.Name) "state_after.tsvip.$($property.Name)"
        }
    }

    function Compare-CitrixPolicyState($Expected) {
        # Whole site policies, read through citrix_policy_get; null means the policy is absent.
        foreach ($policy in $Expected.PSObject.Properties) {
            $op = @{ op = 'citrix_policy_get'; name = $policy.Name; scope = 'site' }
            $response = Invoke-Executor @{ v = 1; check = $false; backup_dir = $null; ops = @($op) }
            $actual = @($response.Json.results)[0].data.policy
            Compare-Json $policy.Value $actual "state_after.citrix_policies[$($policy.Name)]"
        }
    }

    function Get-Frame($Request, [string]$VectorFile) {
        # The stdin frame, made by pester_entry.py: from the vector file itself when there is one
        # (so the request is sent exactly as written), else from this request as UTF-8 JSON.
        if ($VectorFile) {
            $lines = & $script:Python $script:Entry vector $VectorFile
        }
        else {
            $file = [System.IO.Path]::GetTempFileName()
            try {
                $utf8 = New-Object System.Text.UTF8Encoding $false
                if ($Request -is [string]) {
                    # Malformed-request vectors carry the raw request text, sent as it is.
                    [System.IO.File]::WriteAllText($file, $Request, $utf8)
                    $lines = & $script:Python $script:Entry frame --raw --file $file
                }
                else {
                    [System.IO.File]::WriteAllText($file, ($Request | ConvertTo-Json -Depth 20 -Compress), $utf8)
                    $lines = & $script:Python $script:Entry frame --file $file
                }
            }
            finally {
                [System.IO.File]::Delete($file)
            }
        }
        if ($LASTEXITCODE -ne 0) {
            throw "pester_entry.py could not make a frame ($LASTEXITCODE)"
        }
        # Base64 lines: ASCII whatever the console encoding; CRLF as the transports send them.
        return ((@($lines) | Where-Object { $_ -ne '' }) -join "`r`n") + "`r`n"
    }

    function Invoke-Executor($Request, [string]$VectorFile) {
        # A fresh powershell.exe started as WinRS starts it: the bootstrap command line, stdin
        # redirected and fed the frame, then closed; stdout is the one JSON reply.
        $frame = Get-Frame $Request $VectorFile
        $info = New-Object System.Diagnostics.ProcessStartInfo
        $info.FileName = $script:EntryFile
        $info.Arguments = $script:EntryArguments
        $info.UseShellExecute = $false
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.StandardOutputEncoding = New-Object System.Text.UTF8Encoding $false
        $info.StandardErrorEncoding = New-Object System.Text.UTF8Encoding $false
        $process = [System.Diagnostics.Process]::Start($info)
        try {
            # Read both streams while writing stdin, so a full pipe never blocks the child.
            $stdout = $process.StandardOutput.ReadToEndAsync()
            $stderr = $process.StandardError.ReadToEndAsync()
            $bytes = [System.Text.Encoding]::ASCII.GetBytes($frame)
            $process.StandardInput.BaseStream.Write($bytes, 0, $bytes.Length)
            $process.StandardInput.Close()
            if (-not $process.WaitForExit(300000)) {
                $process.Kill()
                throw 'powershell.exe did not finish within 5 minutes'
            }
            $text = $stdout.Result.Trim()
            $errors = $stderr.Result
            $exitCode = $process.ExitCode
        }
        finally {
            $process.Dispose()
        }
        try {
            $json = $text | ConvertFrom-Json
        }
        catch {
            throw "the executor's stdout is not one JSON reply (exit $exitCode): $text`nstderr: $errors"
        }
        return @{ Text = $text; ExitCode = $exitCode; Json = $json; Errors = $errors }
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

Describe 'executor contract vector <Name> (bootstrap and stdin frame)' -ForEach $vectors {
    BeforeAll {
        $vector = [System.IO.File]::ReadAllText($File, [System.Text.Encoding]::UTF8) | ConvertFrom-Json
        $skipReason = Get-SkipReason $vector
    }

    It 'answers with the expected response and leaves the expected state' {
        if ($null -ne $skipReason) {
            Set-ItResult -Skipped -Because $skipReason
            return
        }
        Clear-BackupDir $vector.request
        Reset-BackupRoots
        if ($null -ne $vector.state_before) {
            Set-RegistryState $vector.state_before.registry
            Set-BackupStoreState $vector.state_before
            Set-FileState $vector.state_before.files
            Set-BackupManifests $vector.state_before
        }
        $run = Invoke-Executor $vector.request $File

        $expectedExit = 0
        if ($null -ne $vector.response.error) {
            $expectedExit = 1
        }
        $run.ExitCode | Should -Be $expectedExit
        @(Compare-Json $vector.response $run.Json 'response') | Should -BeNullOrEmpty

        $after = $vector.state_after
        if ($null -ne $after) {
            $problems = @()
            if ($null -ne $after.registry) {
                $problems += @(Compare-RegistryState $after.registry)
            }
            if ($null -ne $after.files) {
                $problems += @(Compare-FileState $after.files)
            }
            if ($null -ne $after.tsvip) {
                $problems += @(Compare-TsVipState $after.tsvip)
            }
            if ($null -ne $after.citrix_policies) {
                $problems += @(Compare-CitrixPolicyState $after.citrix_policies)
            }
            # state_after.sessions only appears with simulated_processes, which is skipped above.
            $problems | Should -BeNullOrEmpty
        }
    }
}

# ConvertFrom-Json cannot tell ["x"] from "x" once PowerShell unrolls a one-element array, so these
# checks read the response text itself: a list field must stay a JSON array with one element.
Describe 'executor keeps one-element lists as JSON arrays' {
    BeforeAll {
        $script:ArrayRoot = 'C:\ProgramData\vipctl\array-checks'
        $script:ArrayKey = 'HKLM\SOFTWARE\vipctl-vectors\Arrays'

        function Reset-ArrayRoot {
            if ([System.IO.Directory]::Exists($script:ArrayRoot)) {
                [System.IO.Directory]::Delete($script:ArrayRoot, $true)
            }
        }

        function New-ArrayRequest([object[]]$Ops, $BackupDir) {
            return @{ v = 1; check = $false; backup_dir = $BackupDir; ops = $Ops }
        }
    }

    AfterAll {
        Reset-ArrayRoot
        (Open-LocalMachine).DeleteSubKeyTree((Get-SubKey $script:ArrayKey), $false)
    }

    It 'registry_get and registry_set: subkeys, REG_MULTI_SZ values, changes and backups' {
        Reset-ArrayRoot
        $state = @"
{"$($script:ArrayKey -replace '\\', '\\')": {"One": {"type": "REG_MULTI_SZ", "value": ["only"]}},
 "$($script:ArrayKey -replace '\\', '\\')\\Only": {}}
"@ | ConvertFrom-Json
        Set-RegistryState $state
        $ops = @(
            @{ op = 'registry_get'; path = $script:ArrayKey }
            @{ op = 'registry_set'; path = $script:ArrayKey; values = @(@{ name = 'Two'; state = 'present'; type = 'REG_MULTI_SZ'; value = @('second') }) }
        )
        $run = Invoke-Executor (New-ArrayRequest $ops "$script:ArrayRoot\20261126T120000Z-0001")
        $run.Text | Should -Match '"subkeys":\["Only"\]'
        $run.Text | Should -Match '"One":\{"type":"REG_MULTI_SZ","value":\["only"\]\}'
        $run.Text | Should -Match '"changes":\[\{"name":"Two","before":null,"after":\{"type":"REG_MULTI_SZ","value":\["second"\]\}\}\]'
        $run.Text | Should -Match '"backups":\["[^"]+"\]'
    }

    It 'backup_list: one set holding one file' {
        Reset-ArrayRoot
        $set = Join-Path $script:ArrayRoot '20261126T120000Z-0001'
        [void][System.IO.Directory]::CreateDirectory($set)
        [System.IO.File]::WriteAllText((Join-Path $set 'one.reg'), 'x')
        $run = Invoke-Executor (New-ArrayRequest @(@{ op = 'backup_list'; root = $script:ArrayRoot }) $null)
        $run.Text | Should -Match '"sets":\[\{"dir":"[^"]+","files":\["one\.reg"\]\}\]'
    }

    It 'host_facts and net_endpoints: list fields are arrays whatever their length' {
        $ops = @(
            @{ op = 'host_facts' }
            @{ op = 'net_endpoints'; protocols = @('tcp') }
        )
        $run = Invoke-Executor (New-ArrayRequest $ops $null)
        $run.Text | Should -Match '"ip_addresses":\['
        $run.Text | Should -Match '"list_of_ddcs":\['
        $run.Text | Should -Match '"endpoints":\['
        $run.Text | Should -Match '"processes":\['
    }

    It 'tsvip_set, tsvip_get and tsvip_restore: ProgramList with one program, also through tsvip.json' {
        $problem = Get-RequirementProblem 'rdsh'
        if ($null -ne $problem) {
            Set-ItResult -Skipped -Because $problem
            return
        }
        Reset-ArrayRoot
        $policy = '{"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services\\TSAppSrv\\VirtualIP": null}'
        Set-RegistryState ($policy | ConvertFrom-Json)
        $first = "$script:ArrayRoot\20261126T120000Z-0001"
        $second = "$script:ArrayRoot\20261126T120001Z-0002"
        $set = @{ op = 'tsvip_set'; properties = @{ ProgramList = @('one.exe') } }
        $run = Invoke-Executor (New-ArrayRequest @($set, @{ op = 'tsvip_get' }) $first)
        $run.Text | Should -Match '"after":\["one\.exe"\]'
        $run.Text | Should -Match '"ProgramList":\["one\.exe"\]'
        $run.Text | Should -Match '"NetworkAdapterMacList":\['

        $set = @{ op = 'tsvip_set'; properties = @{ ProgramList = @('two.exe') } }
        $run = Invoke-Executor (New-ArrayRequest @($set) $second)
        $run.Text | Should -Match '"before":\["one\.exe"\]'
        $saved = [System.IO.File]::ReadAllText("$second\tsvip.json")
        $saved | Should -Match '"ProgramList":\s*\[\s*"one\.exe"\s*\]'

        # Newest first, as vip_rollback does: two.exe -> one.exe -> what the host had before.
        $ops = @(
            @{ op = 'tsvip_restore'; file = "$second\tsvip.json" }
            @{ op = 'tsvip_restore'; file = "$first\tsvip.json" }
        )
        $run = Invoke-Executor (New-ArrayRequest $ops $null)
        $run.ExitCode | Should -Be 0
        $run.Json.ok | Should -BeTrue
        $run.Text | Should -Match '"before":\["two\.exe"\],"after":\["one\.exe"\]'
        $run.Text | Should -Match '"not_restored":\[\]'
    }

    It 'citrix_policy_get: a setting with one value' {
        $problem = Get-RequirementProblem 'citrix_controller'
        if ($null -ne $problem) {
            Set-ItResult -Skipped -Because $problem
            return
        }
        Reset-ArrayRoot
        $address = @{ name = 'vipctl array check'; scope = 'site' }
        $wanted = @{ enabled = $true; settings = @{ VirtualLoopbackPrograms = @{ State = 'Enabled'; Values = @('one.exe') } } }
        $ops = @(
            ($address + @{ op = 'citrix_policy_set'; state = 'present'; policy = $wanted })
            ($address + @{ op = 'citrix_policy_get' })
            ($address + @{ op = 'citrix_policy_set'; state = 'absent' })
        )
        $run = Invoke-Executor (New-ArrayRequest $ops "$script:ArrayRoot\20261126T120000Z-0001")
        $run.Json.ok | Should -BeTrue
        $run.Text | Should -Match '"after":\["one\.exe"\]'
        $run.Text | Should -Match '"VirtualLoopbackPrograms":\{"State":"Enabled","Values":\["one\.exe"\]\}'
    }
}
