<#
.SYNOPSIS
    First call in a new session: each measure runs in a fresh pwsh process, -Runs rounds with the measures interleaved
    (one of each per round, so a change of load on a shared host hits all alike); prints best and median wall time and
    the child's CPU time (user + sys, from /usr/bin/time), with the load.
.DESCRIPTION
    Measures (each a fresh process, in a throw-away data root that holds the busybox fixture image):
    - Import-Module + the first Get-Container;
    - Import-Module + the first Import-ContainerImage of the busybox fixture OCI layout (into an empty store each
      run);
    - Import-Module + the first Install-ContainerImage of the six-layer 64 MiB image from the loopback registry
      fixture into an empty store, beside its peer in the same rounds: skopeo copy + umoci unpack of the same image
      (each a new process too), the issue's "cold" ratio (target <= 0.5x);
    - Import-Module + the first Invoke-ContainerImage busybox -Command true.
    After each, it also lists whether BouncyCastle was loaded (it should only be for signatures). With -JitCount, how
    many methods each measure JIT-compiled from IL (pwsh's own start-up included: see the empty pwsh's row).
    CpuMs is the whole child's user + sys (pwsh start-up included); CallMs and CallCpuMs the wall and CPU time of the
    child from just before Import-Module to after the call (the module's share; a container monitor's own CPU is not
    in it). The peer's CallMs is its whole wall time: skopeo and umoci have no session to start.
    Baseline: an empty pwsh (-Command exit) in the same run. With -BaselineModulePath (another build's
    Containers.psd1, e.g. a copy of main's out/Containers), each module measure also runs against that build in the
    same rounds, after all of this build's measures and in their order: an interleaved before/after on a shared host.
    A new pwsh replays in the background the JIT profile the previous pwsh left (StartupProfileData-NonInteractive):
    each measured session keeps that profile in the bench's own cache directory (XDG_CACHE_HOME), so no other pwsh
    on the host changes what it replays, and each build's session follows the same kind of session of its own build
    (with the baseline right after ours, the baseline replayed our session of the same call).
    The header also states what writing 64 MiB into new page cache cost before and after the runs
    (bench/HostState.psm1); -WarmPageCache measures every session in the cheap regime, as on bare metal.
.EXAMPLE
    dotnet pwsh bench/FirstCall.Bench.ps1 -Runs 7
.EXAMPLE
    dotnet pwsh bench/FirstCall.Bench.ps1 -Runs 7 -BaselineModulePath /tmp/main-build/Containers/Containers.psd1
.EXAMPLE
    dotnet pwsh bench/FirstCall.Bench.ps1 -Runs 7 -ReadyToRunPowerShell -JitCount
#>
param(
    [int] $Runs = 7,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Containers/Containers.psd1'),
    [string] $BaselineModulePath,
    # Also count the methods each measure JIT-compiles from IL (one more run of each with the runtime's JIT summary).
    [switch] $JitCount,
    # Also run pwsh's start, the first Get-Container and the first pull in a ReadyToRun copy of the pinned PowerShell
    # (bench/ReadyToRunPowerShell.psm1): the tool ships PowerShell as IL only, PowerShell's own packages precompiled,
    # so this tells PowerShell's cold JIT from the module's share.
    [switch] $ReadyToRunPowerShell,
    # Before each measured session, write and remove a scratch file, so that its stores land in memory the guest has
    # just used: on a VM that hands free memory back to its host, new page cache otherwise costs up to 15x a memory
    # copy (bench/HostState.psm1), a cost of the VM's, not of the tools measured (and the peer stores twice as much).
    [switch] $WarmPageCache
)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path $ModulePath).Path
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1')
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/BusyboxImage.psm1')
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/Registry.psm1')
Import-Module (Join-Path $PSScriptRoot 'HostState.psm1')
$savedCache = $env:XDG_CACHE_HOME
$root = New-TestRoot -Name firstcall
try {
    $fx = Start-TestRegistry -ConfigDir $env:PSCONTAINERS_CONFIG_DIR -All
    $ref = "$($fx.Anonymous.Host)/layers:latest"
    $layout = Get-BusyboxLayout
    # The fixture image in the store the Get-Container and Invoke measures use.
    & (Get-TestPwsh) -NoProfile -NonInteractive -Command "Import-Module '$ModulePath'; Import-ContainerImage -Path '$layout' -Name localhost/busybox:latest | Out-Null"
    $pwsh = Get-TestPwsh
    # Asked after the timed part: listing the session's assemblies costs a cold session 60-130 ms of its own.
    $bc = "; [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name -like 'BouncyCastle*' | Write-Output"
    $install = "Install-ContainerImage '$ref' -ProgressAction SilentlyContinue | Out-Null"
    $fresh = "`$env:PSCONTAINERS_DATA_DIR = '$root/run-' + [guid]::NewGuid().ToString('N')"
    $cases = [ordered]@{
        'pwsh -Command exit (no module)'           = 'exit'
        'Import-Module + Get-Container'            = "Import-Module '$ModulePath'; Get-Container | Out-Null"
        'Import-Module + Import-ContainerImage'    = "Import-Module '$ModulePath'; Import-ContainerImage -Path '$layout' -Name localhost/busybox:latest | Out-Null"
        'Import-Module + Install-ContainerImage'   = "Import-Module '$ModulePath'; $install"
        'skopeo copy + umoci unpack (same image)'  = $null
        'Import-Module + Invoke-ContainerImage'    = "Import-Module '$ModulePath'; Invoke-ContainerImage busybox -Command true -Remove | Out-Null"
    }
    # What a measure's session does before the timed part (an empty store of its own).
    $setup = @{ 'Import-Module + Import-ContainerImage' = $fresh; 'Import-Module + Install-ContainerImage' = $fresh }
    if ($BaselineModulePath) {
        $BaselineModulePath = (Resolve-Path $BaselineModulePath).Path
        foreach ($name in @($cases.Keys | Where-Object { $cases[$_] -like "*'$ModulePath'*" })) {
            $cases["$name (baseline)"] = $cases[$name].Replace("'$ModulePath'", "'$BaselineModulePath'")
            $setup["$name (baseline)"] = $setup[$name]
        }
    }
    # The session each measure runs in: the pinned pwsh, or (with -ReadyToRunPowerShell) its precompiled copy.
    $hosts = @{}
    if ($ReadyToRunPowerShell) {
        Import-Module (Join-Path $PSScriptRoot 'ReadyToRunPowerShell.psm1')
        $r2r = New-ReadyToRunPowerShell -Root $root
        foreach ($name in 'pwsh -Command exit (no module)', 'Import-Module + Get-Container', 'Import-Module + Install-ContainerImage') {
            $cases["$name, ReadyToRun PowerShell"] = $cases[$name]
            $hosts["$name, ReadyToRun PowerShell"] = @('dotnet', $r2r)
            $setup["$name, ReadyToRun PowerShell"] = $setup[$name]
        }
    }
    # The peer in a shell of its own; the test session's auth file is not its business. Each run a fresh directory
    # (removed with the root at the end, like the stores of the runs above).
    $peer = "d=$root/peer-`$RANDOM`$RANDOM && mkdir `$d && env -u REGISTRY_AUTH_FILE -u CONTAINERS_REGISTRIES_CONF skopeo copy --quiet --src-tls-verify=false docker://$ref oci:`$d/oci:latest && umoci unpack --image `$d/oci:latest `$d/bundle >/dev/null"
    # pwsh's JIT profile of the measured sessions (see the description); the fixture's cache stays where it is.
    $env:XDG_CACHE_HOME = Join-Path $root 'pwsh-cache'
    $samples = @{}
    foreach ($name in $cases.Keys) { $samples[$name] = [System.Collections.Generic.List[object]]::new() }
    $writeBefore = Measure-PageCacheWrite $root
    foreach ($i in 1..$Runs) {
        # A new order each run, and the previous run's writes flushed before each: a fixed order gave each row the same
        # neighbour every run (the row after the peer's unpack met its writeback), and two copies of one build compared at
        # 1.18x (Get-Container) and 1.43x (Invoke-ContainerImage) by their places alone.
        foreach ($name in @($cases.Keys | Get-Random -Shuffle)) {
            sync
            if ($WarmPageCache) { Initialize-PageCachePool $root }
            if ($null -eq $cases[$name]) {
                $out = @(& /usr/bin/time -f 'TIME %e %U %S' bash -c $peer 2>&1)
                if ($LASTEXITCODE -ne 0) { throw "the peer failed ($LASTEXITCODE): $($out | Out-String)" }
            }
            else {
                $script = "$($setup[$name] ?? '$null'); `$p = [Diagnostics.Process]::GetCurrentProcess(); `$c0 = `$p.TotalProcessorTime; `$w0 = [Diagnostics.Stopwatch]::StartNew(); $($cases[$name]); `$w0.Stop(); `$p.Refresh(); 'CALLCPU ' + (`$p.TotalProcessorTime - `$c0).TotalMilliseconds + ' ' + `$w0.Elapsed.TotalMilliseconds$bc"
                $session = $hosts[$name] ?? @($pwsh)
                $out = @(& /usr/bin/time -f 'TIME %e %U %S' @session -NoProfile -NonInteractive -Command $script 2>&1)
            }
            $f = "$($out | Where-Object { "$_" -like 'TIME *' } | Select-Object -Last 1)".Split(' ')
            $call = "$($out | Where-Object { "$_" -like 'CALLCPU *' } | Select-Object -Last 1)"
            $samples[$name].Add([pscustomobject]@{
                Wall = [double]$f[1] * 1000; Cpu = ([double]$f[2] + [double]$f[3]) * 1000
                Call = if ($call) { [double]$call.Split(' ')[1] } else { [double]::NaN }; Bc = [bool]($out -like 'BouncyCastle*')
                # The peer is whole processes; ours is what the session spends from Import-Module on (pwsh's own start-up left out).
                CallWall = if ($call) { [double]$call.Split(' ')[2] } elseif ($null -eq $cases[$name]) { [double]$f[1] * 1000 } else { [double]::NaN }
            })
        }
    }
    $jit = @{}
    if ($JitCount) {
        foreach ($name in @($cases.Keys | Where-Object { $null -ne $cases[$_] })) {
            $jit[$name] = @(Get-JitCompiledMethod -Command (@($setup[$name], $cases[$name]) -ne $null -join '; ') -Session ($hosts[$name] ?? @($pwsh))).Count
        }
    }
    $rows = foreach ($name in $cases.Keys) {
        $s = $samples[$name]
        $wall = @($s.Wall | Sort-Object); $cpu = @($s.Cpu | Sort-Object); $call = @($s.Call | Sort-Object); $callWall = @($s.CallWall | Sort-Object)
        [pscustomobject]@{
            Measure = $name; BestMs = $wall[0]; MedianMs = $wall[[int]($Runs / 2)]
            CallMs = [math]::Round($callWall[0]); MedianCallMs = [math]::Round($callWall[[int]($Runs / 2)])
            BestCpuMs = $cpu[0]; MedianCpuMs = $cpu[[int]($Runs / 2)]
            CallCpuMs = [math]::Round($call[0]); MedianCallCpuMs = [math]::Round($call[[int]($Runs / 2)]); BouncyCastle = ($s.Bc -contains $true)
        }
    }
    $writeAfter = Measure-PageCacheWrite $root
    Write-Host "`n== first call in a fresh pwsh ($Runs runs each; load $(Get-HostLoad), $([Environment]::ProcessorCount) cpus; 64 MiB into new page cache $('{0:0}' -f $writeBefore) ms before, $('{0:0}' -f $writeAfter) ms after: see bench/HostState.psm1)"
    $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    if ($JitCount) {
        Write-Host 'methods JIT-compiled from IL (one run each, pwsh start-up included):'
        foreach ($name in $jit.Keys | Sort-Object { @($cases.Keys).IndexOf($_) }) { Write-Host ("  {0,-50} {1,6:n0}" -f $name, $jit[$name]) }
    }
    $ours = $rows | Where-Object Measure -EQ 'Import-Module + Install-ContainerImage'
    $both = $rows | Where-Object Measure -Like 'skopeo*'
    Write-Host ("cold first pull, Import-Module + Install-ContainerImage / (skopeo copy + umoci unpack): median {0:0.00}x, best {1:0.00}x (target <= 0.5x);" -f ($ours.MedianCallMs / $both.MedianCallMs), ($ours.CallMs / $both.CallMs))
    Write-Host ("  with pwsh's own start-up: median {0:0.00}x, best {1:0.00}x" -f ($ours.MedianMs / $both.MedianMs), ($ours.BestMs / $both.BestMs))
    if ($ReadyToRunPowerShell) {
        $r2rOurs = $rows | Where-Object Measure -EQ 'Import-Module + Install-ContainerImage, ReadyToRun PowerShell'
        Write-Host ("  the same in a ReadyToRun PowerShell: median {0:0.00}x, best {1:0.00}x; with its start-up: median {2:0.00}x, best {3:0.00}x" -f
            ($r2rOurs.MedianCallMs / $both.MedianCallMs), ($r2rOurs.CallMs / $both.CallMs), ($r2rOurs.MedianMs / $both.MedianMs), ($r2rOurs.BestMs / $both.BestMs))
    }
    foreach ($base in $rows | Where-Object Measure -Like '* (baseline)') {
        $new = $rows | Where-Object Measure -EQ $base.Measure.Replace(' (baseline)', '')
        Write-Host ("{0}: this build / baseline, from Import-Module on: median {1:0.00}x, best {2:0.00}x; CPU median {3:0.00}x" -f $new.Measure,
            ($new.MedianCallMs / $base.MedianCallMs), ($new.CallMs / $base.CallMs), ($new.MedianCallCpuMs / $base.MedianCallCpuMs))
    }
}
finally {
    $env:XDG_CACHE_HOME = $savedCache
    Stop-TestRegistry
    Remove-TestRoot $root
}
