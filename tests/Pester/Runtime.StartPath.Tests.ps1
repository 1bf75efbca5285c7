# The start path's cycle (create, start, wait, remove) as a script runs it: the container's lock is its directory (no lock
# file), Start-Container -Wait returns once the monitor has recorded the exit (the monitor may still be freeing the
# cgroups), and the shared pscontainers cgroup parent outlives a removal for a moment instead of going and coming back with
# every container. Real containers of the busybox fixture, real cgroups, a second pwsh for the session's end.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name startpath
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-BusyboxImage | Out-Null
    $script:containersDir = Join-Path $env:PSCONTAINERS_DATA_DIR 'containers'

    function script:Get-CgroupDirs([string] $Id) {
        @(Get-ChildItem /sys/fs/cgroup -Directory -ErrorAction SilentlyContinue |
            ForEach-Object { Join-Path $_.FullName "pscontainers/$Id" } | Where-Object { Test-Path $_ })
    }
    function script:Test-Alive([int] $ProcessId) {
        $stat = Get-Content "/proc/$ProcessId/stat" -ErrorAction SilentlyContinue
        return [bool]$stat -and ($stat -split '\) ')[1][0] -ne 'Z'
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Create, start, wait and remove in a loop' -Skip:(-not $isRoot) {
    AfterEach { Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction Continue }

    It 'returns each exit code from Start-Container -Wait, and starting or removing the same container right after works' {
        foreach ($code in 0, 3, 7, 1, 42) {
            $c = New-Container -Image busybox -Command sh, -c, "exit $code"
            ($c | Start-Container -Wait).ExitCode | Should -Be $code
            # Its monitor may still be freeing the cgroups: a start at once waits for it, and records the new run.
            $again = $c | Start-Container -Wait
            $again.ExitCode | Should -Be $code
            $again.State | Should -Be 'Exited'
            $c | Remove-Container
            Test-Path (Join-Path $containersDir $c.Id) | Should -BeFalse
            # The monitor of the second run has ended by now or ends soon; it leaves no cgroup behind.
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while ((Get-CgroupDirs $c.Id).Count -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            Get-CgroupDirs $c.Id | Should -BeNullOrEmpty
        }
    }

    It 'returns from Wait-Container while the monitor still frees a busy cgroup, and Remove-Container then cleans up at once' -Skip:(-not (Test-Path /sys/fs/cgroup/pids/cgroup.procs)) {
        $c = New-Container -Image busybox -Command sh, -c, 'trap "exit 5" TERM; while :; do sleep 0.1; done'
        $running = $c | Start-Container -PassThru
        # A host process joins the container's pids cgroup: once the container has exited, the monitor (which has
        # recorded the exit) keeps trying to remove that busy cgroup for seconds.
        $stray = Start-Process sleep -ArgumentList 60 -PassThru
        try {
            Set-Content "/sys/fs/cgroup/pids/pscontainers/$($c.Id)/cgroup.procs" $stray.Id
            & kill -TERM $running.Pid
            $done = Wait-Container $c.Name
            $done.State | Should -Be 'Exited'
            $done.ExitCode | Should -Be 5
            Test-Alive $running.MonitorPid | Should -BeTrue -Because 'the exit is recorded before the monitor frees the cgroups'
            # Removal does not wait for the monitor: it kills what is left in the cgroup and removes it itself.
            Remove-Container $c.Name
            Get-Container -Name $c.Name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $stray.WaitForExit(10000) | Should -BeTrue
            Get-CgroupDirs $c.Id | Should -BeNullOrEmpty
        }
        finally { if (-not $stray.HasExited) { $stray.Kill() } }
    }

    It 'takes the container''s lock on its directory: Start-Container waits while another process holds it' {
        $c = New-Container -Image busybox -Command true
        $dir = Join-Path $containersDir $c.Id
        # flock(1) holds an exclusive flock of the directory until its stdin closes.
        $psi = [System.Diagnostics.ProcessStartInfo]::new('flock')
        foreach ($a in '-x', $dir, 'sh', '-c', 'echo held; read x') { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $holder = [System.Diagnostics.Process]::Start($psi)
        try {
            $holder.StandardOutput.ReadLine() | Should -Be 'held'
            $start = Start-ThreadJob { param($m, $n) Import-Module $m; Start-Container $n -PassThru } -ArgumentList (Get-TestModulePath), $c.Name
            $start | Wait-Job -Timeout 2 | Out-Null
            $start.State | Should -Be 'Running' -Because 'the start waits for the lock'
            (Get-Container $c.Name).State | Should -Be 'Created'
            $holder.StandardInput.Close()
            $started = $start | Wait-Job -Timeout 30 | Receive-Job
            $started.Name | Should -Be $c.Name
            Get-ChildItem -Force $dir -Filter '.lock' | Should -BeNullOrEmpty
        }
        finally {
            if (-not $holder.HasExited) { $holder.Kill() }
            Get-Job | Remove-Job -Force
        }
    }
}

Describe 'The shared cgroup parent' -Skip:(-not $isRoot -or -not (Test-Path /sys/fs/cgroup/memory/cgroup.procs)) {
    It 'stays after the last container''s removal while the session goes on, and the session leaves no empty parent' {
        $script = @"
Import-Module '$(Get-TestModulePath)'
New-Container -Image busybox -Command true | Start-Container -Wait | Remove-Container
Test-Path /sys/fs/cgroup/memory/pscontainers
"@
        $after = & (Get-TestPwsh) -NoProfile -NonInteractive -Command $script
        $LASTEXITCODE | Should -Be 0
        $after | Should -Be 'True' -Because 'the next container of a loop finds the parent made'
        # Once that session has ended: gone, unless another container (of another test on this host) is in it.
        $parent = '/sys/fs/cgroup/memory/pscontainers'
        if (Test-Path $parent) { @(Get-ChildItem $parent -Directory).Count | Should -BeGreaterThan 0 }
    }
}
