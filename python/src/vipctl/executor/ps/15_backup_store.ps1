# ---------------------------------------------------------------- backup store: root ACL, manifests, managed keys
# Twin: vipctl.sim.twin.backup_store. Restores must only ever put back what vipctl wrote:
# - the backup root is created with an explicit ACL (owner Administrators; Administrators and
#   SYSTEM full control; inheritance off), and an existing root with anything wider is refused:
#   below C:\ProgramData an inherited ACL lets every user create files
#   (docs/windows-facts.md#programdata-lets-every-user-create-files-and-folders);
# - principals are compared by SID, never by name, since names are localized
#   (docs/windows-facts.md#well-known-sids);
# - each set folder holds vipctl-manifest.json with the SHA-256 of every file the request saved,
#   and a restore takes a file only from a set that matches its manifest exactly;
# - registry_restore takes a .reg file only if every section names a managed key, because
#   reg import applies every section of a file (docs/windows-facts.md#reg-import-applies-every-section-of-the-file).
# Under Constrained Language Mode the .NET security types used here (DirectorySecurity,
# FileSystemAccessRule, SecurityIdentifier) cannot be created, so creating a root fails there
# (docs/windows-facts.md#constrained-language-mode-blocks-the-acl-types).

$script:TrustedSids = @('S-1-5-32-544', 'S-1-5-18')
$script:ManifestName = 'vipctl-manifest.json'
$script:BackupSetReady = $false
$script:RootFix = 'remove the folder (after saving anything you need from it) so vipctl creates it again, or reset it: icacls <root> /inheritance:r /grant:r *S-1-5-32-544:(OI)(CI)F *S-1-5-18:(OI)(CI)F and icacls <root> /setowner *S-1-5-32-544, after checking every file below it'

