<#
.SYNOPSIS
    Build benchmark, side by side in one run: a ten-step Containerfile (busybox base, RUN/COPY/ENV) built with
    no cache and rebuilt unchanged, by New-ContainerImage -Path and by `buildah bud --layers`; commit of a
    changed container by New-ContainerImage -Container and by `podman commit`.
.DESCRIPTION
    Wall time in this warm pwsh session (Stopwatch), medians of -Rounds interleaved rounds. Targets of issue 15,
    as ratios of medians: build <= 0.5 x buildah's, an unchanged rebuild < 100 ms, commit <= 0.5 x podman's.
    buildah runs with chroot isolation and vfs storage in the bench's temp dir; podman is configured by the
    tests' Podman fixture module (runc, cgroupfs, files in the temp dir). Nothing outside the temp dir is touched.
.EXAMPLE
    dotnet pwsh bench/Build.Bench.ps1 -Rounds 5
#>
param(
    [int] $Rounds = 5,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Containers/Containers.psd1')
)
$ErrorActionPreference = 'Stop'
if ((id -u) -ne '0') { throw 'run as root' }
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1')
$root = New-TestRoot -Name buildbench
$podman = $null
try {
    Import-Module (Resolve-Path $ModulePath).Path
    Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/BusyboxImage.psm1')
    Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/Podman.psm1')
    $null = Import-BusyboxImage
    $ctx = Join-Path $root 'ctx'
    New-Item -ItemType Directory $ctx | Out-Null
    1..3 | ForEach-Object { Set-Content "$ctx/file$_.txt" ("content $_ " * 1000) }
    Set-Content "$ctx/Containerfile" @'
FROM localhost/busybox:latest
ENV APP=/app
RUN mkdir -p /app && echo one > /app/one
COPY file1.txt /app/
RUN echo two > /app/two
COPY file2.txt file3.txt /app/
ENV MODE=bench
RUN busybox seq 1 1000 > /app/numbers
WORKDIR /app
CMD ["/bin/cat", "/app/one"]
'@
    $B = @('--root', "$root/buildah/root", '--runroot', "$root/buildah/run", '--storage-driver', 'vfs')
    Set-Content "$root/registries.conf" "unqualified-search-registries = []`n"
    $env:CONTAINERS_REGISTRIES_CONF = "$root/registries.conf"
    Set-Content $env:REGISTRY_AUTH_FILE '{"auths":{}}' # buildah and podman insist that the auth file they are given exists
    Save-ContainerImage -Image localhost/busybox:latest -Path "$root/busybox.tar" -Format OciArchive
    $id = (& buildah @B pull -q "oci-archive:$root/busybox.tar" 2>$null | Select-Object -Last 1)
    & buildah @B tag $id.Trim() localhost/busybox:latest
    if ($LASTEXITCODE -ne 0) { throw "buildah could not load busybox ($id)" }
    $podman = Initialize-TestPodman -Root $root
    $podmanBase = Import-PodmanImage -Podman $podman -Image busybox
    $change = 'echo changed > /etc/motd; busybox seq 1 5000 > /numbers; rm /etc/group'
    New-Container busybox -Name bench-commit -Command sh, -c, $change | Start-Container -Wait | Out-Null
    Invoke-Podman run --name bench-commit $podmanBase sh -c $change | Out-Null

    $samples = @{}
    function Measure-Ms([string] $Name, [scriptblock] $Action) {
        $global:LASTEXITCODE = 0
        $sw = [Diagnostics.Stopwatch]::StartNew(); $out = & $Action; $sw.Stop()
        if ($LASTEXITCODE -ne 0) { throw "$Name failed ($LASTEXITCODE): $($out -join "`n")" }
        if (-not $samples[$Name]) { $samples[$Name] = [Collections.Generic.List[double]]::new() }
        $samples[$Name].Add($sw.Elapsed.TotalMilliseconds)
    }
    foreach ($round in 1..$Rounds) {
        Measure-Ms 'build (module, no cache)' { New-ContainerImage -Path "$ctx/Containerfile" -Name localhost/bench:1 -NoCache }
        Measure-Ms 'build (buildah bud, no cache)' { & buildah @B bud -q --isolation chroot --layers --no-cache -t localhost/bench:1 $ctx 2>&1 }
        Measure-Ms 'rebuild unchanged (module)' { New-ContainerImage -Path "$ctx/Containerfile" -Name localhost/bench:1 }
        Measure-Ms 'rebuild unchanged (buildah bud)' { & buildah @B bud -q --isolation chroot --layers -t localhost/bench:1 $ctx 2>&1 }
        Measure-Ms 'commit (module)' { New-ContainerImage -Container bench-commit -Name localhost/committed:1 }
        Measure-Ms 'commit (podman)' { Invoke-Podman commit -q bench-commit localhost/committed:1 }
    }
    $median = { param($l) $s = @($l | Sort-Object); if ($s.Count % 2) { $s[[int][Math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
    $table = foreach ($k in $samples.Keys | Sort-Object) { [pscustomobject]@{ Contender = $k; MedianMs = [Math]::Round((& $median $samples[$k]), 1); Runs = $samples[$k].Count } }
    $table | Format-Table -AutoSize | Out-Host
    $m = @{}; foreach ($r in $table) { $m[$r.Contender] = $r.MedianMs }
    [pscustomobject]@{
        'build / buildah' = [Math]::Round($m['build (module, no cache)'] / $m['build (buildah bud, no cache)'], 2)
        'rebuild ms' = $m['rebuild unchanged (module)']
        'commit / podman' = [Math]::Round($m['commit (module)'] / $m['commit (podman)'], 2)
    } | Format-List | Out-Host
}
finally {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    & buildah --root "$root/buildah/root" --runroot "$root/buildah/run" --storage-driver vfs rmi -a -f 2>$null | Out-Null
    if ($podman) { Remove-TestPodman $podman }
    Remove-TestRoot $root
}
