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
