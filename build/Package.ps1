<#
.SYNOPSIS
    Packages a built module folder two ways: a PowerShell module package (.nupkg, as Install-PSResource
    takes it from a folder repository) and a Debian package (.deb) that installs the module where pwsh
    finds it for every user.
.DESCRIPTION
    The .deb installs into /usr/local/share/powershell/Modules/Containers: the one system-wide folder on
    the default PSModulePath of every pwsh on Linux (the Microsoft package's, the dotnet tool's, a
    tarball's), where the module is found by name. Its dependencies are the Debian packages the module
    calls at run time; pwsh itself is not a Debian package and is not declared.
.EXAMPLE
    pwsh build/Package.ps1 -ModulePath out/Containers -OutPath out/packages -Version 0.1.0
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $OutPath,
    [Parameter(Mandatory)] [string] $Version
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$DebName = 'pscontainers'
$DebDepends = 'libc6, uidmap, containernetworking-plugins, passt'
$DebRecommends = 'iptables'
$ModuleInstallDir = '/usr/local/share/powershell/Modules/Containers'

New-Item -ItemType Directory -Path $OutPath -Force | Out-Null
$OutPath = (Resolve-Path $OutPath).Path

# 1. The PowerShell module package: Containers.<version>.nupkg, from the manifest's own metadata.
Get-ChildItem $OutPath -Filter 'Containers.*.nupkg' | Remove-Item
Compress-PSResource -Path $ModulePath -DestinationPath $OutPath
$nupkg = Get-ChildItem $OutPath -Filter "Containers.$Version.nupkg"
if (-not $nupkg) { throw "Compress-PSResource wrote no Containers.$Version.nupkg in $OutPath" }

# 2. The Debian package, built from a staging tree with root-owned files (dpkg-deb --root-owner-group).
$stage = Join-Path $OutPath 'deb-root'
if (Test-Path $stage) { Remove-Item $stage -Recurse -Force }
$target = Join-Path $stage $ModuleInstallDir.TrimStart('/')
New-Item -ItemType Directory -Path $target, (Join-Path $stage 'DEBIAN') -Force | Out-Null
Copy-Item (Join-Path $ModulePath '*') $target -Recurse
# The boot service (not enabled by the package: `systemctl enable pscontainers-restart` or Install-ContainerBootService).
$units = Join-Path $stage 'lib/systemd/system'
New-Item -ItemType Directory -Path $units -Force | Out-Null
Copy-Item (Join-Path $PSScriptRoot 'systemd/pscontainers-restart.service') $units
& chmod -R u=rwX,go=rX $stage
& chmod 0755 (Join-Path $target 'pscontainers-init')
$size = [int][math]::Ceiling(((Get-ChildItem $target -Recurse -File | Measure-Object Length -Sum).Sum) / 1KB)
@"
Package: $DebName
Version: $Version
Architecture: amd64
Maintainer: The Containers developers <containers@localhost>
Installed-Size: $size
Depends: $DebDepends
Recommends: $DebRecommends
Section: admin
Priority: optional
Description: daemonless Linux containers from PowerShell
 The Containers PowerShell module pulls, verifies, stores, runs and inspects
 OCI containers in-process, as root or rootless, with no daemon: each
 container runs under its own small monitor (pscontainers-init, included).
 .
 Installs into $ModuleInstallDir, on the default module path of pwsh
 (Import-Module Containers). PowerShell 7.4 or later is needed and is not a
 Debian package: install it from Microsoft or as a dotnet tool.
"@ -replace "`r", '' | Set-Content (Join-Path $stage 'DEBIAN/control') -NoNewline
Add-Content (Join-Path $stage 'DEBIAN/control') ''
$deb = Join-Path $OutPath "${DebName}_${Version}_amd64.deb"
& dpkg-deb --root-owner-group -Zxz --build $stage $deb | Out-Null
if ($LASTEXITCODE -ne 0) { throw "dpkg-deb exited with $LASTEXITCODE" }
Remove-Item $stage -Recurse -Force

[pscustomobject]@{ ModulePackage = $nupkg.FullName; DebianPackage = $deb }
