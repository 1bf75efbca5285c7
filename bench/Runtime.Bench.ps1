<#
.SYNOPSIS
    Runtime benchmark, side by side in one run: create + start + wait + remove of busybox /bin/true
    through the module (warm session) against `crun run` and `runc run` of the same rootfs; Get-Container
    with 1,000 containers; resident memory of an idle container's monitor.
.EXAMPLE
    dotnet pwsh bench/Runtime.Bench.ps1 -Runs 20
.NOTES
    Root only. crun 1.8 refuses this host's hybrid cgroup layout (its cgroup2 mount has a controller),
    so crun runs in a private mount namespace where /sys/fs/cgroup/unified/cgroup.controllers is masked
    by /dev/null; nothing changes on the host. Peers run via unshare/mount here because this is a bench,
    not the runtime (the runtime itself never runs them).
#>
param([int] $Runs = 20, [int] $Containers = 1000, [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Containers/Containers.psd1'))
$ErrorActionPreference = 'Stop'
if ((id -u) -ne '0') { throw 'run as root' }
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1')
$root = New-TestRoot -Name bench
try {
    Import-Module $ModulePath
    Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/BusyboxImage.psm1')
    $image = Import-BusyboxImage

    # A plain bundle for the peers: the image's single layer copied as rootfs, config from `crun spec`.
    $bundle = Join-Path $root 'bundle'
    New-Item -ItemType Directory "$bundle/rootfs" -Force | Out-Null
    $probe = New-Container -Image busybox -Command /bin/true
    $layers = (Get-Content (Join-Path $env:PSCONTAINERS_DATA_DIR "containers/$($probe.Id)/container.json") -Raw | ConvertFrom-Json).layerDirectories
    Remove-Container $probe.Name
    foreach ($layer in $layers) { & cp -a "$layer/." "$bundle/rootfs/" }
    Push-Location $bundle; & crun spec; Pop-Location
    $spec = Get-Content "$bundle/config.json" -Raw | ConvertFrom-Json
    $spec.process.args = @('/bin/true'); $spec.process.terminal = $false
    $spec.process.rlimits = @(@{ type = 'RLIMIT_NOFILE'; hard = 1024; soft = 1024 })
    $spec | ConvertTo-Json -Depth 20 | Set-Content "$bundle/config.json"

    function Measure-Ms([scriptblock] $Block, [int] $Count) {
        & $Block; & $Block # warm-up
        $times = foreach ($i in 1..$Count) { (Measure-Command $Block).TotalMilliseconds }
        $sorted = $times | Sort-Object
        [math]::Round($sorted[[int][math]::Floor($sorted.Count / 2)], 2)
    }

    $unified = '/sys/fs/cgroup/unified/cgroup.controllers'
    $maskCrun = (Test-Path $unified) -and (Get-Content $unified -Raw).Trim()
    $crun = if ($maskCrun) {
        { & unshare -m --propagation private -- sh -c "mount --bind /dev/null $unified && exec crun run -b '$bundle' bench-crun-$PID" | Out-Null }
    } else { { & crun run -b $bundle "bench-crun-$PID" | Out-Null } }
    $results = [ordered]@{}
    $results.crunRunMs = Measure-Ms $crun $Runs
    $results.runcRunMs = Measure-Ms { & runc run -b $bundle "bench-runc-$PID" | Out-Null } $Runs
    $results.moduleRunMs = Measure-Ms { New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container } $Runs
    $results.ratioModuleToCrun = [math]::Round($results.moduleRunMs / $results.crunRunMs, 2)

    # Get-Container with N records (copies of one exited container's record and state).
    $c = New-Container -Image busybox -Command /bin/true
    $c | Start-Container -Wait | Out-Null
    $dir = Join-Path $env:PSCONTAINERS_DATA_DIR 'containers'
    $json = Get-Content "$dir/$($c.Id)/container.json" -Raw
    $state = Get-Content "$dir/$($c.Id)/state.json" -Raw
    foreach ($i in 2..$Containers) {
        $id = [Convert]::ToHexString([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32)).ToLowerInvariant()
        New-Item -ItemType Directory "$dir/$id" | Out-Null
        [IO.File]::WriteAllText("$dir/$id/container.json", $json.Replace($c.Id, $id).Replace("`"$($c.Name)`"", "`"bench$i`""))
        [IO.File]::WriteAllText("$dir/$id/state.json", $state.Replace($c.Id, $id))
    }
    $results.getContainerCount = @(Get-Container).Count
    $results.getContainerMs = Measure-Ms { Get-Container | Out-Null } 5
    Get-ChildItem $dir -Directory | Where-Object Name -ne $c.Id | Remove-Item -Recurse -Force

    # Resident memory of an idle container's monitor.
    # Two idle containers: with a second monitor mapping the same binary, its pages count as shared, and
    # Private is what one more container adds (with a single monitor the binary's clean pages are 'private').
    $idle = New-Container -Image busybox -Command sleep, 300 | Start-Container -PassThru
    $idle2 = New-Container -Image busybox -Command sleep, 300 | Start-Container -PassThru
    Start-Sleep -Milliseconds 300
    $rss = (Get-Content "/proc/$($idle.MonitorPid)/status" | Where-Object { $_ -like 'VmRSS:*' }) -replace '\D', ''
    $results.idleMonitorRssKiB = [int]$rss
    # VmRSS (the measure the issue gives for conmon) counts every mapped page, including the clean pages of
    # libc and of the monitor binary that all monitors share through the page cache. Pss splits shared pages
    # among the processes that map them; Private (USS) is what one more idle container really adds.
    $rollup = Get-Content "/proc/$($idle.MonitorPid)/smaps_rollup"
    function Get-Kib([string] $Key) { [int](($rollup | Where-Object { $_ -like "${Key}:*" }) -replace '\D', '') }
    $results.idleMonitorPssKiB = Get-Kib 'Pss'
    $results.idleMonitorPrivateKiB = (Get-Kib 'Private_Clean') + (Get-Kib 'Private_Dirty')
    $results.idleMonitorNote = 'RSS = VmRSS incl. libc/binary pages all monitors share; Private = USS with 2 idle monitors = cost of one more'
    Remove-Container $idle.Name, $idle2.Name -Force -Confirm:$false
    Get-Container | Remove-Container -Force -Confirm:$false

    [pscustomobject]$results
}
finally { Remove-TestRoot $root }
