# ---------------------------------------------------------------- host addresses in a network (address_match)
# Which IPv4 addresses of this host's IP-enabled adapters lie in a CIDR, so a guard can refuse an
# RD IP Virtualization adapter CIDR that selects no adapter before anything is written
# (docs/windows-facts.md#vipadapter-selects-the-adapter-by-its-address). Plain arithmetic on the
# dotted form: no .NET address types are needed, so it runs under Constrained Language Mode.

function ConvertTo-IPv4Number([string]$Address) {
    if (-not ($Address -match '^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$')) {
        return $null
    }
    [int64]$number = 0
    foreach ($index in @(1, 2, 3, 4)) {
        $octet = [int64]$Matches[$index]
        if ($octet -gt 255) {
            return $null
        }
        $number = $number * 256 + $octet
    }
    return $number
}

function Invoke-AddressMatch($Op) {
    $cidr = Get-RequiredString $Op 'cidr'
    if (-not ($cidr -match '^([0-9.]+)/(\d{1,2})$') -or [int]$Matches[2] -gt 32) {
        Stop-Op 'bad_request' "argument 'cidr' must be an IPv4 network like 10.0.0.0/24: $cidr"
    }
    $bits = [int]$Matches[2]
    $network = ConvertTo-IPv4Number $Matches[1]
    if ($null -eq $network) {
        Stop-Op 'bad_request' "argument 'cidr' must be an IPv4 network like 10.0.0.0/24: $cidr"
    }
    [int64]$size = 1
    for ($i = $bits; $i -lt 32; $i++) {
        $size = $size * 2
    }
    $start = $network - ($network % $size)
    $addresses = @(Get-CimInstance -ClassName Win32_NetworkAdapterConfiguration -Filter 'IPEnabled = TRUE' |
            ForEach-Object { $_.IPAddress } | Where-Object { $_ -match '^\d+\.\d+\.\d+\.\d+$' } | ForEach-Object { [string]$_ })
    $inside = @($addresses | Where-Object {
            $number = ConvertTo-IPv4Number $_
            $null -ne $number -and $number -ge $start -and $number -lt ($start + $size)
        })
    $data = [ordered]@{ cidr = $cidr; addresses = [object[]]$addresses; matching = [object[]]$inside; matched = $inside.Count -gt 0 }
    return @{ changed = $false; data = $data }
}
