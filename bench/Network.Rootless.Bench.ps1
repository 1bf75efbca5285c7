<#
.SYNOPSIS
    Rootless networking benchmark, side by side in one run, as a throw-away unprivileged user: create + start + wait +
    remove of busybox /bin/true with -Network pasta, slirp4netns and private, and the throughput of a published port
    (curl of a 128 MB file served by busybox httpd in the container, from the host's 127.0.0.1) through pasta and
    slirp4netns; each against podman 4.3 rootless with the same helper when podman runs rootless here.
.DESCRIPTION
    Everything is timed inside one warm pwsh of the user (podman as a child process), start runs interleaved in
    -Rounds rounds. Medians in ms (start) and MB/s (throughput, MB = 10^6 bytes, -Downloads each); ratios of medians.
    The user, its store and podman's files are removed at the end. /dev/net/tun is made 0666 for the run if it is not
    (udev's mode on Debian) and restored.
.EXAMPLE
    dotnet pwsh bench/Network.Rootless.Bench.ps1 -Runs 12 -Downloads 3
#>
param(
    [int] $Runs = 12,
    [int] $Rounds = 3,
    [int] $Downloads = 3,
    [switch] $SkipPodman
)
$ErrorActionPreference = 'Stop'
if ((id -u) -ne '0') { throw 'run as root (the bench makes its own unprivileged user)' }
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1')
Import-Module (Join-Path $PSScriptRoot 'HostState.psm1')
if (-not $env:PSCONTAINERS_TEST_MODULE) { $env:PSCONTAINERS_TEST_MODULE = (Resolve-Path (Join-Path $PSScriptRoot '../out/Containers/Containers.psd1')).Path }
$modulePath = Get-TestModulePathForUsers
$pwshDll = Get-TestPwshForUsers
$tunMode = (& stat -c %a /dev/net/tun)
if ($tunMode -ne '666') { & chmod 0666 /dev/net/tun }
$user = 'psnb' + (Get-Random -Maximum 999999)
$userHome = Join-Path ([System.IO.Path]::GetTempPath()) "$user-home"
& useradd --create-home --home-dir $userHome --shell /bin/sh --user-group $user
if ($LASTEXITCODE) { throw "useradd $user failed" }
try {
    Copy-Item (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/BusyboxImage.psm1'), (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/Podman.psm1') $userHome
    $script = Join-Path $userHome 'bench.ps1'
    @"
`$ErrorActionPreference = 'Stop'
`$root = Join-Path `$HOME 'pscontainers'
foreach (`$d in 'data', 'state', 'config', 'logs', 'run') { New-Item -ItemType Directory -Force (Join-Path `$root `$d) | Out-Null }
`$env:PSCONTAINERS_DATA_DIR = "`$root/data"; `$env:PSCONTAINERS_STATE_DIR = "`$root/state"
`$env:PSCONTAINERS_CONFIG_DIR = "`$root/config"; `$env:PSCONTAINERS_LOG_DIR = "`$root/logs"; `$env:XDG_RUNTIME_DIR = "`$root/run"
Import-Module '$modulePath'
Import-Module (Join-Path `$HOME 'BusyboxImage.psm1')
`$null = Import-BusyboxImage
function Median([double[]] `$x) { `$s = `$x | Sort-Object; if (`$s.Count % 2) { `$s[[int][math]::Floor(`$s.Count / 2)] } else { (`$s[`$s.Count / 2 - 1] + `$s[`$s.Count / 2]) / 2 } }
function FreePort { `$l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); `$l.Start(); try { `$l.LocalEndpoint.Port } finally { `$l.Stop() } }
`$serve = 'busybox dd if=/dev/zero of=/www/big bs=1000000 count=128 2>/dev/null && exec busybox httpd -f -p 8080 -h /www'
function Download([int] `$port) {
    # The server is up once a HEAD answers; then -Downloads full downloads, speed in MB/s.
    foreach (`$i in 1..100) { & curl -s -o /dev/null --max-time 2 -I "http://127.0.0.1:`$port/big"; if (`$LASTEXITCODE -eq 0) { break }; Start-Sleep -Milliseconds 100 }
    Median @(foreach (`$i in 1..$Downloads) { [double](& curl -s -o /dev/null -w '%{speed_download}' "http://127.0.0.1:`$port/big") / 1e6 })
}
`$start = [ordered]@{}; `$mbps = [ordered]@{}; `$notes = @()
`$nets = 'pasta', 'slirp4netns', 'private'
`$podman = `$null; `$podmanNets = @()
if (-not `$$([bool]$SkipPodman) -and (Get-Command podman -ErrorAction SilentlyContinue)) {
    try {
        Import-Module (Join-Path `$HOME 'Podman.psm1')
        `$podman = Initialize-TestPodman -Root `$root
        `$podmanImage = Import-PodmanImage -Podman `$podman -Image busybox
        foreach (`$n in 'pasta', 'slirp4netns') {
            # podman 4.3 (Debian 12) has no pasta network mode; 4.4 added it.
            `$err = & podman run --rm --network `$n `$podmanImage /bin/true 2>&1
            if (`$LASTEXITCODE) { `$notes += "podman --network `$n did not run here: `$(`$err -join ' ')" } else { `$podmanNets += `$n }
        }
    } catch { `$notes += "podman rootless did not run here: `$_"; `$podman = `$null }
}
foreach (`$n in `$nets) { `$start["module `$n"] = [System.Collections.Generic.List[double]]::new(); if (`$n -in `$podmanNets) { `$start["podman `$n"] = [System.Collections.Generic.List[double]]::new() } }
foreach (`$n in `$nets) { `$null = New-Container -Image busybox -Network `$n -Command /bin/true | Start-Container -Wait | Remove-Container } # warm-up
foreach (`$r in 1..$Rounds) {
    foreach (`$n in `$nets) {
        foreach (`$i in 1..[math]::Max(1, [int][math]::Ceiling($Runs / $Rounds))) {
            `$start["module `$n"].Add((Measure-Command { New-Container -Image busybox -Network `$n -Command /bin/true | Start-Container -Wait | Remove-Container }).TotalMilliseconds)
            if (`$n -in `$podmanNets) { `$start["podman `$n"].Add((Measure-Command { & podman run --rm --network `$n `$podmanImage /bin/true }).TotalMilliseconds) }
        }
    }
}
foreach (`$n in 'pasta', 'slirp4netns') {
    `$port = FreePort
    `$c = New-Container -Image busybox -Network `$n -Publish "127.0.0.1:`${port}:8080" -Tmpfs /www -Command sh,-c,`$serve | Start-Container -PassThru
    try { `$mbps["module `$n"] = Download `$port } finally { Remove-Container `$c.Name -Force -Confirm:`$false }
    if (`$n -in `$podmanNets) {
        `$port = FreePort
        `$id = & podman run -d --network `$n -p "127.0.0.1:`${port}:8080" --tmpfs /www `$podmanImage sh -c `$serve
        try { `$mbps["podman `$n"] = Download `$port } finally { & podman rm -f -t 0 `$id 2>&1 | Out-Null }
    }
}
if (`$podman) { Remove-TestPodman `$podman }
`$med = [ordered]@{}; foreach (`$k in `$start.Keys) { `$med[`$k] = [math]::Round((Median `$start[`$k]), 1) }
[pscustomobject]@{ Start = `$med; Mbps = `$mbps; Notes = `$notes } | ConvertTo-Json -Compress -Depth 4
"@ | Set-Content $script
    & chown -R "${user}:${user}" $userHome
    $load = Get-HostLoad
    $out = & setpriv --reuid $user --regid $user --clear-groups --reset-env -- /usr/bin/env "HOME=$userHome" 'PATH=/usr/bin:/bin' "DOTNET_CLI_HOME=$userHome" `
        /usr/bin/dotnet $pwshDll -NoProfile -NonInteractive -File $script 2>&1
    if ($LASTEXITCODE) { throw "the bench failed as ${user}: $out" }
    $r = ($out | Where-Object { $_ -like '{*' } | Select-Object -Last 1) | ConvertFrom-Json
    "load average before: $load ($([Environment]::ProcessorCount) cores, shared)"
    'start (create + start + wait + remove of /bin/true), median ms:'
    $r.Start.PSObject.Properties | ForEach-Object { '  {0,-22} {1,8}' -f $_.Name, $_.Value }
    'published-port throughput (curl of 128 MB from 127.0.0.1), median MB/s:'
    $r.Mbps.PSObject.Properties | ForEach-Object { '  {0,-22} {1,8:N0}' -f $_.Name, $_.Value }
    $s = $r.Start; $m = $r.Mbps
    'ratios:'
    '  start pasta / private        {0:N2}' -f ($s.'module pasta' / $s.'module private')
    '  start slirp4netns / private  {0:N2}' -f ($s.'module slirp4netns' / $s.'module private')
    foreach ($n in 'pasta', 'slirp4netns') {
        if (-not $s."podman $n") { continue }
        '  podman / module start, {0,-12} {1:N2}' -f $n, ($s."podman $n" / $s."module $n")
        '  module / podman throughput, {0,-12} {1:N2}' -f $n, ($m."module $n" / $m."podman $n")
    }
    $r.Notes
}
finally {
    # podman rootless leaves its pause process (it holds the user namespace) behind: it is the bench user's own.
    foreach ($p in @(& pgrep -u $user -x podman)) { & kill $p 2>$null }
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while ((& pgrep -u $user) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
    & userdel --remove $user 2>$null
    Remove-Item $userHome -Recurse -Force -ErrorAction SilentlyContinue
    if ($tunMode -ne '666') { & chmod $tunMode /dev/net/tun }
    # The copy of the module the bench user ran (Get-TestModulePathForUsers), as the test run removes it.
    Remove-TestModuleCopy
}
