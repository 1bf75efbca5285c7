# Test fixture: a Debian 12 root file system with PostgreSQL, nginx-light and python3, built by mmdebstrap from the
# apt mirror this host uses, cached outside the repository (under the fixture cache), and imported into the store.
#
#   Import-Module tests/Pester/Fixtures/DebianImage.psm1
#   $name = Import-DebianWorkloadImage      # localhost/debian-workload:12 in the current store

$script:Packages = 'postgresql,nginx-light,python3'

function Get-DebianMirror {
    # The host's own mirror (deb822 sources first, then the one-line format).
    foreach ($f in @(Get-ChildItem /etc/apt/sources.list.d/*.sources -ErrorAction SilentlyContinue) + @(Get-Item /etc/apt/sources.list -ErrorAction SilentlyContinue)) {
        foreach ($line in Get-Content $f) {
            if ($line -match '^\s*URIs:\s*(\S+)') { return $Matches[1] }
            if ($line -match '^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s') { return $Matches[1] }
        }
    }
    return 'http://deb.debian.org/debian'
}

function Get-DebianWorkloadTarball {
    $base = if ($env:PSCONTAINERS_FIXTURE_CACHE) { $env:PSCONTAINERS_FIXTURE_CACHE } elseif ($env:XDG_CACHE_HOME) { Join-Path $env:XDG_CACHE_HOME 'pscontainers-fixture' } else { Join-Path $HOME '.cache/pscontainers-fixture' }
    $key = [Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes("bookworm|$script:Packages"))).Substring(0, 12).ToLowerInvariant()
    $tar = Join-Path $base "debian-workload-$key.tar"
    if (Test-Path $tar) { return $tar }
    if (-not (Get-Command mmdebstrap -ErrorAction SilentlyContinue)) { throw 'mmdebstrap is not installed (apt-get install mmdebstrap)' }
    New-Item -ItemType Directory -Force $base | Out-Null
    $partial = Join-Path $base "debian-workload-$key.partial-$PID.tar"
    $out = & mmdebstrap --variant=minbase "--include=$script:Packages" bookworm $partial (Get-DebianMirror) 2>&1
    if ($LASTEXITCODE) { Remove-Item $partial -ErrorAction SilentlyContinue; throw "mmdebstrap failed ($LASTEXITCODE): $($out | Select-Object -Last 5)" }
    # Published by rename: a concurrent builder never imports half a tarball.
    Move-Item $partial $tar -Force
    return $tar
}

function Import-DebianWorkloadImage {
    $name = 'localhost/debian-workload:12'
    if (-not (Get-ContainerImage $name -ErrorAction SilentlyContinue)) {
        $null = Import-ContainerImage -RootFsTarball (Get-DebianWorkloadTarball) -Name $name -Change 'CMD ["/bin/bash"]', 'ENV LANG=C.UTF-8'
    }
    return $name
}

Export-ModuleMember -Function Import-DebianWorkloadImage, Get-DebianWorkloadTarball
