# Test fixture: a busybox OCI image built with umoci from Debian's busybox-static, cached under the
# temp directory (keyed by the busybox binary's digest), and imported into the module's store.
#
#   Import-Module tests/Pester/Fixtures/BusyboxImage.psm1
#   $image = Import-BusyboxImage            # localhost/busybox:latest in the current store
#   $layout = Get-BusyboxLayout             # just the cached OCI layout directory (tag latest)

$script:Applets = 'sh', 'echo', 'true', 'sleep', 'cat', 'ls', 'ps', 'id', 'hostname', 'env', 'mkdir', 'rm'

function Invoke-FixtureTool {
    param([string] $Tool, [string[]] $Arguments)
    $out = & $Tool @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "$Tool $($Arguments -join ' ') failed ($LASTEXITCODE): $out" }
}

function Get-BusyboxBinary {
    foreach ($candidate in '/bin/busybox', '/usr/bin/busybox') {
        if (Test-Path $candidate) { return (Resolve-Path $candidate).Path }
    }
    throw 'busybox-static is not installed (apt-get install busybox-static)'
}

function Get-BusyboxLayout {
    <#
    .SYNOPSIS
    Returns an OCI layout directory holding busybox:latest (one gzip layer, made by umoci), building it once per busybox binary.
    #>
    [CmdletBinding()]
    param()
    $busybox = Get-BusyboxBinary
    $key = (Get-FileHash -Algorithm SHA256 $busybox).Hash.Substring(0, 16).ToLowerInvariant()
    $cache = Join-Path ([System.IO.Path]::GetTempPath()) "pscontainers-fixture-busybox-$key-$(id -u)"
    $layout = Join-Path $cache 'layout'
    if (Test-Path (Join-Path $layout 'index.json')) { return $layout }

    New-Item -ItemType Directory -Force -Path $cache | Out-Null
    $work = Join-Path $cache ("build-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    try {
        $rootfs = Join-Path $work 'rootfs'
        foreach ($d in 'bin', 'etc', 'tmp', 'root') { New-Item -ItemType Directory -Force -Path (Join-Path $rootfs $d) | Out-Null }
        Copy-Item $busybox (Join-Path $rootfs 'bin/busybox')
        Invoke-FixtureTool chmod @('0755', (Join-Path $rootfs 'bin/busybox'))
        foreach ($a in $script:Applets) { New-Item -ItemType SymbolicLink -Path (Join-Path $rootfs "bin/$a") -Target 'busybox' | Out-Null }
        Set-Content -Path (Join-Path $rootfs 'etc/passwd') -NoNewline -Value "root:x:0:0:root:/root:/bin/sh`nnobody:x:65534:65534:nobody:/nonexistent:/bin/false`n"
        Set-Content -Path (Join-Path $rootfs 'etc/group') -NoNewline -Value "root:x:0:`nnogroup:x:65534:`n"
        Invoke-FixtureTool chmod @('1777', (Join-Path $rootfs 'tmp'))
        Invoke-FixtureTool chmod @('0700', (Join-Path $rootfs 'root'))
        $tar = Join-Path $work 'layer.tar'
        Invoke-FixtureTool tar @('--numeric-owner', '--owner=0', '--group=0', '--mtime=2024-01-01 00:00:00Z', '--sort=name', '-C', $rootfs, '-cf', $tar, 'bin', 'etc', 'root', 'tmp')
        $new = Join-Path $work 'layout'
        Invoke-FixtureTool umoci @('init', '--layout', $new)
        Invoke-FixtureTool umoci @('new', '--image', "${new}:latest")
        Invoke-FixtureTool umoci @('raw', 'add-layer', '--image', "${new}:latest", '--history.created', '2024-01-01T00:00:00Z', '--history.created_by', 'BusyboxImage.psm1', $tar)
        Invoke-FixtureTool umoci @('config', '--image', "${new}:latest", '--created', '2024-01-01T00:00:00Z', '--architecture', 'amd64', '--os', 'linux',
            '--config.env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--config.cmd', '/bin/sh',
            '--history.created', '2024-01-01T00:00:00Z', '--history.created_by', 'BusyboxImage.psm1: config')
        Invoke-FixtureTool umoci @('gc', '--layout', $new)
        # Publish by rename so a concurrent builder never sees half a layout.
        try { [System.IO.Directory]::Move($new, $layout) } catch [System.IO.IOException] { if (-not (Test-Path (Join-Path $layout 'index.json'))) { throw } }
    }
    finally {
        Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
    }
    return $layout
}

function Import-BusyboxImage {
    <#
    .SYNOPSIS
    Imports the cached busybox layout into the current store as localhost/busybox:latest and returns the image.
    #>
    [CmdletBinding()]
    param([string] $Name = 'localhost/busybox:latest')
    $layout = Get-BusyboxLayout
    $existing = Get-ContainerImage -Name $Name -ErrorAction SilentlyContinue
    if ($existing) { return $existing }
    return Import-ContainerImage -Path $layout -Name $Name -ErrorAction Stop
}

function Import-BusyboxWithLayer {
    <#
    .SYNOPSIS
    Imports busybox plus one layer holding the tree at $Tree (ownership and modes as they are there) as $Name; $Work is a
    scratch directory for the layer and the layout.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string] $Tree, [Parameter(Mandatory)] [string] $Work)
    New-Item -ItemType Directory -Force $Work | Out-Null
    Invoke-FixtureTool tar @('--numeric-owner', '-C', $Tree, '-cf', "$Work/layer.tar", '.')
    Copy-Item -Recurse (Get-BusyboxLayout) "$Work/layout"
    Invoke-FixtureTool umoci @('raw', 'add-layer', '--image', "$Work/layout:latest", "$Work/layer.tar")
    Import-ContainerImage -Path "$Work/layout" -Name $Name -ErrorAction Stop
}

Export-ModuleMember -Function Get-BusyboxLayout, Import-BusyboxImage, Import-BusyboxWithLayer
