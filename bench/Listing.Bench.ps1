<#
.SYNOPSIS
    Listing benchmark: Get-Container and Get-Container -Name x with -Containers synthetic records present.
.DESCRIPTION
    One busybox container is created and run to its exit in a throw-away data root; its container.json and state.json
    are copied -Containers - 1 times under fresh ids and names (bench2, bench3, ...), so nothing else is started.
    Prints, with the load: the first Get-Container of this session (records parsed), the warm Get-Container and the
    warm Get-Container -Name (best and median of -Runs, wall and CPU time; output discarded and kept), and the same first call in a fresh pwsh
    (wall and CPU time).
    Targets of issue 14: 10,000 containers listed under 100 ms; -Name x with 10,000 present under 5 ms.
.EXAMPLE
    dotnet pwsh bench/Listing.Bench.ps1 -Containers 10000
#>
param(
    [int] $Containers = 10000,
    [int] $Runs = 7,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Containers/Containers.psd1')
)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path $ModulePath).Path
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1')
Import-Module (Join-Path $PSScriptRoot 'HostState.psm1')
$root = New-TestRoot -Name listbench
try {
    Import-Module $ModulePath
    Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/BusyboxImage.psm1')
    Import-BusyboxImage | Out-Null
    $c = New-Container -Image busybox -Command /bin/true
    $c | Start-Container -Wait | Out-Null
    Import-Module (Join-Path $PSScriptRoot 'SyntheticContainers.psm1')
    Copy-ContainerRecord -Container $c -Count $Containers
    $target = "bench$([int]($Containers / 2))"
    # Containers are listed long after they were made: a session keeps what it read only once files are a second old
    # (FileStat.IsRacy), so wait that out, or the warm runs right after the copy read records and states again.
    Start-Sleep -Milliseconds 1100

    # Wall time and this process's CPU time (user + system, all threads: the listing reads on every core) per call. On a
    # host shared with other work the CPU time is the steadier figure.
    $self = [System.Diagnostics.Process]::GetCurrentProcess()
    function Measure-Best([scriptblock] $Block) {
        $samples = foreach ($i in 1..$Runs) {
            $self.Refresh(); $cpu0 = $self.TotalProcessorTime.TotalMilliseconds
            $wall = (Measure-Command $Block).TotalMilliseconds
            $self.Refresh()
            [pscustomobject]@{ Wall = $wall; Cpu = $self.TotalProcessorTime.TotalMilliseconds - $cpu0 }
        }
        $t = @($samples.Wall | Sort-Object); $c = @($samples.Cpu | Sort-Object)
        [pscustomobject]@{
            Best = [math]::Round($t[0], 1); Median = [math]::Round($t[[int]($t.Count / 2)], 1)
            CpuBest = [math]::Round($c[0], 1); CpuMedian = [math]::Round($c[[int]($c.Count / 2)], 1)
        }
    }
    $first = (Measure-Command { $script:count = @(Get-Container).Count }).TotalMilliseconds
    $all = Measure-Best { Get-Container | Out-Null }
    $kept = Measure-Best { $x = Get-Container }
    $one = Measure-Best { Get-Container -Name $target | Out-Null }

    # The first listing in a new session: import + Get-Container in a fresh pwsh, CPU time of the child from /proc.
    $pwsh = Get-TestPwsh
    $cold = @(foreach ($i in 1..$Runs) {
        $out = & /usr/bin/time -f '%e %U %S' $pwsh -NoProfile -NonInteractive -Command "Import-Module '$ModulePath'; Get-Container | Out-Null" 2>&1
        $f = "$($out | Select-Object -Last 1)".Split(' ')
        [pscustomobject]@{ WallMs = [double]$f[0] * 1000; CpuMs = ([double]$f[1] + [double]$f[2]) * 1000 }
    })
    $coldWall = ($cold.WallMs | Measure-Object -Minimum).Minimum
    $coldCpu = ($cold.CpuMs | Measure-Object -Minimum).Minimum

    Write-Host "`n== listing with $count containers (load $(Get-HostLoad), $([Environment]::ProcessorCount) cpus; best / median of $Runs)"
    Write-Host "first Get-Container in this session:        $([math]::Round($first, 1)) ms"
    Write-Host "Get-Container | Out-Null, warm:             $($all.Best) / $($all.Median) ms, CPU $($all.CpuBest) / $($all.CpuMedian) ms (target < 100)"
    Write-Host "`$x = Get-Container, warm:                   $($kept.Best) / $($kept.Median) ms, CPU $($kept.CpuBest) / $($kept.CpuMedian) ms (target < 100)"
    Write-Host "Get-Container -Name $target, warm:       $($one.Best) / $($one.Median) ms, CPU $($one.CpuBest) / $($one.CpuMedian) ms (target < 5)"
    Write-Host "fresh pwsh: Import-Module + Get-Container:  best wall $coldWall ms, best CPU (user+sys) $coldCpu ms"
}
finally {
    if ($c) {
        Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'containers') -Directory | Where-Object Name -ne $c.Id | Remove-Item -Recurse -Force
        Remove-Container $c.Name -Force -Confirm:$false -ErrorAction SilentlyContinue
    }
    Remove-TestRoot $root
}
