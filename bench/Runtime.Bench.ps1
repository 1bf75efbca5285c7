<#
.SYNOPSIS
    Runtime benchmark, side by side in one run: create + start + wait + remove of busybox /bin/true through the
    module (from a warm pwsh session) against `crun run`, `runc run` (same rootfs, bundle from `crun spec`) and
    `podman run --rm` (same image); Get-Container with 10,000 containers; resident memory of an idle container's
    monitor next to podman's conmon.
.DESCRIPTION
    The peers are timed by hyperfine (its shell start-up subtracted), the module by Measure-Command in this warm
    session. To keep a loaded host fair to every contender, the measurements are interleaved: -Rounds rounds, each
    running every contender for Runs/Rounds iterations; the table pools all samples (median, mean, min, max).
    CpuMs is the mean CPU time (user + system, children included) per run: hyperfine's for the peers, this process's
    and its reaped children's (the monitors) for the module, also shown split in two; on a busy host it is steadier
    than wall time.
    Warm means warm: a new pwsh keeps compiling .NET's, PowerShell's and the module's hot code on a background thread
    long after its first runs. Tiered PGO moves ReadyToRun code through an instrumented tier before the final one, and
    every method compiled for the first time postpones the next promotions by 100 ms, so back-to-back runs keep the JIT
    busy for ~1,700 runs (measured with [System.Runtime.JitInfo]: 300-1,100 methods and 1.5-7 ms of JIT per 100 runs
    until then, pwsh CPU 6-9 ms per run; afterwards < 25 methods per 100 runs and 3.2-3.9 ms). So the module is
    measured after at least -WarmUp runs and then until a block of 100 runs JITs fewer than 40 methods (at most
    twice -WarmUp); the bench prints how many runs that took.
    Two contenders show the way there: the session's first runs (right after Import-Module and two runs) and the runs
    after 500 warm-up runs, when the JIT is still promoting.
    Targets of issue 14, as ratios of medians in the same run: module / crun <= 1.0 and podman / module >= 5.
.EXAMPLE
    dotnet pwsh bench/Runtime.Bench.ps1 -Runs 30
.NOTES
    Root only; needs hyperfine, crun, runc and podman (build/apt-packages.txt). crun 1.8 refuses this host's hybrid
    cgroup layout (its cgroup2 mount has a controller), so crun (and podman with crun) run in a private mount
    namespace where /sys/fs/cgroup/unified/cgroup.controllers is masked by /dev/null; nothing changes on the host.
    podman is configured only by files in the bench's temp dir (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF,
    CONTAINERS_REGISTRIES_CONF): its storage lives there and is removed at the end; the host's /etc/containers and
    podman's default storage are never touched. The image reaches podman as an oci-archive saved by the module.
    Peers run via unshare/mount here because this is a bench, not the runtime (the runtime itself never runs them).
