<#
.SYNOPSIS
    Pull benchmark: Install-ContainerImage against skopeo copy + umoci unpack (and podman pull when
    podman is installed), side by side in one run against the project's loopback registry fixture.
.DESCRIPTION
    Cases: the six-layer 64 MiB image into an empty store, the 200-layer image into an empty store,
    and a no-op re-pull (everything present). Each case runs one warm-up and then -Runs rounds; within a
    round ours and each peer run one after the other (interleaved, so a change of load on a shared host
    hits all of them alike), in a new order each round and each after a sync (no run pays for another's
    writeback). Ours pulls in a warm pwsh of its own (a worker fed one reference at a time, which first makes
    -WarmPulls untimed pulls), not in the bench's session, which runs the peers and this script. The table shows medians and best, the ratio
    ours/peer of the medians (lower is better for us), and the load before and after. A second table gives,
    per case and client, the client's and the registry's CPU time per pull (from /proc: the worker's for a
    build, this session's reaped children for the peers): the registry runs on the same cores, and on a
    2-CPU host its work for a 200-layer pull exceeds ours, so it bounds the wall time.
    With -BaselineModulePath, another build (a copy of main's module) pulls in a worker of its own in the same
    rounds, and each case gets a row ours / baseline: an interleaved before/after on a shared host.
    Every store (ours and the peers') is a fresh directory and the old ones are removed only at the end:
    on ext4 without a journal a freshly deleted tree makes every new inode in its group cost more for a
    few seconds to minutes (recently_deleted), which would charge one run's clean-up to the next.
    A last client sets the registry's own floor: curl fetching the same manifest, config and blobs to /dev/null over
    as many connections as the module uses (16 for many small layers, 4 for big ones), storing nothing. On this 2-CPU
    host the registry spent 2.6-4.3 ms of CPU per blob request (measured), so that floor for the 200-layer image is most of the
    pull: a row ours / that floor says how much of a pull's time is the client's.
    The header also states what writing 64 MiB into new page cache cost before and after the rounds
    (bench/HostState.psm1): on a VM that hands free memory back to its host that cost can be 15x a memory copy and
    is most of a 64 MiB pull's; -WarmPageCache measures every run in the cheap regime instead, as on bare metal.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $Runs = 3,
    # Which empty-store cases to run (the no-op re-pull always runs).
    [ValidateSet('layers', 'deep')] [string[]] $Image = @('layers', 'deep'),
    # Measure only ours (quick before/after of one change); the full table needs the peers.
    [switch] $SkipPeers,
    # Another build's module (e.g. a copy of main's out/Containers): it pulls in a worker of its own, in the same
    # interleaved rounds as ours, and each case gets a row ours / baseline.
    [string] $BaselineModulePath,
    # Untimed pulls of the 200-layer image each build's worker makes before the rounds. A session's pulls run while the
    # JIT recompiles the methods they use (100-450 ms of CPU per pull on a background thread): with one warm-up round two
    # identical builds measured 1.48x and 0.89x of each other in one run. A method called once per pull is recompiled
    # twice, after ~30 and ~60 calls (tiered PGO): after 25 warm pulls the worker still JIT-compiled 1,036 methods in the
    # nine six-layer rounds (client CPU 170 ms a pull, median), after 80 it compiled 29 (150 ms). The CPU table gives
    # what each worker compiled during the measured rounds. 0 measures a young session.
    [int] $WarmPulls = 80,
    # Before each timed run, write and remove a scratch file, so that run's stores land in memory the guest has just
    # used: on a VM that hands free memory back to its host, new page cache otherwise costs up to 15x a memory copy
    # (bench/HostState.psm1), a cost of the VM's, not of the tools measured.
    [switch] $WarmPageCache
)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path $ModulePath).Path
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1') -Force
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/Registry.psm1') -Force
Import-Module (Join-Path $PSScriptRoot 'HostState.psm1') -Force
$root = New-TestRoot -Name bench
$fx = Start-TestRegistry -ConfigDir $env:PSCONTAINERS_CONFIG_DIR -All

# Each build pulls in a warm pwsh of its own: two builds of the module cannot share a session, and this way both are
# measured alike, away from the bench's own session (which runs the peers, collects their output and runs this script).
# One request a line on its standard input (reference, data directory), answered when done with how many methods the
# worker has JIT-compiled so far.
function Start-PullWorker([string] $Module) {
    if (Test-Path $Module -PathType Container) { $Module = Join-Path $Module 'Containers.psd1' }
    $psi = [Diagnostics.ProcessStartInfo]::new((Get-TestPwsh))
    foreach ($a in '-NoProfile', '-NonInteractive', '-Command', "`$ErrorActionPreference = 'Stop'; Import-Module '$Module' | Out-Null; while (`$null -ne (`$l = [Console]::In.ReadLine())) { `$r, `$env:PSCONTAINERS_DATA_DIR = `$l.Split([char]9); Install-ContainerImage `$r -ProgressAction SilentlyContinue | Out-Null; [Console]::Out.WriteLine('done ' + [System.Runtime.JitInfo]::GetCompiledMethodCount(`$false)); [Console]::Out.Flush() }") { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true
    [Diagnostics.Process]::Start($psi)
}
$ours = Start-PullWorker $ModulePath
$baseline = if ($BaselineModulePath) { Start-PullWorker (Resolve-Path $BaselineModulePath).Path } else { $null }
$A = $fx.Anonymous.Host
$registryPid = $fx.Anonymous.Process.Id
$cpu = @{}
$cpuRows = [System.Collections.Generic.List[object]]::new()
# Case name -> methods its build's worker JIT-compiled during the measured rounds (a settled session compiles few).
$jitDuring = @{}
$podman = Get-Command podman -CommandType Application -ErrorAction SilentlyContinue

# CPU time (ms) of a process from /proc: its own (utime + stime), or with -Children that of its children it has
# waited for (cutime + cstime). Clock ticks of 10 ms.
function Get-CpuMs([int] $ProcessId, [switch] $Children) {
    $f = ((Get-Content "/proc/$ProcessId/stat" -Raw) -replace '^.*\) ', '').Split(' ')
    $i = if ($Children) { 13 } else { 11 }
    ([long]$f[$i] + [long]$f[$i + 1]) * 1000 / 100
}

# Where each case's client runs: its build's worker (ours, baseline), or child processes of this session (the peers).
function Get-CaseWorker([string] $Name) { if ($Name -eq 'ours') { $ours } elseif ($Name -eq 'baseline') { $baseline } }
function Get-ClientCpuMs([string] $Name) {
    if ($worker = Get-CaseWorker $Name) { return Get-CpuMs $worker.Id }
    Get-CpuMs $PID -Children
}

# Runs each named action once per round (round 0 is the warm-up); returns name -> sorted samples (ms). The
# client's and the registry's CPU time of each measured run go to $script:cpu (name -> samples): the registry runs on
# the same cores, so on a small host its work for a pull bounds the pull's time as much as the client's does.
function Measure-Interleaved([System.Collections.Specialized.OrderedDictionary] $Cases) {
    $samples = @{}
    foreach ($name in $Cases.Keys) {
        $samples[$name] = [System.Collections.Generic.List[double]]::new()
        $script:cpu[$name] = [System.Collections.Generic.List[object]]::new()
    }
    $jitBefore = @{}
    foreach ($i in 0..$Runs) {
        if ($i -eq 1) { foreach ($name in $Cases.Keys) { if ($worker = Get-CaseWorker $name) { $jitBefore[$name] = $script:workerJit[$worker.Id] } } }
        # A new order each round, after the previous run's writes are flushed: in a fixed order the case after podman's
        # pull met its writeback every round (this module's 200-layer pull measured 1.10x an identical baseline build).
        foreach ($name in @($Cases.Keys | Get-Random -Shuffle)) {
            $prepare, $action = $Cases[$name]
            if ($prepare) { & $prepare }
            sync
            if ($WarmPageCache) { Initialize-PageCachePool $root }
            $client0 = Get-ClientCpuMs $name; $registry0 = Get-CpuMs $registryPid
            $sw = [Diagnostics.Stopwatch]::StartNew()
            & $action | Out-Null
            $sw.Stop()
            if ($i -gt 0) {
                $samples[$name].Add($sw.Elapsed.TotalMilliseconds)
                $script:cpu[$name].Add([pscustomobject]@{ Client = (Get-ClientCpuMs $name) - $client0; Registry = (Get-CpuMs $registryPid) - $registry0 })
            }
        }
    }
    foreach ($name in $jitBefore.Keys) { $script:jitDuring[$name] = $script:workerJit[(Get-CaseWorker $name).Id] - $jitBefore[$name] }
    $result = @{}
    foreach ($name in $Cases.Keys) { $result[$name] = @($samples[$name] | Sort-Object) }
    return $result
}

function Get-Median([double[]] $Sorted) { $Sorted[[int][Math]::Floor($Sorted.Count / 2)] }

function Invoke-Peer([string] $File, [string[]] $Arguments) {
    $env:REGISTRY_AUTH_FILE, $saved = $null, $env:REGISTRY_AUTH_FILE
    try {
        & $File @Arguments | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') exited with $LASTEXITCODE" }
    }
    finally { $env:REGISTRY_AUTH_FILE = $saved }
}

# A fresh directory per run; the old ones go at the end (see .DESCRIPTION).
$n = 0
function New-RunDir([string] $Prefix) { $script:n++; return Join-Path $root "$Prefix-$script:n" }
# Methods each worker (by process id) had JIT-compiled at its last answer.
$workerJit = @{}
# A pull by a build's worker into a data directory (a fresh one unless given).
function Invoke-Worker([Diagnostics.Process] $Worker, [string] $Ref, [string] $DataDir = (New-RunDir 'data')) {
    $Worker.StandardInput.WriteLine("$Ref`t$DataDir")
    $answer = $Worker.StandardOutput.ReadLine()
    if ($answer -notlike 'done *') { throw "the pull of $Ref in the worker $($Worker.Id) failed (its session ended)" }
    $script:workerJit[$Worker.Id] = [long]$answer.Substring(5)
}
function Clear-Peer { $script:peerDir = New-RunDir 'peer'; New-Item -ItemType Directory $script:peerDir | Out-Null }

# The registry's floor for an image: a curl config that fetches its manifest, config and every layer to /dev/null, and
# the module's parallelism for those layers (ImagePuller.AutoParallelism: 16 when most are under 1 MiB, else 4).
function New-FetchConfig([string] $Repository) {
    $accept = 'application/vnd.oci.image.manifest.v1+json'
    $manifest = & curl -sf -H "Accept: $accept" "http://$A/v2/$Repository/manifests/latest" | ConvertFrom-Json
    if ($LASTEXITCODE -ne 0 -or -not $manifest.layers) { throw "no OCI manifest for $A/$Repository" }
    $file = Join-Path $root "fetch-$Repository.curl"
    $lines = @("url = `"http://$A/v2/$Repository/manifests/latest`"", "header = `"Accept: $accept`"", 'output = "/dev/null"')
    foreach ($d in @($manifest.config.digest) + @($manifest.layers.digest)) { $lines += "url = `"http://$A/v2/$Repository/blobs/$d`"", 'output = "/dev/null"' }
    $lines | Set-Content $file
    $small = @($manifest.layers | Where-Object size -lt 1MB).Count
    [pscustomobject]@{ File = $file; Parallel = if ($small * 2 -gt $manifest.layers.Count) { 16 } else { 4 } }
}

$rows = [System.Collections.Generic.List[object]]::new()
function Add-Row([string] $Case, [double[]] $Ours, [string] $PeerName, [double[]] $Peer) {
    $o = Get-Median $Ours
    $p = if ($Peer) { Get-Median $Peer } else { $null }
    $rows.Add([pscustomobject]@{
        Case        = $Case
        'Ours (ms)' = ('{0:0} (best {1:0})' -f $o, $Ours[0])
        Peer        = $PeerName
        'Peer (ms)' = if ($null -ne $p) { ('{0:0} (best {1:0})' -f $p, $Peer[0]) } else { '-' }
        'Ours/Peer' = if ($p) { '{0:0.00}x' -f ($o / $p) } else { '-' }
    })
}

# The CPU table: per case and client, the medians of the client's and the registry's CPU time per pull, and what the
# two together leave as the shortest pull these cores could give (their sum over the CPU count).
$clientNames = @{ ours = 'this module'; baseline = 'baseline build'; skopeo = 'skopeo copy'; both = 'skopeo copy + umoci unpack'; podman = 'podman pull'; fetch = 'curl, blobs to /dev/null' }
function Add-CpuRows([string] $Case, [object] $Names, [hashtable] $Walls) {
    foreach ($name in $Names) {
        $client = Get-Median @($script:cpu[$name].Client | Sort-Object)
        $registry = Get-Median @($script:cpu[$name].Registry | Sort-Object)
        $script:cpuRows.Add([pscustomobject]@{
            Case = $Case; Client = $clientNames[$name]; 'Wall (ms)' = '{0:0}' -f (Get-Median $Walls[$name])
            'Client CPU (ms)' = '{0:0}' -f $client; 'Registry CPU (ms)' = '{0:0}' -f $registry
            'CPU floor (ms)' = '{0:0}' -f (($client + $registry) / [Environment]::ProcessorCount)
            'JIT-compiled in the rounds' = if ($script:jitDuring.ContainsKey($name)) { $script:jitDuring[$name] } else { '-' }
        })
    }
}

$loadBefore = Get-HostLoad

try {
    # Each worker's tier-up before the rounds (see -WarmPulls); untimed, one worker after the other.
    foreach ($worker in @($ours, $baseline) -ne $null) { for ($k = 0; $k -lt $WarmPulls; $k++) { Invoke-Worker $worker "$A/deep:latest" } }
    $writeBefore = Measure-PageCacheWrite $root
    if ($podman) {
        # podman configured entirely by files of this run: the host's /etc/containers and podman's own storage are not touched
        $pc = Join-Path $root 'podman-conf'
        New-Item -ItemType Directory $pc -Force | Out-Null
        @('[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', "events_logfile_path = `"$pc/events.log`"", "tmp_dir = `"$pc/tmp`"") | Set-Content "$pc/containers.conf"
        @('[storage]', 'driver = "overlay"', "graphroot = `"$root/podman/root`"", "runroot = `"$root/podman/run`"") | Set-Content "$pc/storage.conf"
        @('unqualified-search-registries = []', '[[registry]]', "location = `"$A`"", 'insecure = true') | Set-Content "$pc/registries.conf"
    }
    foreach ($image in $Image) {
        $ref = "$A/$($image):latest"
        $label = if ($image -eq 'layers') { '6 layers, 64 MiB, empty store' } else { '200 layers, empty store' }
        $cases = [ordered]@{ ours = @($null, { Invoke-Worker $ours $ref }) }
        if ($baseline) { $cases['baseline'] = @($null, { Invoke-Worker $baseline $ref }) }
        if (-not $SkipPeers) {
            $cases['skopeo'] = @({ Clear-Peer }, { Invoke-Peer skopeo @('copy', '--quiet', '--src-tls-verify=false', "docker://$ref", "oci:$peerDir/oci:latest") })
            $cases['both'] = @({ Clear-Peer }, {
                Invoke-Peer skopeo @('copy', '--quiet', '--src-tls-verify=false', "docker://$ref", "oci:$peerDir/oci:latest")
                Invoke-Peer umoci @('unpack', '--image', "$peerDir/oci:latest", "$peerDir/bundle")
            })
            $fetch = New-FetchConfig $image
            # curl 7.88 draws its --parallel progress meter despite -s: stderr goes away (a failure still exits non-zero).
            $cases['fetch'] = @($null, { Invoke-Peer curl @('-sf', '--stderr', '/dev/null', '--parallel', '--parallel-max', $fetch.Parallel, '--config', $fetch.File) })
            if ($podman) {
                $cases['podman'] = @({ $script:pd = New-RunDir 'podman' }, {
                    $env:CONTAINERS_CONF = "$pc/containers.conf"; $env:CONTAINERS_STORAGE_CONF = "$pc/storage.conf"; $env:CONTAINERS_REGISTRIES_CONF = "$pc/registries.conf"
                    try { Invoke-Peer podman @('--root', "$pd/root", '--runroot', "$pd/run", 'pull', '-q', $ref) }
                    finally { Remove-Item env:CONTAINERS_CONF, env:CONTAINERS_STORAGE_CONF, env:CONTAINERS_REGISTRIES_CONF -ErrorAction SilentlyContinue }
                })
            }
        }
        $t = Measure-Interleaved $cases
        Add-CpuRows $label $cases.Keys $t
        if ($baseline) { Add-Row $label $t.ours 'baseline build' $t.baseline }
        if ($SkipPeers) { Add-Row $label $t.ours '(peers skipped)' $null; continue }
        Add-Row $label $t.ours 'skopeo copy (OCI dir)' $t.skopeo
        Add-Row $label $t.ours 'skopeo copy + umoci unpack' $t.both
        if ($podman) { Add-Row $label $t.ours 'podman pull' $t.podman } else { Add-Row $label $t.ours 'podman pull (not installed)' $null }
        Add-Row $label $t.ours "registry floor: curl, blobs to /dev/null, $($fetch.Parallel) at once" $t.fetch
    }
    # no-op: the image is present (pull once, then measure)
    $present = New-RunDir 'data'
    Invoke-Worker $ours "$A/layers:latest" $present
    Clear-Peer
    $noop = [ordered]@{ ours = @($null, { Invoke-Worker $ours "$A/layers:latest" $present }) }
    if (-not $SkipPeers) { $noop['skopeo'] = @($null, { Invoke-Peer skopeo @('copy', '--quiet', '--src-tls-verify=false', "docker://$A/layers:latest", "oci:$peerDir/oci:latest") }) }
    $t = Measure-Interleaved $noop
    Add-Row 'no-op re-pull (all present)' $t.ours 'skopeo copy to the same OCI dir' $t.skopeo

    $writeAfter = Measure-PageCacheWrite $root
    Write-Host ''
    Write-Host "Pull benchmark (median and best of $Runs interleaved rounds after a warm-up; registry on loopback; $([Environment]::ProcessorCount) cpus; load $loadBefore before, $(Get-HostLoad) after; 64 MiB into new page cache $('{0:0}' -f $writeBefore) ms before, $('{0:0}' -f $writeAfter) ms after: see bench/HostState.psm1)"
    $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    Write-Host "CPU per pull (medians; the registry shares this host's $([Environment]::ProcessorCount) cpus, so its work for a pull bounds the pull too; a build's client CPU is its worker's, after $WarmPulls untimed pulls; JIT-compiled: methods the worker compiled during the measured rounds)"
    $cpuRows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    Write-Host 'Targets (issue 14): 200-layer pull < 400 ms; 6-layer pull <= 0.25x podman pull; no-op < 100 ms. The cold first pull (<= 0.5x skopeo + umoci) is in FirstCall.Bench.ps1.'
}
finally {
    foreach ($worker in @($ours, $baseline) -ne $null) { $worker.StandardInput.Close(); $worker.WaitForExit() }
    Stop-TestRegistry
    Remove-TestRoot $root
}
