<#
.SYNOPSIS
    First call in a new session: each measure runs in a fresh pwsh process, -Runs times; prints best and median wall
    time and the child's CPU time (user + sys, from /usr/bin/time), with the load.
.DESCRIPTION
    Measures (each a fresh process, in a throw-away data root that holds the busybox fixture image):
    - Import-Module + the first Get-Container;
    - Import-Module + the first Import-ContainerImage of the busybox fixture OCI layout (into an empty store each
      run; a local layout stands in for Install-ContainerImage so no registry is needed);
    - Import-Module + the first Invoke-ContainerImage busybox -Command true.
    After each, it also lists whether BouncyCastle was loaded (it should only be for signatures).
    CpuMs is the whole child's user + sys (pwsh start-up included); CallCpuMs the CPU time of this process from just
    before Import-Module to after the call (the module's share; a container monitor's own CPU is not in it).
    Baseline: an empty pwsh (-Command exit) in the same run.
.EXAMPLE
    dotnet pwsh bench/FirstCall.Bench.ps1 -Runs 7
#>
param(
    [int] $Runs = 7,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Containers/Containers.psd1')
)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path $ModulePath).Path
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1')
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/BusyboxImage.psm1')
$root = New-TestRoot -Name firstcall
try {
    $layout = Get-BusyboxLayout
    # The fixture image in the store the Get-Container and Invoke measures use.
    & (Get-TestPwsh) -NoProfile -NonInteractive -Command "Import-Module '$ModulePath'; Import-ContainerImage -Path '$layout' -Name localhost/busybox:latest | Out-Null"
    $pwsh = Get-TestPwsh
    $bc = "; [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name -like 'BouncyCastle*' | Write-Output"
    $cases = [ordered]@{
        'pwsh -Command exit (no module)'           = 'exit'
        'Import-Module + Get-Container'            = "Import-Module '$ModulePath'; Get-Container | Out-Null$bc"
        'Import-Module + Import-ContainerImage'    = "`$env:PSCONTAINERS_DATA_DIR = '$root/import-' + [guid]::NewGuid().ToString('N'); Import-Module '$ModulePath'; Import-ContainerImage -Path '$layout' -Name localhost/busybox:latest | Out-Null$bc; Remove-Item -Recurse -Force `$env:PSCONTAINERS_DATA_DIR"
        'Import-Module + Invoke-ContainerImage'    = "Import-Module '$ModulePath'; Invoke-ContainerImage busybox -Command true -Remove | Out-Null$bc"
    }
    $rows = foreach ($name in $cases.Keys) {
        $samples = @(foreach ($i in 1..$Runs) {
            $script = "`$p = [Diagnostics.Process]::GetCurrentProcess(); `$c0 = `$p.TotalProcessorTime; $($cases[$name]); `$p.Refresh(); 'CALLCPU ' + (`$p.TotalProcessorTime - `$c0).TotalMilliseconds"
            $out = @(& /usr/bin/time -f 'TIME %e %U %S' $pwsh -NoProfile -NonInteractive -Command $script 2>&1)
            $f = "$($out | Where-Object { "$_" -like 'TIME *' } | Select-Object -Last 1)".Split(' ')
            $call = [double]"$($out | Where-Object { "$_" -like 'CALLCPU *' } | Select-Object -Last 1)".Split(' ')[1]
            [pscustomobject]@{ Wall = [double]$f[1] * 1000; Cpu = ([double]$f[2] + [double]$f[3]) * 1000; Call = $call; Bc = [bool]($out -like 'BouncyCastle*') }
        })
        $wall = @($samples.Wall | Sort-Object); $cpu = @($samples.Cpu | Sort-Object); $call = @($samples.Call | Sort-Object)
        [pscustomobject]@{
            Measure = $name; BestMs = $wall[0]; MedianMs = $wall[[int]($Runs / 2)]
            BestCpuMs = $cpu[0]; MedianCpuMs = $cpu[[int]($Runs / 2)]
            CallCpuMs = [math]::Round($call[0]); MedianCallCpuMs = [math]::Round($call[[int]($Runs / 2)]); BouncyCastle = ($samples.Bc -contains $true)
        }
    }
    Write-Host "`n== first call in a fresh pwsh ($Runs runs each; load $((Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '), $([Environment]::ProcessorCount) cpus)"
    $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
}
finally {
    Remove-TestRoot $root
}
