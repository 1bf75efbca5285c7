# A busybox image for the runtime tests, built from Debian's busybox-static and committed to the
# module's image store through its own API (so the runtime tests need neither a registry nor the
# image import cmdlets). Call after Import-Module Containers and New-TestRoot.

function New-RuntimeTestImage {
    param([string] $Name = 'localhost/rt-busybox:latest')
    $busybox = '/bin/busybox'
    if (-not (Test-Path $busybox)) { throw 'busybox-static is not installed (/bin/busybox)' }
    $work = Join-Path ([System.IO.Path]::GetTempPath()) ('rt-image-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $rootfs = Join-Path $work 'rootfs'
    try {
        foreach ($d in 'bin', 'etc', 'tmp', 'root', 'home/app', 'proc', 'sys', 'dev', 'run', 'var') { New-Item -ItemType Directory -Force (Join-Path $rootfs $d) | Out-Null }
        Copy-Item $busybox (Join-Path $rootfs 'bin/busybox')
        foreach ($applet in (& $busybox --list)) {
            if ($applet -eq 'busybox') { continue }
            $link = Join-Path $rootfs "bin/$applet"
            if (-not (Test-Path $link)) { New-Item -ItemType SymbolicLink -Path $link -Target 'busybox' | Out-Null }
        }
        Set-Content (Join-Path $rootfs 'etc/passwd') "root:x:0:0:root:/root:/bin/sh`napp:x:1000:1000:app:/home/app:/bin/sh`nnobody:x:65534:65534:nobody:/nonexistent:/bin/false"
        Set-Content (Join-Path $rootfs 'etc/group') "root:x:0:`napp:x:1000:`nstaff:x:50:app`nnogroup:x:65534:"
        & chmod 1777 (Join-Path $rootfs 'tmp')
        $tar = Join-Path $work 'layer.tar'
        & tar --numeric-owner --owner=0 --group=0 -C $rootfs -cf $tar .
        if ($LASTEXITCODE) { throw 'tar failed' }
        $layerDigest = 'sha256:' + (Get-FileHash $tar -Algorithm SHA256).Hash.ToLowerInvariant()
        $layerSize = (Get-Item $tar).Length
        $config = [ordered]@{
            architecture = 'amd64'; os = 'linux'
            config = [ordered]@{ Env = @('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'); Cmd = @('sh'); Labels = @{ 'org.test' = 'runtime' } }
            rootfs = [ordered]@{ type = 'layers'; diff_ids = @($layerDigest) }
        } | ConvertTo-Json -Depth 5 -Compress
        $configBytes = [System.Text.Encoding]::UTF8.GetBytes($config)
        $configDigest = 'sha256:' + [Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($configBytes)).ToLowerInvariant()
        $layerType = 'application/vnd.oci.image.layer.v1.tar'
        $manifest = [ordered]@{
            schemaVersion = 2; mediaType = 'application/vnd.oci.image.manifest.v1+json'
            config = [ordered]@{ mediaType = 'application/vnd.oci.image.config.v1+json'; digest = $configDigest; size = $configBytes.Length }
            layers = @([ordered]@{ mediaType = $layerType; digest = $layerDigest; size = $layerSize })
        } | ConvertTo-Json -Depth 5 -Compress

        $module = Get-Module Containers
        if (-not $module) { throw 'Import the Containers module first' }
        Add-Type -Path (Join-Path $module.ModuleBase 'Containers.Core.dll')
        $paths = [Containers.Core.Configuration.ContainerPaths]::FromEnvironment()
        $store = [Containers.Core.Images.ImageStore]::Open($paths, $null)
        $descriptor = [Containers.Core.Spec.Descriptor]@{ MediaType = $layerType; Digest = $layerDigest; Size = $layerSize }
        $stream = [System.IO.File]::OpenRead($tar)
        try {
            $null = $store.IngestLayerAsync($stream, $descriptor, [Containers.Core.Spec.Digest]::Parse($layerDigest), $null, [System.Threading.CancellationToken]::None).GetAwaiter().GetResult()
        }
        finally { $stream.Dispose() }
        $commit = [Containers.Core.Images.ImageCommit]@{ Manifest = [System.Text.Encoding]::UTF8.GetBytes($manifest); Config = $configBytes; Names = [string[]]@($Name) }
        return $store.CommitImageAsync($commit, [System.Threading.CancellationToken]::None).GetAwaiter().GetResult()
    }
    finally { Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue }
}

Export-ModuleMember -Function New-RuntimeTestImage
