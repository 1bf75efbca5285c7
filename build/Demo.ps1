<#
.SYNOPSIS
    The Demo task: a tour of the built module on an embedded default that needs no network.
.DESCRIPTION
    Makes a small OCI image from Debian's busybox-static (a real OCI layout, written here with .NET's
    tar and gzip), imports it into a throw-away store, runs a container that prints its hostname,
    its PID 1 and `id`, and shows the Get-Container and Get-ContainerSystemInfo tables. Steps whose
    cmdlets have not landed yet are skipped with a note.
#>
param([Parameter(Mandatory)] [string] $ModulePath)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Write-Section([string] $Title) { Write-Host "`n### $Title" -ForegroundColor Green }

# The default views, at a width a reader's terminal has (a build log's console is narrower).
function Show-Table { $input | Out-String -Width 150 | Write-Host }

function New-BusyboxLayout {
    # A single-layer OCI image layout holding busybox-static and a few applet links.
    param([Parameter(Mandatory)] [string] $Path)
    $busybox = @('/bin/busybox', '/usr/bin/busybox') | Where-Object { Test-Path $_ } | Select-Object -First 1
    if (-not $busybox) { throw 'busybox-static is not installed (build.ps1 -Task Bootstrap installs it).' }
    if (Test-Path $Path) { Remove-Item $Path -Recurse -Force }
    $blobs = New-Item -ItemType Directory -Path (Join-Path $Path 'blobs/sha256') -Force
    $epoch = [DateTimeOffset]::UtcNow

    $tarBytes = [System.IO.MemoryStream]::new()
    $tar = [System.Formats.Tar.TarWriter]::new($tarBytes, [System.Formats.Tar.TarEntryFormat]::Pax, $true)
    function Add-Entry($Type, $Name, $Mode, $Link, $Data) {
        $e = [System.Formats.Tar.PaxTarEntry]::new($Type, $Name)
        $e.Mode = [System.IO.UnixFileMode]$Mode; $e.ModificationTime = $epoch
        if ($Link) { $e.LinkName = $Link }
        if ($Data) { $e.DataStream = [System.IO.MemoryStream]::new([byte[]]$Data) }
        $tar.WriteEntry($e)
    }
    foreach ($d in 'bin', 'dev', 'etc', 'proc', 'root', 'sys') { Add-Entry Directory "$d/" 0x1ED $null $null }
    Add-Entry Directory 'tmp/' 0x3FF $null $null # 01777: world-writable with the sticky bit
    Add-Entry RegularFile 'bin/busybox' 0x1ED $null ([System.IO.File]::ReadAllBytes($busybox))
    foreach ($applet in 'sh', 'echo', 'cat', 'id', 'hostname', 'ls', 'ps', 'sleep', 'true', 'env', 'tr') {
        Add-Entry SymbolicLink "bin/$applet" 0x1FF 'busybox' $null
    }
    Add-Entry RegularFile 'etc/passwd' 0x1A4 $null ([Text.Encoding]::ASCII.GetBytes("root:x:0:0:root:/root:/bin/sh`nnobody:x:65534:65534:nobody:/:/bin/false`n"))
    Add-Entry RegularFile 'etc/group' 0x1A4 $null ([Text.Encoding]::ASCII.GetBytes("root:x:0:`nnogroup:x:65534:`n"))
    $tar.Dispose()
    $layerTar = $tarBytes.ToArray()

    $gz = [System.IO.MemoryStream]::new()
    $zip = [System.IO.Compression.GZipStream]::new($gz, [System.IO.Compression.CompressionLevel]::Optimal, $true)
    $zip.Write($layerTar, 0, $layerTar.Length); $zip.Dispose()
    $layerGz = $gz.ToArray()

    function Save-Blob([byte[]] $Bytes) {
        $hex = [Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($Bytes)).ToLowerInvariant()
        [System.IO.File]::WriteAllBytes((Join-Path $blobs $hex), $Bytes)
        return @{ digest = "sha256:$hex"; size = $Bytes.Length }
    }
    $diffId = 'sha256:' + [Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($layerTar)).ToLowerInvariant()
    $layer = Save-Blob $layerGz
    $config = [ordered]@{
        created = [DateTimeOffset]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ssZ'); architecture = 'amd64'; os = 'linux'
        config = [ordered]@{ Env = @('PATH=/bin'); Cmd = @('/bin/sh'); Labels = [ordered]@{ 'org.opencontainers.image.title' = 'busybox demo' } }
        rootfs = [ordered]@{ type = 'layers'; diff_ids = @($diffId) }
    }
    $configBlob = Save-Blob ([Text.Encoding]::UTF8.GetBytes(($config | ConvertTo-Json -Depth 5 -Compress)))
    $manifest = [ordered]@{
        schemaVersion = 2; mediaType = 'application/vnd.oci.image.manifest.v1+json'
        config = [ordered]@{ mediaType = 'application/vnd.oci.image.config.v1+json'; digest = $configBlob.digest; size = $configBlob.size }
        layers = @([ordered]@{ mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip'; digest = $layer.digest; size = $layer.size })
    }
    $manifestBlob = Save-Blob ([Text.Encoding]::UTF8.GetBytes(($manifest | ConvertTo-Json -Depth 5 -Compress)))
    $index = [ordered]@{
        schemaVersion = 2; mediaType = 'application/vnd.oci.image.index.v1+json'
        manifests = @([ordered]@{ mediaType = 'application/vnd.oci.image.manifest.v1+json'; digest = $manifestBlob.digest; size = $manifestBlob.size
                annotations = [ordered]@{ 'org.opencontainers.image.ref.name' = 'demo' } })
    }
    Set-Content (Join-Path $Path 'index.json') ($index | ConvertTo-Json -Depth 6 -Compress) -NoNewline
    Set-Content (Join-Path $Path 'oci-layout') '{"imageLayoutVersion":"1.0.0"}' -NoNewline
    return $manifestBlob.digest
}

# A throw-away store, so the demo is repeatable and leaves the host's store alone.
$demoRoot = Join-Path ([System.IO.Path]::GetTempPath()) 'pscontainers-demo'
if (Test-Path $demoRoot) { [IO.Directory]::Delete($demoRoot, $true) }
foreach ($d in 'data', 'state', 'config', 'logs') { New-Item -ItemType Directory (Join-Path $demoRoot $d) -Force | Out-Null }
$env:PSCONTAINERS_DATA_DIR = Join-Path $demoRoot 'data'
$env:PSCONTAINERS_STATE_DIR = Join-Path $demoRoot 'state'
$env:PSCONTAINERS_CONFIG_DIR = Join-Path $demoRoot 'config'
$env:PSCONTAINERS_LOG_DIR = Join-Path $demoRoot 'logs'
# Root containers join a default bridge network made on first use; the demo's lives in its own CNI directory (the
# host's /etc/cni/net.d stays as it was) and is removed at the end with its bridge.
$env:PSCONTAINERS_CNI_CONFIG_DIR = Join-Path $demoRoot 'cni'

$elapsed = Measure-Command { Import-Module (Join-Path $ModulePath 'Containers.psd1') }
Write-Section "Import-Module Containers ($([int]$elapsed.TotalMilliseconds) ms)"
Get-Command -Module Containers | Format-Wide Name -Column 3 | Show-Table

Write-Section 'Get-ContainerSystemInfo'
$info = Get-ContainerSystemInfo
$info | Show-Table
$info | Format-List ModuleVersion, PackageVersion, KernelRelease, Distribution, CgroupVersion, CgroupControllers, Rootless, UserNamespaces, Overlay, OverlayLowerDirPlus, SubUidRanges, DataDir, StateDir, LogFile, InitPath, InitVersion | Out-Host

Write-Section 'A busybox image, made here as an OCI layout'
$layout = Join-Path $demoRoot 'busybox-layout'
$digest = New-BusyboxLayout -Path $layout
Write-Host "OCI layout at $layout, manifest $digest"

if (-not (Get-Command Import-ContainerImage -ErrorAction Ignore)) {
    Write-Host '(Import-ContainerImage has not landed yet: the tour stops here.)'
    return
}
Write-Section 'Import-ContainerImage, Get-ContainerImage'
Import-ContainerImage -Path $layout -Name localhost/busybox:demo | Out-Null
Get-ContainerImage | Show-Table

if (-not (Get-Command New-Container -ErrorAction Ignore)) {
    Write-Host '(New-Container has not landed yet: the tour stops here.)'
    return
}
Write-Section 'A container that prints its hostname, its PID 1 and id'
$script = 'echo "hostname: $(hostname)"; echo "pid 1: $(tr "\0" " " < /proc/1/cmdline)"; echo "id: $(id)"'
$c = New-Container -Image localhost/busybox:demo -Name demo-hello -Hostname demo-box -Command '/bin/sh', '-c', $script
$c | Start-Container -Wait | Out-Null
Get-ContainerLog -Name demo-hello | Show-Table

Write-Section 'Get-Container'
Get-Container | Show-Table
Get-Container -Name demo-hello | Remove-Container -Confirm:$false

Write-Section 'Invoke-ContainerImage: one step for scripts, output down the pipeline, exit code in $LASTEXITCODE'
$lines = Invoke-ContainerImage localhost/busybox:demo -Remove -Command /bin/sh, '-c', 'echo one; echo two; exit 3'
Write-Host "lines: $($lines -join ', '); exit code: $LASTEXITCODE"
Write-Host "containers left: $(@(Get-Container).Count)"

Write-Section 'Get-ContainerNetwork: the default bridge the containers above joined, then removed'
Get-ContainerNetwork | Show-Table
Get-ContainerNetwork | Remove-ContainerNetwork -Confirm:$false
Write-Host "`nDemo finished; its store was $demoRoot."
