<#
.SYNOPSIS
    Pull benchmark: Install-ContainerImage against skopeo copy + umoci unpack (and podman pull when
    podman is installed), side by side in one run against the project's loopback registry fixture.
.DESCRIPTION
    Cases: the six-layer 64 MiB image into an empty store, the 200-layer image into an empty store,
    and a no-op re-pull (everything present). Each case runs -Runs times after one warm-up; the table
    shows medians and the ratio ours/peer (lower is better for us).
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $Runs = 3,
    # Which empty-store cases to run (the no-op re-pull always runs).
    [ValidateSet('layers', 'deep')] [string[]] $Image = @('layers', 'deep'),
    # Measure only ours (quick before/after of one change); the full table needs the peers.
    [switch] $SkipPeers
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1') -Force
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/Registry.psm1') -Force
$root = New-TestRoot -Name bench
$fx = Start-TestRegistry -ConfigDir $env:PSCONTAINERS_CONFIG_DIR -All
Import-Module (Join-Path $ModulePath 'Containers.psd1') -Force
$A = $fx.Anonymous.Host
$podman = Get-Command podman -CommandType Application -ErrorAction SilentlyContinue

function Measure-Median([scriptblock] $Prepare, [scriptblock] $Action) {
    $times = foreach ($i in 0..$Runs) {
        if ($Prepare) { & $Prepare }
        $sw = [Diagnostics.Stopwatch]::StartNew()
        & $Action | Out-Null
        $sw.Stop()
        if ($i -gt 0) { $sw.Elapsed.TotalMilliseconds } # run 0 is the warm-up
    }
    $sorted = @($times | Sort-Object)
    return $sorted[[int][Math]::Floor($sorted.Count / 2)]
}

function Invoke-Peer([string] $File, [string[]] $Arguments) {
    $env:REGISTRY_AUTH_FILE, $saved = $null, $env:REGISTRY_AUTH_FILE
    try {
        & $File @Arguments | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') exited with $LASTEXITCODE" }
    }
    finally { $env:REGISTRY_AUTH_FILE = $saved }
}

$n = 0
function New-EmptyStore {
    $script:n++
    $old = $env:PSCONTAINERS_DATA_DIR
    $env:PSCONTAINERS_DATA_DIR = Join-Path $root "data-$script:n"
    if ($old -and (Test-Path $old)) { Remove-Item $old -Recurse -Force }
}

$peerDir = Join-Path $root 'peer'
function Clear-Peer { if (Test-Path $peerDir) { Remove-Item $peerDir -Recurse -Force }; New-Item -ItemType Directory $peerDir | Out-Null }

$rows = [System.Collections.Generic.List[object]]::new()
function Add-Row([string] $Case, [double] $Ours, [string] $PeerName, $Peer) {
    $rows.Add([pscustomobject]@{
        Case  = $Case
        'Ours (ms)' = [Math]::Round($Ours, 0)
        Peer  = $PeerName
        'Peer (ms)' = if ($null -ne $Peer) { [Math]::Round($Peer, 0) } else { '-' }
        'Ours/Peer' = if ($Peer) { '{0:0.00}x' -f ($Ours / $Peer) } else { '-' }
    })
}

try {
    foreach ($image in $Image) {
        $ref = "$A/$($image):latest"
        $label = if ($image -eq 'layers') { '6 layers, 64 MiB, empty store' } else { '200 layers, empty store' }
        $ours = Measure-Median { New-EmptyStore } { Install-ContainerImage $ref -ProgressAction SilentlyContinue }
        if ($SkipPeers) { Add-Row $label $ours '(peers skipped)' $null; continue }
        $skopeo = Measure-Median { Clear-Peer } { Invoke-Peer skopeo @('copy', '--quiet', '--src-tls-verify=false', "docker://$ref", "oci:$peerDir/oci:latest") }
        $both = Measure-Median { Clear-Peer } {
            Invoke-Peer skopeo @('copy', '--quiet', '--src-tls-verify=false', "docker://$ref", "oci:$peerDir/oci:latest")
            Invoke-Peer umoci @('unpack', '--image', "$peerDir/oci:latest", "$peerDir/bundle")
        }
        Add-Row $label $ours 'skopeo copy (OCI dir)' $skopeo
        Add-Row $label $ours 'skopeo copy + umoci unpack' $both
        if ($podman) {
            # podman configured entirely by files of this run: the host's /etc/containers and podman's own storage are not touched
            $pd = Join-Path $root 'podman'
            $pc = Join-Path $root 'podman-conf'
            New-Item -ItemType Directory $pc -Force | Out-Null
            @('[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', "events_logfile_path = `"$pc/events.log`"", "tmp_dir = `"$pc/tmp`"") | Set-Content "$pc/containers.conf"
            @('[storage]', 'driver = "overlay"', "graphroot = `"$pd/root`"", "runroot = `"$pd/run`"") | Set-Content "$pc/storage.conf"
            @('unqualified-search-registries = []', '[[registry]]', "location = `"$A`"", 'insecure = true') | Set-Content "$pc/registries.conf"
            $env:CONTAINERS_CONF = "$pc/containers.conf"; $env:CONTAINERS_STORAGE_CONF = "$pc/storage.conf"; $env:CONTAINERS_REGISTRIES_CONF = "$pc/registries.conf"
            try {
                $pod = Measure-Median { if (Test-Path $pd) { Remove-Item $pd -Recurse -Force } } {
                    Invoke-Peer podman @('--root', "$pd/root", '--runroot', "$pd/run", 'pull', '-q', $ref)
                }
            }
            finally { Remove-Item env:CONTAINERS_CONF, env:CONTAINERS_STORAGE_CONF, env:CONTAINERS_REGISTRIES_CONF -ErrorAction SilentlyContinue }
            Add-Row $label $ours 'podman pull' $pod
        }
        else { Add-Row $label $ours 'podman pull (not installed)' $null }
    }
    # no-op: the image is present (the last layers run's store is gone; pull once, then measure)
    New-EmptyStore
    $null = Install-ContainerImage "$A/layers:latest" -ProgressAction SilentlyContinue
    $noop = Measure-Median $null { Install-ContainerImage "$A/layers:latest" -ProgressAction SilentlyContinue }
    $skopeoNoop = if ($SkipPeers) { $null } else { Measure-Median { } { Invoke-Peer skopeo @('copy', '--quiet', '--src-tls-verify=false', "docker://$A/layers:latest", "oci:$peerDir/oci:latest") } }
    Add-Row 'no-op re-pull (all present)' $noop 'skopeo copy to the same OCI dir' $skopeoNoop

    Write-Host ''
    Write-Host "Pull benchmark (median of $Runs runs after a warm-up; registry on loopback)"
    $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    Write-Host 'Targets: 6-layer pull <= 0.5x skopeo+umoci and <= 0.5x podman; 200-layer pull < 1000 ms; no-op < 100 ms.'
}
finally {
    Stop-TestRegistry
    Remove-TestRoot $root
}
