<#
.SYNOPSIS
    Squash benchmark, side by side in one run: the 200-layer fixture image (`deep`) merged into one layer by
    Merge-ContainerImage and by buildah (`buildah from` + `buildah commit --squash`).
.DESCRIPTION
    Wall time in this warm pwsh session (Stopwatch), best of -Rounds interleaved rounds; the ratio is
    module / buildah (issue 15 asks for the squash side by side). Both start from the image already in their
    store (the import is not timed). buildah uses vfs storage in the bench's temp dir; the working container's
    setup (`buildah from`) is timed with the commit, since Merge-ContainerImage does both. The one-minute load
    average is printed: the machine is shared, so read the ratio with it. Nothing outside the temp dir is touched.
.EXAMPLE
    dotnet pwsh bench/Merge.Bench.ps1 -Rounds 3
#>
param(
    [int] $Rounds = 3,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Containers/Containers.psd1')
)
$ErrorActionPreference = 'Stop'
if ((id -u) -ne '0') { throw 'run as root' }
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1')
Import-Module (Join-Path $PSScriptRoot 'HostState.psm1')
$root = New-TestRoot -Name mergebench
$B = @('--root', "$root/buildah/root", '--runroot', "$root/buildah/run", '--storage-driver', 'vfs')
try {
    Import-Module (Resolve-Path $ModulePath).Path
    Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/Registry.psm1')
    $layout = Join-Path (Get-FixtureImageCache) 'deep'
    $deep = Import-ContainerImage -Path $layout -Name localhost/deep:200
    if ($deep.Layers.Count -ne 200) { throw "the deep fixture has $($deep.Layers.Count) layers, not 200" }
    Set-Content "$root/registries.conf" "unqualified-search-registries = []`n"
    $env:CONTAINERS_REGISTRIES_CONF = "$root/registries.conf"
    Set-Content $env:REGISTRY_AUTH_FILE '{"auths":{}}' # buildah insists that the auth file it is given exists
    # A copy under the temp dir: buildah names an oci: image after its path, and the cache's ".cache" is no valid name.
    Copy-Item -Recurse $layout "$root/deep"
    $out = & buildah @B pull -q "oci:$root/deep:latest" 2>&1
    if ($LASTEXITCODE -ne 0) { throw "buildah could not load the deep image: $out" }
    $buildahImage = ($out | Select-Object -Last 1).ToString().Trim()

    $samples = @{}
    function Measure-Ms([string] $Name, [scriptblock] $Action) {
        $global:LASTEXITCODE = 0
        $sw = [Diagnostics.Stopwatch]::StartNew(); $o = & $Action; $sw.Stop()
        if ($LASTEXITCODE -ne 0) { throw "$Name failed ($LASTEXITCODE): $($o -join "`n")" }
        if (-not $samples[$Name]) { $samples[$Name] = [Collections.Generic.List[double]]::new() }
        $samples[$Name].Add($sw.Elapsed.TotalMilliseconds)
    }
    foreach ($round in 1..$Rounds) {
        Measure-Ms 'squash (Merge-ContainerImage)' { Merge-ContainerImage -Name localhost/deep:200 -Destination "localhost/deep:flat$round" }
        Measure-Ms 'squash (buildah from + commit --squash)' {
            $ctr = (& buildah @B from -q --name "squash$round" $buildahImage 2>&1 | Select-Object -Last 1)
            if ($LASTEXITCODE -eq 0) { & buildah @B commit -q --squash "squash$round" "localhost/deep:flat$round" 2>&1 }
            if ($LASTEXITCODE -eq 0) { & buildah @B rm "squash$round" 2>&1 }
        }
    }
    $table = foreach ($k in $samples.Keys | Sort-Object) {
        [pscustomobject]@{ Contender = $k; BestMs = [Math]::Round(($samples[$k] | Measure-Object -Minimum).Minimum, 1); Runs = $samples[$k].Count }
    }
    $table | Format-Table -AutoSize | Out-Host
    $m = @{}; foreach ($r in $table) { $m[$r.Contender] = $r.BestMs }
    [pscustomobject]@{
        'squash / buildah' = [Math]::Round($m['squash (Merge-ContainerImage)'] / $m['squash (buildah from + commit --squash)'], 2)
        'load (1 min)' = (Get-HostLoad).Split(' ')[0]
        'cores' = [Environment]::ProcessorCount
    } | Format-List | Out-Host
}
finally {
    & buildah @B rm -a 2>$null | Out-Null
    & buildah @B rmi -a -f 2>$null | Out-Null
    Remove-TestRoot $root
}
