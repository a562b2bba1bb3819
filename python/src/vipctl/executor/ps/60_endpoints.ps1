# ---------------------------------------------------------------- processes and sockets (net_endpoints)

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

function Test-NoMatchingObjects($ErrorRecord) {
    # The NetTCPIP cmdlets report "No MSFT_NetTCPConnection objects found" as ObjectNotFound: the
    # one failure that means an empty table. Any other (CIM access denied, a broken provider) is
    # the op's error, never an empty success (docs/windows-facts.md#socket-table-errors-are-not-empty-tables).
    return $ErrorRecord.CategoryInfo.Category -eq [System.Management.Automation.ErrorCategory]::ObjectNotFound
}

function Get-TcpRows {
    try {
        return , @(Get-NetTCPConnection -ErrorAction Stop)
    }
    catch {
        if (Test-NoMatchingObjects $_) {
            return , @()
        }
        throw
    }
}

function Get-UdpRows {
    try {
        return , @(Get-NetUDPEndpoint -ErrorAction Stop)
    }
    catch {
        if (Test-NoMatchingObjects $_) {
            return , @()
        }
        throw
    }
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
    # No -ErrorAction SilentlyContinue: a failing NetTCPIP/CIM query fails the op with its kind
    # (Get-ErrorKind) instead of reading as a host without sockets; unfiltered, these cmdlets have
    # no "no match" error (docs/windows-facts.md#an-unfiltered-nettcpip-query-has-no-no-match-error).
    if ($protocols -contains 'tcp') {
        foreach ($row in (Get-TcpRows)) {
            $endpoints.Add((New-EndpointRow 'tcp' $row $processes $true))
        }
    }
    if ($protocols -contains 'udp') {
        foreach ($row in (Get-UdpRows)) {
            $endpoints.Add((New-EndpointRow 'udp' $row $processes $false))
        }
    }
    $sortKeys = @($endpoints | ForEach-Object { Get-EndpointSortKey $_ })
    $sorted = Get-SortedByKey $endpoints.ToArray() $sortKeys
    $processList = [object[]]@($processes.Values | Sort-Object -Property { $_.pid })
    return @{ changed = $false; data = [ordered]@{ endpoints = $sorted; processes = $processList } }
}
