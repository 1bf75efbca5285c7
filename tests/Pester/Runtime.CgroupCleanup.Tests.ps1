# A container's monitor frees its cgroups as its last act after recording the exit; Remove-Container skips its own look
# when the exited run was already found without leftovers. These check the cases where the monitor never got to it (it
# was SIGKILLed): whatever it left is gone after Remove-Container. Real containers of the busybox fixture, real cgroups;
# a host process in the container's pids cgroup keeps the monitor busy freeing it, so the kill lands after the record.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name cgclean
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-BusyboxImage | Out-Null

    function script:Get-CgroupDirs([string] $Id) {
        @(Get-ChildItem /sys/fs/cgroup -Directory -ErrorAction SilentlyContinue |
            ForEach-Object { Join-Path $_.FullName "pscontainers/$Id" } | Where-Object { Test-Path $_ })
    }
    # A running container whose monitor recorded its exit (5) and was then SIGKILLed while a host process held its pids
    # cgroup: the cgroups stay behind. Returns the container and the host process.
    function script:New-KilledMonitorLeftover {
        $c = New-Container -Image busybox -Command sh, -c, 'trap "exit 5" TERM; while :; do sleep 0.1; done'
        $running = $c | Start-Container -PassThru
        $stray = Start-Process sleep -ArgumentList 60 -PassThru
        Set-Content "/sys/fs/cgroup/pids/pscontainers/$($c.Id)/cgroup.procs" $stray.Id
        & kill -TERM $running.Pid
        $done = Wait-Container $c.Name
        $done.ExitCode | Should -Be 5
        & kill -KILL $running.MonitorPid
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ((Test-Path "/proc/$($running.MonitorPid)") -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        Get-CgroupDirs $c.Id | Should -Not -BeNullOrEmpty -Because 'the killed monitor could not free the busy cgroup'
        return $c, $stray
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Cgroups left by a killed monitor' -Skip:(-not $isRoot -or -not (Test-Path /sys/fs/cgroup/pids/cgroup.procs)) {
    It 'are removed by Remove-Container, the process left in them killed' {
        $c, $stray = New-KilledMonitorLeftover
        try {
            Remove-Container $c.Name
            Get-CgroupDirs $c.Id | Should -BeNullOrEmpty
            $stray.WaitForExit(10000) | Should -BeTrue
        }
        finally { if (-not $stray.HasExited) { $stray.Kill() } }
    }

    It 'are removed when the exited container is next looked at, and Remove-Container after that leaves none' {
        $c, $stray = New-KilledMonitorLeftover
        $stray.Kill(); $stray.WaitForExit(10000) | Should -BeTrue
        (Get-Container -Name $c.Name).State | Should -Be 'Exited'
        Get-CgroupDirs $c.Id | Should -BeNullOrEmpty
        Remove-Container $c.Name
        Get-CgroupDirs $c.Id | Should -BeNullOrEmpty
    }

    It 'are removed by Remove-Container when the container ran on after its monitor was killed' {
        $c = New-Container -Image busybox -Command sleep, 600
        $running = $c | Start-Container -PassThru
        & kill -KILL $running.MonitorPid
        & kill -KILL $running.Pid
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ((Get-Container -Name $c.Name).State -ne 'Exited' -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        Remove-Container $c.Name
        Get-CgroupDirs $c.Id | Should -BeNullOrEmpty
    }
}

Describe 'Cgroups left by a start that died' -Skip:(-not $isRoot -or -not (Test-Path /sys/fs/cgroup/pids/cgroup.procs)) {
    It 'are found by the first Start-Container: the process left in them is killed and the container gets its own limit' {
        $c = New-Container -Image busybox -Command sleep, 30 -PidsLimit 50
        # What a session killed between making the cgroups and starting the monitor leaves, with something else in it since.
        $dir = "/sys/fs/cgroup/pids/pscontainers/$($c.Id)"
        New-Item -ItemType Directory $dir -Force | Out-Null
        & sh -c "echo 7 > $dir/pids.max"
        $stray = Start-Process sleep -ArgumentList 60 -PassThru
        try {
            Set-Content "$dir/cgroup.procs" $stray.Id
            $running = $c | Start-Container -PassThru
            Get-Content "$dir/pids.max" | Should -Be '50'
            Get-Content "$dir/cgroup.procs" | Should -Be "$($running.Pid)" -Because 'only the container is in its cgroup'
            $stray.WaitForExit(10000) | Should -BeTrue -Because 'what ran in the leftover was killed'
            Remove-Container $c.Name -Force -Confirm:$false
            Get-CgroupDirs $c.Id | Should -BeNullOrEmpty
        }
        finally { if (-not $stray.HasExited) { $stray.Kill() } }
    }
}
