# -Ulimit for a rootless user (a throw-away unprivileged user of the host) and for root without CAP_SYS_RESOURCE: each
# limit at or below the caller's own hard limit reaches the container's process, read in its /proc/self/limits; one
# above it (setrlimit would fail at every start) is refused at New-Container, before anything is made.
BeforeDiscovery {
    $script:isRoot = (id -u) -eq '0'
    # What this host lets a process without CAP_SYS_RESOURCE have at most in locked memory (finite here: 8 MiB).
    $script:memlockUnlimited = (& bash -c 'ulimit -Hl').Trim() -eq 'unlimited'
    $capEff = [Convert]::ToUInt64((@(Get-Content /proc/self/status) -match '^CapEff:')[0].Split("`t")[1], 16)
    $script:hasSysResource = (($capEff -shr 24) -band 1) -eq 1
}

Describe 'Ulimits of rootless containers' -Skip:(-not $isRoot -or $memlockUnlimited) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $script:root = New-TestRoot -Name ulimit-rootless
        Import-Module (Get-TestModulePath) -Force
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
        $null = Import-BusyboxImage
        $script:memlockHard = [long](& bash -c 'ulimit -Hl').Trim() * 1024 # KiB; /proc/self/limits says bytes
        $script:probe = 'busybox grep -E "^Max (open files|core file size|processes|locked memory)" /proc/self/limits'
    }

    AfterAll {
        Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-TestRoot $script:root
    }

    It 'gives a rootless container the limits asked for, and refuses one above the user''s hard limit before creating anything' {
        $out = @(Invoke-AsTestUser -Script @"
`$c = New-Container busybox -Ulimit 'nofile=1024:4096', 'core=0', 'nproc=500', 'memlock=65536:$memlockHard' -Command sh, -c, '$probe'
(Start-Container `$c.Name -Wait | Get-ContainerLog).Text
Remove-Container `$c.Name
try { New-Container busybox -Name high -Ulimit 'memlock=unlimited' -Command true -ErrorAction Stop | Out-Null; 'created' }
catch { 'error=' + `$_.FullyQualifiedErrorId; 'message=' + `$_.Exception.Message }
'containers=' + @(Get-Container).Count
"@)
        @($out -match '^Max open files\s+1024\s+4096\s').Count | Should -Be 1 -Because "$out"
        @($out -match '^Max core file size\s+0\s+0\s').Count | Should -Be 1 -Because "$out"
        @($out -match '^Max processes\s+500\s+500\s').Count | Should -Be 1 -Because "$out"
        @($out -match "^Max locked memory\s+65536\s+$memlockHard\s").Count | Should -Be 1 -Because "$out"
        $out | Should -Contain 'error=UlimitTooHigh,Containers.Cmdlets.Commands.Container.NewContainerCommand'
        $out | Should -Contain "message='memlock=unlimited': the hard limit cannot exceed $memlockHard here (raising it needs CAP_SYS_RESOURCE)."
        $out | Should -Contain 'containers=0'
    }

    It 'refuses for root too when it lacks CAP_SYS_RESOURCE (this host), where the start used to fail' -Skip:$hasSysResource {
        { New-Container busybox -Ulimit 'memlock=unlimited' -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'UlimitTooHigh,*'
        @(Get-Container).Count | Should -Be 0
    }
}