#>
param(
    [int] $Runs = 30,
    [int] $Rounds = 3,
    [int] $Containers = 10000,
    # Runs before the measured rounds, at least; then more until tiered compilation has settled (see the description).
    [int] $WarmUp = 2000,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Containers/Containers.psd1'),
    [switch] $SkipPodman,
    # Also write the results as an object (for scripts); the tables are always printed.
    [switch] $PassThru
)
$ErrorActionPreference = 'Stop'
if ((id -u) -ne '0') { throw 'run as root' }
foreach ($tool in 'hyperfine', 'crun', 'runc', 'unshare') {
    if (-not (Get-Command $tool -ErrorAction SilentlyContinue)) { throw "missing $tool (see build/apt-packages.txt)" }
}
$ModulePath = (Resolve-Path $ModulePath).Path
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1')
Import-Module (Join-Path $PSScriptRoot 'HostState.psm1')
$root = New-TestRoot -Name bench
$podman = $null
try {
    Import-Module $ModulePath
    Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/BusyboxImage.psm1')
    $image = Import-BusyboxImage
    $perRound = [math]::Max(1, [int][math]::Ceiling($Runs / $Rounds))

    # A plain bundle for the peers: the image's layer copied as rootfs, config from `crun spec` (as peers.sh).
    $bundle = Join-Path $root 'bundle'
    New-Item -ItemType Directory "$bundle/rootfs" -Force | Out-Null
    $probe = New-Container -Image busybox -Command /bin/true
    $layers = (Get-Content (Join-Path $env:PSCONTAINERS_DATA_DIR "containers/$($probe.Id)/container.json") -Raw | ConvertFrom-Json).layerDirectories
    Remove-Container $probe.Name
    foreach ($layer in $layers) { & cp -a "$layer/." "$bundle/rootfs/" }
    foreach ($d in 'proc', 'sys', 'dev') { New-Item -ItemType Directory "$bundle/rootfs/$d" -Force | Out-Null }
    Push-Location $bundle; & crun spec; Pop-Location
    $spec = Get-Content "$bundle/config.json" -Raw | ConvertFrom-Json
    $spec.process.args = @('/bin/true'); $spec.process.terminal = $false
    $spec.process.rlimits = @(@{ type = 'RLIMIT_NOFILE'; hard = 1024; soft = 1024 })
    $spec | ConvertTo-Json -Depth 20 | Set-Content "$bundle/config.json"

    # crun 1.8 needs the cgroup2 controller list masked on this hybrid host: hyperfine itself runs in that namespace.
    $unified = '/sys/fs/cgroup/unified/cgroup.controllers'
    $mask = (Test-Path $unified) -and (Get-Content $unified -Raw).Trim()
    $samples = [ordered]@{}
    $cpu = @{} # contender -> [total CPU ms (user + system, children included), runs]
    function Add-Samples([string] $Name, [double[]] $Ms, [double] $CpuMs) {
        if (-not $samples.Contains($Name)) { $samples[$Name] = [System.Collections.Generic.List[double]]::new(); $cpu[$Name] = @(0.0, 0) }
        $samples[$Name].AddRange($Ms)
        $cpu[$Name] = @(($cpu[$Name][0] + $CpuMs), ($cpu[$Name][1] + $Ms.Count))
    }
    # CPU time of this process and of its reaped children (the monitors), in ms: /proc/self/stat utime stime cutime cstime;
    # -Children: the reaped children's alone.
    function Get-CpuMs([switch] $Children) {
        $f = (Get-Content /proc/self/stat -Raw).Split(') ')[1].Split(' ')
        $ticks = [long]$f[13] + [long]$f[14]
        if (-not $Children) { $ticks += [long]$f[11] + [long]$f[12] }
        ($ticks * 1000.0) / 100 # USER_HZ = 100
    }
    function Invoke-Hyperfine([string] $Name, [string] $Command, [switch] $Masked, [int] $Count, [int] $Warmup = 2) {
        $json = Join-Path $root "hf-$([guid]::NewGuid().ToString('N').Substring(0, 6)).json"
        $hf = @('hyperfine', '--style', 'none', '--warmup', $Warmup, '--runs', $Count, '--export-json', $json, '-n', $Name, $Command)
        if ($Masked -and $mask) {
            $quoted = ($hf | ForEach-Object { "'" + ($_ -replace "'", "'\''") + "'" }) -join ' '
            & unshare -m --propagation private -- sh -c "mount --bind /dev/null $unified && exec $quoted" | Out-Null
        }
        else { & $hf[0] $hf[1..($hf.Count - 1)] | Out-Null }
        if ($LASTEXITCODE -ne 0) { throw "hyperfine $Name failed ($LASTEXITCODE)" }
        $r = (Get-Content $json -Raw | ConvertFrom-Json).results[0]
        Add-Samples $Name ($r.times | ForEach-Object { $_ * 1000 }) (($r.user + $r.system) * 1000 * $r.times.Count)
    }
    $moduleCpu = @{} # contender -> [pwsh CPU ms, monitors' CPU ms, runs]
    function Measure-Module([int] $Count, [string] $Name = 'module (New | Start -Wait | Remove)') {
        $before = Get-CpuMs; $beforeChildren = Get-CpuMs -Children
        $ms = foreach ($i in 1..$Count) { (Measure-Command { New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container }).TotalMilliseconds }
        $all = (Get-CpuMs) - $before; $children = (Get-CpuMs -Children) - $beforeChildren
        Add-Samples $Name $ms $all
        $m = $moduleCpu[$Name] ?? @(0.0, 0.0, 0)
        $moduleCpu[$Name] = @(($m[0] + $all - $children), ($m[1] + $children), ($m[2] + $Count))
    }

    # podman, configured by files of its own in the bench's temp dir (the tests' fixture module).
    $podmanImage = $null
    if (-not $SkipPodman -and (Get-Command podman -ErrorAction SilentlyContinue)) {
        Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/Podman.psm1')
        $podman = Initialize-TestPodman -Root $root
        $podmanImage = Import-PodmanImage -Podman $podman -Image busybox
    }

    # The session's first runs, then the warm-up (not measured).
    New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container
    New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container
    Measure-Module $perRound "module, the session's first $perRound runs"
    $halfWarm = 'module, after 500 runs (JIT still promoting)'
    $warmed = 0; $jitted = [int]::MaxValue
    while ($warmed -lt 2 * $WarmUp -and ($warmed -lt $WarmUp -or $jitted -ge 40)) {
        if ($warmed -eq 500) { Measure-Module $perRound $halfWarm }
        $before = [System.Runtime.JitInfo]::GetCompiledMethodCount($false)
        foreach ($i in 1..100) { New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container }
        $warmed += 100; $jitted = [System.Runtime.JitInfo]::GetCompiledMethodCount($false) - $before
    }

    foreach ($round in 1..$Rounds) {
        Invoke-Hyperfine 'crun run' "crun run --bundle $bundle bench-crun-`$`$" -Masked -Count $perRound
        Invoke-Hyperfine 'runc run' "runc run --bundle $bundle bench-runc-`$`$" -Count $perRound
        if ($podmanImage) {
            Invoke-Hyperfine 'podman run --rm (runc)' "podman run --rm --runtime runc $podmanImage /bin/true" -Count $perRound -Warmup 1
            Invoke-Hyperfine 'podman run --rm (crun)' "podman run --rm --runtime crun $podmanImage /bin/true" -Masked -Count $perRound -Warmup 1
        }
        # Two warm-up runs per round, as hyperfine does for the peers.
        New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container
        New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container
        Measure-Module $perRound
    }

    function Get-Median([double[]] $Values) {
        $s = $Values | Sort-Object; $n = $s.Count
        if ($n % 2) { $s[($n - 1) / 2] } else { ($s[$n / 2 - 1] + $s[$n / 2]) / 2 }
    }
    $table = foreach ($name in $samples.Keys) {
        $v = $samples[$name]
        [pscustomobject]@{
            Contender = $name
            MedianMs  = [math]::Round((Get-Median $v), 1)
            MeanMs    = [math]::Round(($v | Measure-Object -Average).Average, 1)
            MinMs     = [math]::Round(($v | Measure-Object -Minimum).Minimum, 1)
            MaxMs     = [math]::Round(($v | Measure-Object -Maximum).Maximum, 1)
            Runs      = $v.Count
            CpuMs     = [math]::Round($cpu[$name][0] / $cpu[$name][1], 1)
        }
    }
    $median = @{}; foreach ($row in $table) { $median[$row.Contender] = $row.MedianMs }
    $module = $median['module (New | Start -Wait | Remove)']
    $ratios = [System.Collections.Generic.List[object]]::new()
    $ratios.Add([pscustomobject]@{ Ratio = 'module / crun run'; Value = [math]::Round($module / $median['crun run'], 2); Target = '<= 1.0' })
    $ratios.Add([pscustomobject]@{ Ratio = 'module / runc run'; Value = [math]::Round($module / $median['runc run'], 2); Target = '' })
    $first = "module, the session's first $perRound runs"
    $ratios.Add([pscustomobject]@{ Ratio = "$first / crun run"; Value = [math]::Round($median[$first] / $median['crun run'], 2); Target = '(not warm: tier-1 JIT still running)' })
    if ($median.ContainsKey($halfWarm)) {
        $ratios.Add([pscustomobject]@{ Ratio = "$halfWarm / crun run"; Value = [math]::Round($median[$halfWarm] / $median['crun run'], 2); Target = '(not settled)' })
    }
    $cpuOf = @{}; foreach ($row in $table) { $cpuOf[$row.Contender] = $row.CpuMs }
    $ratios.Add([pscustomobject]@{ Ratio = 'module / crun run, CPU time'; Value = [math]::Round($cpuOf['module (New | Start -Wait | Remove)'] / $cpuOf['crun run'], 2); Target = '(load-independent view)' })
    foreach ($p in 'podman run --rm (runc)', 'podman run --rm (crun)') {
        if ($median.ContainsKey($p)) { $ratios.Add([pscustomobject]@{ Ratio = "$p / module"; Value = [math]::Round($median[$p] / $module, 2); Target = '>= 5' }) }
    }

    # Get-Container with N records (copies of one exited container's record and state).
    $c = New-Container -Image busybox -Command /bin/true
    $c | Start-Container -Wait | Out-Null
    $dir = Join-Path $env:PSCONTAINERS_DATA_DIR 'containers'
    Import-Module (Join-Path $PSScriptRoot 'SyntheticContainers.psm1')
    Copy-ContainerRecord -Container $c -Count $Containers
    # Containers are listed long after they were made: a session keeps what it read only once files are a second old
    # (FileStat.IsRacy), so wait that out, or the "warm" runs right after the copy read records and states again.
    Start-Sleep -Milliseconds 1100
    $listFirstMs = (Measure-Command { $count = @(Get-Container).Count }).TotalMilliseconds
    $target = "bench$([int]($Containers / 2))"
    $listRuns = @{}
    foreach ($i in 1..5) {
        # Interleaved: output discarded, output kept (no formatting either way), one container by name.
        $listRuns['| Out-Null'] += @((Measure-Command { Get-Container | Out-Null }).TotalMilliseconds)
        $listRuns['$x = '] += @((Measure-Command { $x = Get-Container }).TotalMilliseconds)
        $listRuns["-Name $target"] += @((Measure-Command { Get-Container -Name $target | Out-Null }).TotalMilliseconds)
    }
    $listMs = Get-Median $listRuns['| Out-Null']
    $listing = foreach ($k in '| Out-Null', '$x = ', "-Name $target") {
        $v = $listRuns[$k]
        [pscustomobject]@{
            Call = "Get-Container $k"; MedianMs = [math]::Round((Get-Median $v), 1); MinMs = [math]::Round(($v | Measure-Object -Minimum).Minimum, 1)
            Target = if ($k -like '-Name*') { '< 5' } else { '< 100' }
            'Median / target' = [math]::Round((Get-Median $v) / $(if ($k -like '-Name*') { 5 } else { 100 }), 2)
        }
    }
    Get-ChildItem $dir -Directory | Where-Object Name -ne $c.Id | Remove-Item -Recurse -Force
    Remove-Container $c.Name

    # Memory of an idle container's monitor. VmRSS counts every mapped page, including the clean pages of libc and
    # of the binary that all monitors share through the page cache; Pss splits shared pages among the processes
    # mapping them; Private (USS) is what one more idle container adds. Two idle monitors, so the binary's pages
    # count as shared; read after 3 s, when the monitor has given back what starting the container cost.
    function Get-Memory([int] $ProcessId) {
        $status = Get-Content "/proc/$ProcessId/status"
        $rollup = Get-Content "/proc/$ProcessId/smaps_rollup"
        function Kib($Lines, [string] $Key) { [int](($Lines | Where-Object { $_ -like "${Key}:*" } | Select-Object -First 1) -replace '\D', '') }
        [pscustomobject]@{ VmRssKiB = Kib $status 'VmRSS'; PssKiB = Kib $rollup 'Pss'; PrivateKiB = (Kib $rollup 'Private_Clean') + (Kib $rollup 'Private_Dirty') }
    }
    $idle = New-Container -Image busybox -Command sleep, 300 | Start-Container -PassThru
    $idle2 = New-Container -Image busybox -Command sleep, 300 | Start-Container -PassThru
    $conmon = $null
    if ($podmanImage) {
        $cids = @(& podman run -d --rm $podmanImage sleep 300; & podman run -d --rm $podmanImage sleep 300)
    }
    Start-Sleep -Seconds 3
    $memory = [System.Collections.Generic.List[object]]::new()
    foreach ($m in $idle, $idle2) {
        $r = Get-Memory $m.MonitorPid
        $memory.Add([pscustomobject]@{ Process = "pscontainers-init (idle monitor $($m.MonitorPid))"; VmRssKiB = $r.VmRssKiB; PssKiB = $r.PssKiB; PrivateKiB = $r.PrivateKiB })
    }
    $conmons = @()
    if ($podmanImage) {
        foreach ($cid in $cids) {
            $conmonPid = [int](& podman inspect --format '{{.State.ConmonPid}}' $cid)
            $r = Get-Memory $conmonPid
            $conmons += $r
            $memory.Add([pscustomobject]@{ Process = "conmon (podman, idle $conmonPid)"; VmRssKiB = $r.VmRssKiB; PssKiB = $r.PssKiB; PrivateKiB = $r.PrivateKiB })
        }
        & podman rm -f -t 0 @cids | Out-Null
        # Issue 14: every monitor at most conmon's VmRSS and at most twice its Private: the worst monitor against the
        # mean of the conmons.
        $ours = @($memory | Where-Object Process -like 'pscontainers-init*')
        $conmonRss = ($conmons.VmRssKiB | Measure-Object -Average).Average
        $conmonPrivate = ($conmons.PrivateKiB | Measure-Object -Average).Average
        $ratios.Add([pscustomobject]@{ Ratio = 'idle monitor / conmon, VmRSS (worst)'; Value = [math]::Round(($ours.VmRssKiB | Measure-Object -Maximum).Maximum / $conmonRss, 2); Target = '<= 1.0' })
        $ratios.Add([pscustomobject]@{ Ratio = 'idle monitor / conmon, Private (worst)'; Value = [math]::Round(($ours.PrivateKiB | Measure-Object -Maximum).Maximum / $conmonPrivate, 2); Target = '<= 2.0' })
    }
    Remove-Container $idle.Name, $idle2.Name -Force -Confirm:$false

    Write-Host "`n== create + start + wait + remove of busybox /bin/true ($Rounds interleaved rounds; load $(Get-HostLoad), $([Environment]::ProcessorCount) cpus)"
    $table | Format-Table -AutoSize | Out-String | Write-Host
    foreach ($name in $moduleCpu.Keys) {
        $m = $moduleCpu[$name]
        Write-Host ("   {0}: CPU per run {1:N1} ms in pwsh, {2:N1} ms in the monitor and the container" -f $name, ($m[0] / $m[2]), ($m[1] / $m[2]))
    }
    Write-Host "   (module measured after $warmed warm-up runs in this session; the last 100 JITted $jitted methods)"
    $ratios | Format-Table -AutoSize | Out-String | Write-Host
    Write-Host "== Get-Container with $count containers (warm, 5 interleaved rounds; first in this session: $([math]::Round($listFirstMs, 1)) ms; load $(Get-HostLoad))"
    $listing | Format-Table -AutoSize | Out-String | Write-Host
    Write-Host "`n== idle memory (after 3 s idle; Private = what one more container adds, 2 idle monitors each)"
    $memory | Format-Table -AutoSize | Out-String | Write-Host

    if ($PassThru) {
        [pscustomobject]@{
        Run               = $table
        Ratios            = $ratios
        GetContainerCount = $count
        GetContainerMs    = [math]::Round($listMs, 1)
        Memory            = $memory
        ModuleCpu         = $moduleCpu
        }
    }
}
finally {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    if ($podman) { Remove-TestPodman $podman }
    Remove-TestRoot $root
}
