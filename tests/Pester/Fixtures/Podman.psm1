# Test peer: podman 4.3 configured only by files in a test's temp dir (runc, cgroupfs, file events,
# ulimits within this host's hard limits, no network), as bench/Runtime.Bench.ps1 configures it.
# Podman's default storage and the host's /etc/containers are never touched.
#
#   $podman = Initialize-TestPodman -Root $root     # sets CONTAINERS_CONF & co for this process
#   $id = Import-PodmanImage -Podman $podman -Image busybox
#   Remove-TestPodman $podman                       # removes its containers, storage and mounts; restores the variables

function Initialize-TestPodman {
    param([Parameter(Mandatory)] [string] $Root)
    $dir = Join-Path $Root 'podman'
    New-Item -ItemType Directory $dir, "$dir/cni" -Force | Out-Null
    $nofile = (& bash -c 'ulimit -Hn').Trim(); if ($nofile -eq 'unlimited') { $nofile = 1048576 }
    $nproc = (& bash -c 'ulimit -Hu').Trim(); if ($nproc -eq 'unlimited' -or [long]$nproc -gt 32768) { $nproc = 32768 }
    Set-Content "$dir/containers.conf" @"
[containers]
netns = "none"
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$dir/events.log"
runtime = "runc"
tmp_dir = "$dir/tmp"

# The module under test reads CONTAINERS_CONF too: without -Network its containers get loopback only, as in New-TestRoot.
# podman's networks live in this dir: with "podman" no longer its default network, its reset (Remove-TestPodman) would
# delete the host's /etc/cni/net.d/87-podman-bridge.conflist.
[network]
default_network = "private"
network_config_dir = "$dir/cni"
"@
    Set-Content "$dir/storage.conf" "[storage]`ndriver = `"overlay`"`ngraphroot = `"$dir/root`"`nrunroot = `"$dir/run`"`n"
    Set-Content "$dir/registries.conf" "unqualified-search-registries = []`n"
    $saved = @{}
    foreach ($v in @{ CONTAINERS_CONF = 'containers.conf'; CONTAINERS_STORAGE_CONF = 'storage.conf'; CONTAINERS_REGISTRIES_CONF = 'registries.conf' }.GetEnumerator()) {
        $saved[$v.Key] = [Environment]::GetEnvironmentVariable($v.Key)
        [Environment]::SetEnvironmentVariable($v.Key, (Join-Path $dir $v.Value))
    }
    if ($env:REGISTRY_AUTH_FILE -and -not (Test-Path $env:REGISTRY_AUTH_FILE)) { Set-Content $env:REGISTRY_AUTH_FILE '{"auths":{}}' }
    return [pscustomobject]@{ Dir = $dir; Saved = $saved; Cgroups = @(Get-PodmanCgroup) }
}

# podman (runc, on this hybrid host) leaves its containers' empty cgroup2 directories under libpod_parent.
function Get-PodmanCgroup { @(Get-ChildItem /sys/fs/cgroup/*/libpod_parent -Directory -Recurse -ErrorAction SilentlyContinue).FullName }

function Invoke-Podman {
    # Runs podman; throws with its output when it fails. Returns stdout lines.
    $out = & podman @args 2>&1
    if ($LASTEXITCODE -ne 0) { throw "podman $($args -join ' ') failed ($LASTEXITCODE): $($out -join "`n")" }
    return $out | Where-Object { $_ -is [string] }
}

function Import-PodmanImage {
    # Gives podman an image of the module's store (through an oci-archive); returns podman's image id.
    param([Parameter(Mandatory)] $Podman, [Parameter(Mandatory)] [string] $Image)
    $archive = Join-Path $Podman.Dir ('image-' + [guid]::NewGuid().ToString('N').Substring(0, 8) + '.tar')
    Save-ContainerImage -Image $Image -Path $archive -Format OciArchive
    return (Invoke-Podman pull -q "oci-archive:$archive" | Select-Object -Last 1).Trim()
}

function Export-PodmanImage {
    # Brings a podman image into the module's store (through an oci-archive) under a name; returns it.
    param([Parameter(Mandatory)] $Podman, [Parameter(Mandatory)] [string] $Image, [Parameter(Mandatory)] [string] $Name)
    $archive = Join-Path $Podman.Dir ('export-' + [guid]::NewGuid().ToString('N').Substring(0, 8) + '.tar')
    Invoke-Podman save --format oci-archive -o $archive $Image | Out-Null
    return Import-ContainerImage -Path $archive -Name $Name -ErrorAction Stop
}

function Remove-TestPodman {
    param($Podman)
    if (-not $Podman) { return }
    & podman rm -a -f -t 0 2>$null | Out-Null
    & podman system reset -f 2>$null | Out-Null
    Get-Content /proc/self/mountinfo | ForEach-Object { $_.Split(' ')[4] } | Where-Object { $_.StartsWith($Podman.Dir) } |
        Sort-Object Length -Descending | ForEach-Object { & umount -l $_ 2>$null }
    # The cgroups that appeared while it was in use (rmdir only: one that still has processes stays).
    foreach ($dir in @(Get-PodmanCgroup | Where-Object { $_ -notin $Podman.Cgroups } | Sort-Object Length -Descending)) {
        try { [IO.Directory]::Delete($dir, $false) } catch [IO.IOException] { }
    }
    # Unset what was unset: [Environment]::SetEnvironmentVariable($k, $null) from PowerShell passes "" and leaves an empty variable.
    foreach ($k in $Podman.Saved.Keys) {
        if ($null -eq $Podman.Saved[$k]) { Remove-Item "env:$k" -ErrorAction SilentlyContinue } else { Set-Item "env:$k" $Podman.Saved[$k] }
    }
}

Export-ModuleMember -Function Initialize-TestPodman, Invoke-Podman, Import-PodmanImage, Export-PodmanImage, Remove-TestPodman
