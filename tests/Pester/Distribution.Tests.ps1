# The packages build.ps1 -Task Package makes (build/Package.ps1), installed as a user would install them
# into throw-away places, then used from a fresh pwsh that finds the module by name and runs a container.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name distribution
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:version = (Import-PowerShellDataFile (Get-TestModulePath)).ModuleVersion
    $script:packages = Join-Path $root 'packages'
    $script:made = & (Join-Path $PSScriptRoot '../../build/Package.ps1') -ModulePath (Split-Path (Get-TestModulePath)) -OutPath $packages -Version $version
    $script:debDir = '/usr/local/share/powershell/Modules/Containers'

    function script:Invoke-FreshPwsh([string] $Script, [hashtable] $Environment = @{}) {
        # A new pwsh that computes its own module path (no PSModulePath from this session), with the store of this test.
        $saved = @{}
        $Environment['PSModulePath'] = $null
        foreach ($k in $Environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $Environment[$k]) }
        try { $out = & (Get-TestPwsh) -NoProfile -NonInteractive -Command $Script 2>&1 }
        finally { foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) } }
        if ($LASTEXITCODE -ne 0) { throw "pwsh exited $($LASTEXITCODE): $($out -join "`n")" }
        return @($out | ForEach-Object { "$_" })
    }
}

AfterAll { Remove-TestRoot $script:root }

Describe 'The PowerShell module package' {
    It 'installs with Install-PSResource from a folder repository and runs a container' {
        $made.ModulePackage | Should -Be (Join-Path $packages "Containers.$version.nupkg")
        $userHome = Join-Path $root 'home'
        New-Item -ItemType Directory $userHome | Out-Null
        $out = Invoke-FreshPwsh -Environment @{ HOME = $userHome; XDG_DATA_HOME = $null; XDG_CONFIG_HOME = $null; XDG_CACHE_HOME = $null } @"
Register-PSResourceRepository -Name pscontainers-test -Uri '$packages' -Trusted
Install-PSResource Containers -Repository pscontainers-test -Scope CurrentUser -TrustRepository
Import-Module Containers
'path=' + (Get-Module Containers).ModuleBase
Invoke-ContainerImage busybox -Remove -Command echo, from-the-nupkg
'code=' + `$LASTEXITCODE
"@
        $out | Should -Contain "path=$userHome/.local/share/powershell/Modules/Containers/$version"
        $out | Should -Contain 'from-the-nupkg'
        $out | Should -Contain 'code=0'
    }
}

Describe 'The Debian package' {
    It 'declares its Debian dependencies and ships the module with the init executable' {
        $made.DebianPackage | Should -Be (Join-Path $packages "pscontainers_${version}_amd64.deb")
        $depends = (& dpkg-deb -f $made.DebianPackage Depends) -split ',\s*'
        $depends | Should -Contain 'uidmap'
        $depends | Should -Contain 'containernetworking-plugins'
        $depends | Should -Contain 'passt'
        & dpkg-deb -f $made.DebianPackage Version | Should -Be $version
        $files = & dpkg-deb -c $made.DebianPackage
        $files | Where-Object { $_ -match " \./usr/local/share/powershell/Modules/Containers/pscontainers-init$" } | Should -Match '^-rwxr-xr-x root/root'
        $files | Where-Object { $_ -match " \./usr/local/share/powershell/Modules/Containers/Containers.psd1$" } | Should -Match '^-rw-r--r-- root/root'
    }

    It 'installs with dpkg where pwsh finds it, reports its version, runs a container, and removes cleanly' -Skip:(-not $isRoot) {
        & dpkg-query -W pscontainers 2>$null | Should -BeNullOrEmpty -Because 'the package must not be installed before the test'
        Test-Path $debDir | Should -BeFalse
        $env:DEBIAN_FRONTEND = 'noninteractive'
        & apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $made.DebianPackage 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 0
        try {
            $out = Invoke-FreshPwsh @"
Import-Module Containers
'path=' + (Get-Module Containers).ModuleBase
`$info = Get-ContainerSystemInfo
'package=' + `$info.PackageName + ' ' + `$info.PackageVersion
Invoke-ContainerImage busybox -Remove -Command echo, from-the-deb
'code=' + `$LASTEXITCODE
"@
            $out | Should -Contain "path=$debDir"
            $out | Should -Contain "package=pscontainers $version"
            $out | Should -Contain 'from-the-deb'
            $out | Should -Contain 'code=0'
        }
        finally {
            & apt-get -o DPkg::Lock::Timeout=600 purge -y -qq pscontainers 2>&1 | Out-Null
        }
        & dpkg-query -W pscontainers 2>$null | Should -BeNullOrEmpty
        Test-Path $debDir | Should -BeFalse
    }
}
