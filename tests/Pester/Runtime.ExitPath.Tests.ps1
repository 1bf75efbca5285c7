# The end of a container, from its exit to the caller: the monitor records the stopped state in a file it made while the
# container started (no inode is created between the exit and the record), swaps it in for the running state, and only
# then tears down (the old state, the cgroups, the mount namespace it held). Real containers of the busybox fixture.
BeforeDiscovery {
    $isRoot = (id -u) -eq '0'
    $hasSlice = [bool](Get-Content /proc/self/sched -ErrorAction SilentlyContinue | Where-Object { $_ -match '^se\.slice\s' })
}
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name exitpath
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-BusyboxImage | Out-Null
    $script:containersDir = Join-Path $env:PSCONTAINERS_DATA_DIR 'containers'

    # Files of the container's directory other than the ones a run keeps: temp files of the state, a replaced state.
    function script:Get-StateLeftovers([string] $Id) {
        @(Get-ChildItem -Force (Join-Path $containersDir $Id) -ErrorAction SilentlyContinue | Where-Object Name -Like 'state.json?*' | ForEach-Object Name)
    }
    function script:Get-State([string] $Id) { Get-Content -Raw (Join-Path $containersDir "$Id/state.json") | ConvertFrom-Json }
    # The request size EEVDF gives a task (Linux 6.12+, /proc/PID/sched needs CONFIG_SCHED_DEBUG); $null when not shown.
    function script:Get-Slice([int] $ProcessId) {
        $line = Get-Content "/proc/$ProcessId/sched" -ErrorAction SilentlyContinue | Where-Object { $_ -match '^se\.slice\s' }
        if ($line) { [long]($line -split '\s+')[-1] }
    }
    function script:Wait-Gone([int] $ProcessId) {
        Wait-TestCondition { -not (Test-ProcessAlive $ProcessId) }.GetNewClosure() -Seconds 20 | Should -BeTrue -Because "monitor $ProcessId ends"
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'The end of a container' -Skip:(-not $isRoot) {
    AfterEach { Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction Continue }

    It 'records the stopped state in a file made before the command ran, and leaves no temp file' {
        $c = New-Container -Image busybox -Command sh, -c, 'sleep 0.3; exit 4'
        $done = $c | Start-Container -Wait
        $done.ExitCode | Should -Be 4
        $done.State | Should -Be 'Exited'
        $state = Get-State $c.Id
        $state.status | Should -Be 'stopped'
        $state.exitCode | Should -Be 4
        # Made while the child set itself up: before the exec (StartedAt), so not between the exit and its record.
        # (Its birth time, which .NET does not read: stat's %W, seconds since the epoch; 0 when the file system keeps none.)
        $born = [decimal](& stat -c '%.9W' (Join-Path $containersDir "$($c.Id)/state.json"))
        $born | Should -BeGreaterThan 0
        $born | Should -BeLessThan ([decimal]([DateTimeOffset]$done.StartedAt).ToUnixTimeMilliseconds() / 1000)
        Wait-Gone $state.monitorPid
        Get-StateLeftovers $c.Id | Should -BeNullOrEmpty
    }

    It 'keeps one whole state through a restart policy, a stop and a failed start, and leaves no temp file' {
        $r = New-Container -Image busybox -RestartPolicy OnFailure -MaxRestarts 2 -Command sh, -c, 'exit 3' | Start-Container -PassThru
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        do { Start-Sleep -Milliseconds 50; $now = Get-Container -Name $r.Name } until (($now.State -eq 'Exited' -and $now.RestartCount -eq 2) -or [DateTime]::UtcNow -gt $deadline)
        $now.RestartCount | Should -Be 2
        $now.ExitCode | Should -Be 3
        Wait-Gone (Get-State $r.Id).monitorPid
        Get-StateLeftovers $r.Id | Should -BeNullOrEmpty

        $s = New-Container -Image busybox -Command sleep, 60 | Start-Container -PassThru
        Get-StateLeftovers $s.Id | Should -HaveCount 1 -Because 'the stopped state''s file is made while the container starts'
        $stopped = $s | Stop-Container -Timeout 1 -PassThru -WarningAction SilentlyContinue
        $stopped.State | Should -Be 'Exited'
        (Get-State $s.Id).status | Should -Be 'stopped'
        Wait-Gone $s.MonitorPid
        Get-StateLeftovers $s.Id | Should -BeNullOrEmpty

        $f = New-Container -Image busybox -Command /no/such/command
        { $f | Start-Container -ErrorAction Stop } | Should -Throw
        (Get-State $f.Id).status | Should -Be 'stopped'
        Wait-Gone (Get-State $f.Id).monitorPid
        Get-StateLeftovers $f.Id | Should -BeNullOrEmpty
    }

    It 'leaves nothing mounted anywhere once its monitor has ended, with Remove-Container racing the teardown' {
        # The monitor holds the container's mount namespace until the exit is recorded, so the unmounts (and the overlay's
        # superblock) go after Start-Container -Wait returned, while Remove-Container deletes the directory.
        $ids = foreach ($i in 1..5) {
            $c = New-Container -Image busybox -Command sh, -c, 'echo data > /written'
            ($c | Start-Container -Wait).ExitCode | Should -Be 0
            $monitor = (Get-State $c.Id).monitorPid
            $c | Remove-Container
            [pscustomobject]@{ Id = $c.Id; Monitor = $monitor }
        }
        foreach ($x in $ids) {
            Wait-Gone $x.Monitor
            $mounted = foreach ($p in [IO.Directory]::GetDirectories('/proc')) {
                if ((Split-Path -Leaf $p) -notmatch '^\d+$') { continue }
                try { [IO.File]::ReadAllLines("$p/mountinfo") | Where-Object { $_.Contains($x.Id) } } catch [IO.IOException] { } catch [UnauthorizedAccessException] { }
            }
            $mounted | Should -BeNullOrEmpty -Because 'no mount namespace may keep the container''s overlay or binds'
            Test-Path (Join-Path $containersDir $x.Id) | Should -BeFalse
        }
    }
}

Describe 'The monitor''s scheduling' -Skip:(-not $isRoot -or -not $hasSlice) {
    AfterEach { Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction Continue }

    It 'asks the scheduler for 0.1 ms requests for the monitor alone, not for the container, also after a restart' {
        $default = Get-Slice $PID
        $c = New-Container -Image busybox -RestartPolicy Always -Command sh, -c, 'sleep 1' | Start-Container -PassThru
        Get-Slice $c.MonitorPid | Should -Be 100000
        Get-Slice $c.Pid | Should -Be $default -Because 'the container''s processes keep the default request size'
        # The monitor runs itself again (exec) for the restart: the new run's container must not inherit the monitor's.
        Wait-TestCondition { (Get-Container -Name $c.Name).RestartCount -ge 1 -and (Get-Container -Name $c.Name).State -eq 'Running' } -Seconds 30 | Should -BeTrue
        $again = Get-Container -Name $c.Name
        $again.MonitorPid | Should -Be $c.MonitorPid
        Get-Slice $again.Pid | Should -Be $default
        Get-Slice $again.MonitorPid | Should -Be 100000
    }
}
