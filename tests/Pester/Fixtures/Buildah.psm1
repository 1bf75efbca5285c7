# buildah bud as the peer of New-ContainerImage -Path: storage, registries.conf and auth in the test's
# own temp directory, the base image handed over as an OCI archive, the result imported back here.

function Invoke-BuildahBuild {
    <#
    .SYNOPSIS
    Builds a Containerfile with buildah bud (chroot isolation, docker format, layers) and imports the result into the module's store under -Tag.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Root,
        [Parameter(Mandatory)] [string] $Containerfile,
        [Parameter(Mandatory)] [string] $Context,
        [Parameter(Mandatory)] [string] $Tag,
        [string] $BaseImage = 'localhost/busybox:latest',
        [string[]] $ExtraArguments = @()
    )
    $b = Join-Path $Root 'buildah'
    $storage = @('--root', "$b/root", '--runroot', "$b/run", '--storage-driver', 'vfs')
    $safeTag = $Tag -replace '[^a-zA-Z0-9]', '-'
    Set-Content (Join-Path $Root 'registries.conf') "unqualified-search-registries = []`n"
    $savedAuth = $env:REGISTRY_AUTH_FILE
    $env:CONTAINERS_REGISTRIES_CONF = Join-Path $Root 'registries.conf'; Remove-Item env:REGISTRY_AUTH_FILE -ErrorAction Ignore
    try {
        Save-ContainerImage -Image $BaseImage -Path "$Root/base-$safeTag.tar" -Format OciArchive
        $id = (& buildah @storage pull -q "oci-archive:$Root/base-$safeTag.tar" 2>&1 | Select-Object -Last 1)
        & buildah @storage tag $id $BaseImage
        $log = & buildah @storage bud --isolation chroot --format docker --layers @ExtraArguments -f $Containerfile -t $Tag $Context 2>&1
        if ($LASTEXITCODE -ne 0) { throw "buildah bud failed: $($log -join "`n")" }
        & buildah @storage push $Tag "docker-archive:$Root/$safeTag.tar:$Tag" 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "buildah push $Tag failed" }
    }
    finally {
        & buildah @storage rm -a 2>$null | Out-Null
        & buildah @storage rmi -a -f 2>$null | Out-Null
        Remove-Item env:CONTAINERS_REGISTRIES_CONF
        if ($savedAuth) { $env:REGISTRY_AUTH_FILE = $savedAuth }
    }
    Import-ContainerImage -Path "$Root/$safeTag.tar" -Name $Tag
}

Export-ModuleMember -Function Invoke-BuildahBuild
