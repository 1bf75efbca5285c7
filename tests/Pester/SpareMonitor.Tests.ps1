# The session's spare monitor: a pscontainers-init started after a start that waits on its stdin and runs the next start
# (Core/Runtime/SpareMonitor.cs, Init/Launch/Spare.cs). Checked from outside: which process became the monitor, what it
# holds, and that it never outlives its session.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name spare
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:init = [System.IO.Path]::GetFullPath((Join-Path (Split-Path (Get-TestModulePath)) 'pscontainers-init'))

    function script:Get-WaitingSpare([int] $SessionPid = $PID) {
        # Children of the session running `pscontainers-init spare` whose stdin is still the session's pipe (a spare that
        # became a monitor has /dev/null there).
        foreach ($task in Get-ChildItem "/proc/$SessionPid/task" -Directory -ErrorAction SilentlyContinue) {
            foreach ($child in ((Get-Content "$($task.FullName)/children" -Raw -ErrorAction SilentlyContinue) -split ' ' | Where-Object { $_ })) {
                $cmdline = (Get-Content "/proc/$child/cmdline" -Raw -ErrorAction SilentlyContinue) -split "`0"
                $stdin = try { (Get-Item "/proc/$child/fd/0" -ErrorAction Stop).LinkTarget } catch { '' }
                if ($cmdline -contains 'spare' -and $stdin -like 'pipe:*' -and (Test-ProcessAlive $child)) { [int]$child }
            }
        }
    }
    function script:Wait-Spare([int] $SessionPid = $PID, [int] $Not = 0) {
        if (-not (Wait-TestCondition { $script:found = @(Get-WaitingSpare $SessionPid | Where-Object { $_ -ne $Not })[0]; [bool]$script:found } -Seconds 15)) {
            throw "no spare monitor appeared for session $SessionPid"
        }
        return $script:found
    }
    function script:Get-StartTime([int] $ProcessId) {
        $stat = Get-Content "/proc/$ProcessId/stat" -Raw
        return ($stat.Substring($stat.LastIndexOf(')') + 2) -split ' ')[19]
    }
    function script:Get-Environ([int] $ProcessId) {
        return ([System.IO.File]::ReadAllText("/proc/$ProcessId/environ")) -split "`0"
    }
    function script:Start-Session([string] $Command, [string] $Prefix = '') {
        # A second pwsh session (the suite's) that imports the module and runs $Command; returns the process, whose
        # first output line the caller reads. $Prefix runs in sh before pwsh replaces it (e.g. to leak a descriptor).
        $line = "$Prefix exec '$(Get-TestPwsh)' -NoProfile -NonInteractive -Command `"Import-Module '$(Get-TestModulePath)'; $Command`""
        $psi = [System.Diagnostics.ProcessStartInfo]::new('sh')
        foreach ($a in '-c', $line) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        return [System.Diagnostics.Process]::Start($psi)
    }
    function script:Read-SessionLine([System.Diagnostics.Process] $Session) {
        $read = $Session.StandardOutput.ReadLineAsync()
        if (-not $read.Wait(90000) -or $null -eq $read.Result) { throw "the session said nothing: $($Session.StandardError.ReadToEnd())" }
        return $read.Result
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'The spare monitor of a session' -Skip:(-not $isRoot) {
    It 'serves the next start with a monitor that was already running before Start-Container was called' {
        New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container
        $spare = Wait-Spare
        $born = Get-StartTime $spare
        $c = New-Container -Image busybox -Command sleep, 30 | Start-Container -PassThru
        try {
            $c.MonitorPid | Should -Be $spare
            Get-StartTime $c.MonitorPid | Should -Be $born -Because 'the same process, not a new one with a reused pid'
            (Get-Container $c.Name).State | Should -Be 'Running'
            # Right after its handshake line (which Start-Container returns on), not before it.
            Wait-TestCondition { (Get-Item "/proc/$spare/fd/0").LinkTarget -eq '/dev/null' } -Seconds 5 |
                Should -BeTrue -Because 'a monitor lets go of the session'
            Wait-Spare -Not $spare | Should -Not -Be $spare -Because 'the next spare is started after the handshake'
        }
        finally { Remove-Container $c.Name -Force -Confirm:$false }
    }

    It 'waits at idle priority, and the monitor and container it becomes run at the normal one' {
        function Get-Policy([int] $ProcessId) {
            # /proc/<tid>/sched: "policy : 0" (SCHED_OTHER) or 5 (SCHED_IDLE), one per thread.
            foreach ($task in Get-ChildItem "/proc/$ProcessId/task" -Directory) {
                ((Get-Content "$($task.FullName)/sched") -match '^policy\s*:' -replace '^policy\s*:\s*', '').Trim()
            }
        }
        New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container
        $spare = Wait-Spare
        Get-Policy $spare | Sort-Object -Unique | Should -Be '5' -Because 'a spare only takes a CPU nothing else wants'
        # In the session only the threads that start spares and empty the trash (Remove-Container's deletions) are lowered.
        $lowered = foreach ($task in Get-ChildItem "/proc/$PID/task" -Directory) {
            if ((Get-Content "$($task.FullName)/sched") -match '^policy\s*:\s*5$') { (Get-Content "$($task.FullName)/comm").Trim() }
        }
        $lowered | Sort-Object | Should -Be @('pscontainers sp', 'pscontainers tr')
        $c = New-Container -Image busybox -Command sleep, 30 | Start-Container -PassThru
        try {
            $c.MonitorPid | Should -Be $spare
            Get-Policy $c.MonitorPid | Sort-Object -Unique | Should -Be '0' -Because 'every thread of the monitor is back at the normal priority'
            Get-Policy $c.Pid | Sort-Object -Unique | Should -Be '0' -Because 'the container does not inherit the spare''s priority'
        }
        finally { Remove-Container $c.Name -Force -Confirm:$false }
    }

    It 'gives each container it serves a network namespace of its own, made ahead: not the host''s nor the last one''s, only lo, up' {
        New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container
        $first = Wait-Spare
        $a = New-Container -Image busybox -Command sleep, 30 | Start-Container -PassThru
        $second = Wait-Spare -Not $first
        $b = New-Container -Image busybox -Command sleep, 30 | Start-Container -PassThru
        try {
            $a.MonitorPid | Should -Be $first
            $b.MonitorPid | Should -Be $second
            $hostNet = (Get-Item /proc/self/ns/net).LinkTarget
            $netA = (Get-Item "/proc/$($a.Pid)/ns/net").LinkTarget
            $netB = (Get-Item "/proc/$($b.Pid)/ns/net").LinkTarget
            $netA | Should -Not -Be $hostNet
            $netB | Should -Not -Be $hostNet
            $netA | Should -Not -Be $netB
            (Get-Item "/proc/$($a.MonitorPid)/ns/net").LinkTarget | Should -Be $hostNet -Because 'the monitor stays in the host''s'
            @(Get-ChildItem "/proc/$($a.MonitorPid)/fd" | ForEach-Object LinkTarget) | Should -Not -Contain $netA -Because 'the namespace is the container''s, not held by its monitor'
            Invoke-ContainerCommand $b.Name -Command sh, -c, 'ls /sys/class/net; cat /sys/class/net/lo/flags' | Should -Be @('lo', '0x9')
        }
        finally { Remove-Container $a.Name, $b.Name -Force -Confirm:$false }
    }

    It 'starts containers after an administrator killed the spare, and leaves no process behind' {
        New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container
        $spare = Wait-Spare
        & kill -KILL $spare
        Wait-TestCondition { -not (Test-Path "/proc/$spare") } -Seconds 10 | Should -BeTrue -Because 'the session reaps its child'
        $c = New-Container -Image busybox -Command sleep, 30 | Start-Container -PassThru
        try {
            $c.MonitorPid | Should -Not -Be $spare
            (Get-Container $c.Name).State | Should -Be 'Running'
            $next = Wait-Spare
            $next | Should -Not -Be $spare
            $c2 = New-Container -Image busybox -Command /bin/true | Start-Container -Wait -PassThru
            $c2.ExitCode | Should -Be 0
            Remove-Container $c2.Name
        }
        finally { Remove-Container $c.Name -Force -Confirm:$false }
    }

    It 'is given up when the session''s environment changed, and the monitor gets the new environment' {
        New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container
        $stale = Wait-Spare
        $env:PSCONTAINERS_SPARE_TEST = 'changed'
        try {
            $c = New-Container -Image busybox -Command sleep, 30 | Start-Container -PassThru
            $c.MonitorPid | Should -Not -Be $stale
            Get-Environ $c.MonitorPid | Should -Contain 'PSCONTAINERS_SPARE_TEST=changed'
            Wait-TestCondition { -not (Test-ProcessAlive $stale) } -Seconds 10 | Should -BeTrue -Because 'a spare given up ends'
            $fresh = Wait-Spare -Not $stale
            Get-Environ $fresh | Should -Contain 'PSCONTAINERS_SPARE_TEST=changed'
            $d = New-Container -Image busybox -Command sleep, 30 | Start-Container -PassThru
            $d.MonitorPid | Should -Be $fresh
        }
        finally {
            Remove-Item Env:PSCONTAINERS_SPARE_TEST
            Get-Container | Where-Object State -EQ Running | Remove-Container -Force -Confirm:$false
        }
    }

    It 'holds none of the session''s descriptors and ends when the session is killed' {
        $canary = Join-Path $script:root 'canary'
        Set-Content $canary 'secret'
        # fd 7 is leaked into the session (no close-on-exec), as a careless parent would.
        $session = Start-Session -Prefix "exec 7<'$canary';" -Command @'
New-Container -Image busybox -Command /bin/true | Start-Container -Wait | Remove-Container; Write-Output ready; Start-Sleep 120
'@
        try {
            Read-SessionLine $session | Should -Be 'ready'
            $spare = Wait-Spare -SessionPid $session.Id
            (Get-Item "/proc/$($session.Id)/fd/7").LinkTarget | Should -Be $canary -Because 'the session holds it (the control)'
            $held = @(Get-ChildItem "/proc/$spare/fd" | ForEach-Object { $_.LinkTarget })
            $held | Should -Not -Contain $canary
            & kill -KILL $session.Id
            Wait-TestCondition { -not (Test-ProcessAlive $spare) } -Seconds 10 | Should -BeTrue -Because 'a spare never outlives its session'
        }
        finally {
            if (-not $session.HasExited) { $session.Kill() }
            $session.Dispose()
        }
    }
}

Describe 'pscontainers-init spare' -Skip:(-not $isRoot) {
    It 'ends by itself after its idle time while the session still holds its stdin' {
        $psi = [System.Diagnostics.ProcessStartInfo]::new($script:init)
        foreach ($a in 'spare', '--idle-seconds', '1') { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        try {
            $p.WaitForExit(15000) | Should -BeTrue
            $p.ExitCode | Should -Be 0
            $p.StandardOutput.ReadToEnd() | Should -BeNullOrEmpty
        }
        finally { if (-not $p.HasExited) { $p.Kill() }; $p.Dispose() }
    }

    It 'runs only a run command line: anything else is a usage error' {
        $out = "exec`0--state-dir`0/tmp`0--process`0/tmp/p.json`0" | & sh -c "exec '$($script:init)' spare --idle-seconds 30 2>&1"
        $LASTEXITCODE | Should -Be 2
        "$out" | Should -Match '^pscontainers-init spare: usage'
    }
}
