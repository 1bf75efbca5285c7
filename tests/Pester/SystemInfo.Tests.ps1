BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name sysinfo
    Import-Module (Get-TestModulePath) -Force
    $script:info = Get-ContainerSystemInfo
}
AfterAll { Remove-TestRoot $script:root }

Describe 'Get-ContainerSystemInfo' {
    It 'reports the versions of the module, .NET, PowerShell and the kernel' {
        $info.ModuleVersion | Should -Be (Get-Module Containers).Version.ToString()
        $info.DotNetVersion | Should -Be ([Environment]::Version.ToString())
        $info.PowerShellVersion | Should -Be $PSVersionTable.PSVersion.ToString()
        $info.KernelRelease | Should -Be (uname -r)
    }

    It 'has no package version when run from a build folder' {
        $info.PackageVersion | Should -BeNullOrEmpty
    }

    It 'reports the cgroup layout the kernel mounted' {
        $mounted = Get-Content /proc/self/mountinfo | Where-Object { $_ -match ' - cgroup cgroup ' }
        if ($mounted) {
            $info.CgroupVersion | Should -Be 'v1'
            if ($mounted -match ',memory') { $info.CgroupControllers | Should -Contain 'memory' }
        }
        else { $info.CgroupVersion | Should -Be 'v2' }
    }

    It 'reports rootless as the effective uid says' {
        $info.Rootless | Should -Be ((id -u) -ne '0')
        $info.UserId | Should -Be ([uint](id -u))
    }

    It 'probes user namespaces and overlayfs through the init binary' {
        $info.ProbeError | Should -BeNullOrEmpty
        # This kernel supports both; the probe mounts for real, so a broken probe shows here.
        $info.UserNamespaces | Should -BeTrue
        $info.Overlay | Should -BeTrue
    }

    It 'shows the storage roots the environment redirected' {
        $info.DataDir | Should -Be $env:PSCONTAINERS_DATA_DIR
        $info.StateDir | Should -Be $env:PSCONTAINERS_STATE_DIR
        $info.AuthFile | Should -Be $env:REGISTRY_AUTH_FILE
    }

    It 'lists the registry configuration files in force, drop-ins in order' {
        $conf = Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf'
        'unqualified-search-registries = []' | Set-Content $conf
        New-Item -ItemType Directory (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf.d') -Force | Out-Null
        'x' | Set-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf.d/20-b.conf')
        'x' | Set-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf.d/10-a.conf')
        $files = (Get-ContainerSystemInfo).RegistryConfigFiles
        $files | Should -Be @($conf, (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf.d/10-a.conf'), (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf.d/20-b.conf'))
    }

    It 'reports the init binary and its version' {
        $info.InitPath | Should -Exist
        $info.InitVersion | Should -Match "pscontainers-init $([regex]::Escape($info.ModuleVersion))"
    }

    It 'shows a default table with the essentials' {
        $text = $info | Out-String
        $text | Should -Match 'Module\s+Package\s+PowerShell\s+Kernel'
        $text | Should -Match ([regex]::Escape((uname -r)))
    }

    It 'logs to a file under the log directory and to -Debug, never to the output' {
        $env:PSCONTAINERS_LOG_LEVEL = 'Debug'
        try {
            $all = Get-ContainerSystemInfo -Debug 5>&1
            $debug = @($all | Where-Object { $_ -is [System.Management.Automation.DebugRecord] })
            $objects = @($all | Where-Object { $_ -isnot [System.Management.Automation.DebugRecord] })
            $objects.Count | Should -Be 1
            $objects[0].GetType().Name | Should -Be 'SystemInfo'
            ($debug.Message -join "`n") | Should -Match 'Probed host features'
            $log = (Get-ContainerSystemInfo).LogFile
            $log | Should -Exist
            Split-Path $log | Should -Be $env:PSCONTAINERS_LOG_DIR
            (Get-Content $log -Raw) | Should -Match '\[DBG\].*Probed host features'
        }
        finally { Remove-Item env:PSCONTAINERS_LOG_LEVEL }
    }

    It 'honours $DebugPreference like -Debug, and -Verbose alone shows no debug messages' {
        $env:PSCONTAINERS_LOG_LEVEL = 'Debug'
        try {
            $DebugPreference = 'Continue'
            $byPreference = @(Get-ContainerSystemInfo 5>&1 | Where-Object { $_ -is [System.Management.Automation.DebugRecord] })
            $DebugPreference = 'SilentlyContinue'
            $byPreference.Message -join "`n" | Should -Match 'Probed host features'
            $verboseOnly = @(Get-ContainerSystemInfo -Verbose 5>&1 4>&1)
            @($verboseOnly | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }).Count | Should -Be 0
            @($verboseOnly | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Count | Should -Be 1
        }
        finally { Remove-Item env:PSCONTAINERS_LOG_LEVEL; $DebugPreference = 'SilentlyContinue' }
    }
}