function Get-BackupRoot([string]$Dir) {
    $trimmed = $Dir.TrimEnd('\')
    $root = [System.IO.Path]::GetDirectoryName($trimmed)
    if ([string]::IsNullOrEmpty($root) -or $root -eq $trimmed) {
        Stop-Op 'bad_request' "backup_dir $Dir has no parent folder to serve as the backup root"
    }
    return $root
}

function Get-BackupRootProblem([string]$Root) {
    # Why the folder is not safe to keep backups in, or $null.
    $sidType = [System.Security.Principal.SecurityIdentifier]
    $acl = Get-Acl -LiteralPath $Root
    $owner = $acl.GetOwner($sidType).Value
    if ($script:TrustedSids -notcontains $owner) {
        return "its owner is $owner, not Administrators (S-1-5-32-544) or SYSTEM (S-1-5-18)"
    }
    if (-not $acl.AreAccessRulesProtected) {
        return 'it inherits permissions from its parent folder (inheritance is on)'
    }
    $wider = New-Object System.Collections.Generic.List[string]
    foreach ($rule in $acl.GetAccessRules($true, $true, $sidType)) {
        $sid = $rule.IdentityReference.Value
        if ($rule.AccessControlType -eq [System.Security.AccessControl.AccessControlType]::Allow -and $script:TrustedSids -notcontains $sid -and -not $wider.Contains($sid)) {
            $wider.Add($sid)
        }
    }
    if ($wider.Count -gt 0) {
        $sorted = Get-SortedByKey $wider.ToArray() $wider.ToArray()
        return "it grants access to $($sorted -join ', '), beyond Administrators and SYSTEM"
    }
    return $null
}

function Assert-BackupRootSecure([string]$Root) {
    $problem = Get-BackupRootProblem $Root
    if ($null -ne $problem) {
        Stop-Op 'insecure_backup_root' "backup root $Root is not safe: $problem; $($script:RootFix)"
    }
}

function New-BackupRootSecurity {
    $security = New-Object System.Security.AccessControl.DirectorySecurity
    # Protected, and nothing kept from the parent: only the two entries below apply.
    $security.SetAccessRuleProtection($true, $false)
    $inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
    foreach ($sid in $script:TrustedSids) {
        $identity = New-Object System.Security.Principal.SecurityIdentifier $sid
        $rule = New-Object System.Security.AccessControl.FileSystemAccessRule $identity, ([System.Security.AccessControl.FileSystemRights]::FullControl), $inherit, ([System.Security.AccessControl.PropagationFlags]::None), ([System.Security.AccessControl.AccessControlType]::Allow)
        $security.AddAccessRule($rule)
    }
    $security.SetOwner((New-Object System.Security.Principal.SecurityIdentifier 'S-1-5-32-544'))
    return $security
}

function Initialize-BackupRoot([string]$Root) {
    if (-not [System.IO.Directory]::Exists($Root)) {
        # The folder is created with its ACL in the same call: there is no moment in which the
        # ACL inherited from C:\ProgramData would let a user create a file in it
        # (docs/windows-facts.md#directorycreatedirectory-applies-an-acl-at-creation).
        [void][System.IO.Directory]::CreateDirectory($Root, (New-BackupRootSecurity))
    }
    Assert-BackupRootSecure $Root
}

function Initialize-BackupSet {
    # Before the first backup file of the request: a safe root, then the set folder below it.
    if ($script:BackupSetReady) {
        return
    }
    Initialize-BackupRoot (Get-BackupRoot $script:BackupDir)
    [void][System.IO.Directory]::CreateDirectory($script:BackupDir)
    $script:BackupSetReady = $true
}

function Get-Sha256([string]$Path) {
    # Lower-case hex, as the twin's hashlib prints it (docs/windows-facts.md#get-filehash-gives-the-sha-256-the-manifests-hold).
    return (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
}

function Save-BackupManifest {
    # After each op: the manifest names every file this request saved, with its SHA-256.
    if ($null -eq $script:BackupDir -or $script:Backups.Count -eq 0) {
        return
    }
    $names = @($script:Backups | ForEach-Object { [System.IO.Path]::GetFileName([string]$_) })
    $sorted = Get-SortedByKey $names @($names | ForEach-Object { $_.ToLowerInvariant() })
    $entries = New-Object System.Collections.Generic.List[object]
    foreach ($name in $sorted) {
        $entries.Add([ordered]@{ name = $name; sha256 = (Get-Sha256 ([System.IO.Path]::Combine($script:BackupDir, $name))) })
    }
    $document = [ordered]@{ manifest_version = 1; files = $entries.ToArray() }
    $path = [System.IO.Path]::Combine($script:BackupDir, $script:ManifestName)
    [System.IO.File]::WriteAllText($path, ($document | ConvertTo-Json -Depth 5 -Compress), (New-Object System.Text.UTF8Encoding $false))
}

function Get-BackupSetProblem([string]$SetDir) {
    # Why the set's files cannot be trusted, or $null when they are exactly its manifest.
    $manifestPath = [System.IO.Path]::Combine($SetDir, $script:ManifestName)
    if (-not [System.IO.File]::Exists($manifestPath)) {
        return "backup set $SetDir has no $($script:ManifestName): vipctl did not make it"
    }
    $entries = @{}
    try {
        $manifest = [System.IO.File]::ReadAllText($manifestPath) | ConvertFrom-Json
        foreach ($entry in (Get-Field $manifest 'files')) {
            $entries[([string](Get-Field $entry 'name')).ToLowerInvariant()] = ([string](Get-Field $entry 'sha256')).ToLowerInvariant()
        }
    }
    catch {
        return "the manifest of backup set $SetDir is not readable: $(Get-ErrorMessage $_.Exception)"
    }
    if ((Get-Field $manifest 'manifest_version') -ne 1) {
        return "the manifest of backup set $SetDir is not a v1 manifest"
    }
    $present = @{}
    foreach ($path in [System.IO.Directory]::GetFiles($SetDir)) {
        $name = [System.IO.Path]::GetFileName($path)
        if ($name.ToLowerInvariant() -ne $script:ManifestName) {
            $present[$name.ToLowerInvariant()] = $name
        }
    }
    $presentKeys = [string[]]@($present.Keys)
    foreach ($key in (Get-SortedByKey $presentKeys $presentKeys)) {
        $name = $present[$key]
        if (-not $entries.ContainsKey($key)) {
            return "$name is not in the manifest: vipctl did not write it"
        }
        if ((Get-Sha256 ([System.IO.Path]::Combine($SetDir, $name))) -ne $entries[$key]) {
            return "$name changed after vipctl wrote it (SHA-256 differs from the manifest)"
        }
    }
    $listedKeys = [string[]]@($entries.Keys)
    foreach ($key in (Get-SortedByKey $listedKeys $listedKeys)) {
        if (-not $present.ContainsKey($key)) {
            return "$key is in the manifest but missing"
        }
    }
    return $null
}

function New-BackupSetListing([string]$Dir, $Names) {
    $problem = Get-BackupSetProblem $Dir
    $shown = [object[]]@($Names | Where-Object { ([string]$_).ToLowerInvariant() -ne $script:ManifestName })
    return [ordered]@{ dir = $Dir; files = $shown; verified = ($null -eq $problem); problem = $problem }
}

function Assert-BackupFileIntact([string]$File) {
    # Every restore op, before it reads its file: a safe root and a set matching its manifest.
    $setDir = [System.IO.Path]::GetDirectoryName($File)
    Assert-BackupRootSecure (Get-BackupRoot $setDir)
    $problem = Get-BackupSetProblem $setDir
    if ($null -eq $problem -and [System.IO.Path]::GetFileName($File).ToLowerInvariant() -eq $script:ManifestName) {
        $problem = "$($script:ManifestName) is not one of the set's backup files"
    }
    if ($null -ne $problem) {
        Stop-Op 'backup_tampered' "refusing to restore ${File}: $problem"
    }
}

function Test-KeyWithin([string]$Inner, [string]$Outer) {
    # Key names compare case-insensitively; a key is within itself.
    return $Inner.Equals($Outer, [System.StringComparison]::OrdinalIgnoreCase) -or
        $Inner.StartsWith($Outer + '\', [System.StringComparison]::OrdinalIgnoreCase)
}

function Get-ManagedKeys($Op) {
    $raw = Get-Field $Op 'managed_keys'
    if (-not (Test-IsList $raw) -or $raw.Count -eq 0) {
        Stop-Op 'bad_request' "argument 'managed_keys' must be a non-empty list of {key, floor}"
    }
    $managed = New-Object System.Collections.Generic.List[object]
    foreach ($item in $raw) {
        $key = Get-Field $item 'key'
        $floor = Get-Field $item 'floor'
        if ($null -eq $floor) {
            $floor = $key
        }
        if (-not ($key -is [string]) -or -not ($floor -is [string])) {
            Stop-Op 'bad_request' "every entry of 'managed_keys' needs a string 'key'"
        }
        $keyPath = ConvertTo-RegistryPath $key
        $floorPath = ConvertTo-RegistryPath $floor
        if (-not (Test-KeyWithin $keyPath $floorPath)) {
            Stop-Op 'bad_request' "managed_keys: 'floor' must be the key or one of its ancestors"
        }
        $managed.Add(@{ key = $keyPath; floor = $floorPath })
    }
    return , $managed.ToArray()
}

function Get-RegFileProblem([string]$File, $Managed) {
    # The first section outside the managed keys, or $null. [K] writes K, which must be a managed
    # key or below one; [-K] deletes K's tree, and may also name a missing ancestor that vipctl's
    # write created, down to the key's floor.
    foreach ($line in [System.IO.File]::ReadAllLines($File)) {
        $trimmed = $line.Trim()
        if (-not $trimmed.StartsWith('[')) {
            continue
        }
        if (-not $trimmed.EndsWith(']')) {
            return "'$trimmed' is not a well-formed section header"
        }
        $header = $trimmed.Substring(1, $trimmed.Length - 2)
        $deleting = $header.StartsWith('-')
        $name = $header
        if ($deleting) {
            $name = $header.Substring(1)
        }
        if (-not ($name -match '^HKEY_LOCAL_MACHINE\\(.+)$')) {
            return "[$header] is not a key under HKEY_LOCAL_MACHINE"
        }
        $subKey = $Matches[1].TrimEnd('\')
        $allowed = $false
        foreach ($entry in $Managed) {
            if ((Test-KeyWithin $subKey $entry.key) -or ($deleting -and (Test-KeyWithin $entry.key $subKey) -and (Test-KeyWithin $subKey $entry.floor))) {
                $allowed = $true
                break
            }
        }
        if (-not $allowed) {
            return "[$header] names a key vipctl does not manage"
        }
    }
    return $null
}
