# Real containers on this kernel: the module's runtime, its monitor (pscontainers-init) and cgroups.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name runtime
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $script:image = Import-BusyboxImage
    $script:containersDir = Join-Path $env:PSCONTAINERS_DATA_DIR 'containers'

    function script:Get-CgroupDirs([string] $Id) {
        @(Get-ChildItem /sys/fs/cgroup -Directory -ErrorAction SilentlyContinue |
            ForEach-Object { Join-Path $_.FullName "pscontainers/$Id" } | Where-Object { Test-Path $_ })
    }
    function script:Get-ContainerDirs {
        @(if (Test-Path $containersDir) { Get-ChildItem $containersDir -Directory })
    }
    function script:Wait-Until([scriptblock] $Condition, [int] $Seconds = 15) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while ([DateTime]::UtcNow -lt $deadline) { if (& $Condition) { return $true }; Start-Sleep -Milliseconds 50 }
        return $false
    }
    function script:Test-Alive([int] $ProcessId) {
        # A killed container whose monitor is gone is reparented to the host's init, which reaps late: a zombie is not alive.
        $stat = Get-Content "/proc/$ProcessId/stat" -ErrorAction SilentlyContinue
        return [bool]$stat -and ($stat -split '\) ')[1][0] -ne 'Z'
    }
    function script:Run([string] $Script, [hashtable] $Options = @{}) {
        # Runs sh -c $Script to completion; returns stdout lines. $LASTEXITCODE is set by the cmdlet.
        Invoke-ContainerImage -Image busybox -Remove -Command sh, -c, $Script @Options
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Running a container' {
    It 'runs the command as PID 1 and returns its output and exit code' {
        $out = Run 'echo pid=$$; cat /proc/1/cmdline | tr "\0" " "; echo; exit 7'
        $LASTEXITCODE | Should -Be 7
        $out[0] | Should -Be 'pid=1'
        $out[1].Trim() | Should -Be 'sh -c echo pid=$$; cat /proc/1/cmdline | tr "\0" " "; echo; exit 7'
    }

    It 'sets the hostname (given, or the short id by default)' {
        Run 'hostname' @{ Hostname = 'pester-host' } | Should -Be 'pester-host'
        $c = New-Container -Image busybox -Command hostname
        $c | Start-Container -Wait | Out-Null
        (Get-ContainerLog $c.Name).Text | Should -Be $c.Id.Substring(0, 12)
        Remove-Container $c.Name
    }

    It 'merges the environment, working directory and user with the image''s' {
        $out = Run 'echo $FOO; echo $PATH; pwd; id -u; id -g' @{ Environment = @{ FOO = 'bar' }; WorkingDirectory = '/tmp'; User = 'nobody' }
        $out | Should -Be @('bar', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '/tmp', '65534', '65534')
    }

    It 'keeps logs complete after exit, with timestamps and streams' {
        $c = New-Container -Image busybox -Command sh, -c, 'i=1; while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); done; echo oops >&2'
        Start-Container $c.Name -Wait | Out-Null
        $log = Get-ContainerLog $c.Name
        $log.Count | Should -Be 301
        ($log | Where-Object Stream -eq Stdout)[-1].Text | Should -Be 'line 300'
        ($log | Where-Object Stream -eq Stderr).Text | Should -Be 'oops'
        (Get-ContainerLog $c.Name -Tail 2).Count | Should -Be 2
        $log[0].Timestamp | Should -BeGreaterOrEqual $c.Created.AddSeconds(-1)
        Remove-Container $c.Name
    }

    It 'gives the default capabilities, no_new_privs and a seccomp filter' {
        $status = Run 'cat /proc/self/status'
        # podman's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP
        ($status | Where-Object { $_ -like 'CapEff:*' }) -replace '\s+', ' ' | Should -Be 'CapEff: 00000000800405fb'
        ($status | Where-Object { $_ -like 'NoNewPrivs:*' }) -replace '\s+', ' ' | Should -Be 'NoNewPrivs: 1'
        ($status | Where-Object { $_ -like 'Seccomp:*' }) -replace '\s+', ' ' | Should -Be 'Seccomp: 2'
    }

    It 'masks /proc/keys and /proc/acpi and has only loopback in a private network' {
        # /proc/keys is readable on the host; masked, it is /dev/null. /proc/acpi becomes an empty read-only tmpfs.
        (Get-Content /proc/keys -ErrorAction SilentlyContinue) | Should -Not -BeNullOrEmpty
        Run 'wc -c < /proc/keys; stat -f -c %T /proc/acpi; ls /proc/acpi | wc -l; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "' |
            Should -Be @('0', 'tmpfs', '0', 'lo')
    }

    It 'writes its own hosts and resolv.conf from -AddHost and -Dns' {
        $out = Run 'cat /etc/hosts; cat /etc/resolv.conf' @{ AddHost = 'db:10.1.2.3'; Dns = '192.0.2.53'; Hostname = 'h1' }
        $out | Should -Contain "10.1.2.3`tdb"
        $out | Should -Contain "127.0.1.1`th1"
        $out | Should -Contain 'nameserver 192.0.2.53'
    }

    It 'returns 127 and a CommandNotFound error for a command missing in the image' {
        $c = New-Container -Image busybox -Command /no/such/program
        { Start-Container $c.Name -ErrorAction Stop } | Should -Throw -ErrorId 'CommandNotFound*'
        $after = Get-Container $c.Name
        $after.State | Should -Be 'Exited'
        $after.ExitCode | Should -Be 127
        Get-CgroupDirs $c.Id | Should -BeNullOrEmpty
        Remove-Container $c.Name
        Test-Path (Join-Path $containersDir $c.Id) | Should -BeFalse
    }
}

Describe 'Lifecycle' {
    It 'lists, stops with SIGKILL after the timeout, and removes a sleeping container' {
        $c = New-Container -Image busybox -Name sleeper -Command sleep, 300 | Start-Container -PassThru
        $c.State | Should -Be 'Running'
        $c.Pid | Should -BeGreaterThan 0
        (Get-Container 'sleep*').Name | Should -Be 'sleeper'
        (Get-Container -Id $c.Id.Substring(0, 6)).Name | Should -Be 'sleeper'
        (Get-Container -State Running).Name | Should -Contain 'sleeper'
        # sleep as PID 1 has no SIGTERM handler, so only the SIGKILL after the timeout ends it.
        $stopped = Stop-Container sleeper -Timeout 1 -PassThru
        $stopped.State | Should -Be 'Exited'
        $stopped.ExitCode | Should -Be 137
        Test-Alive $c.Pid | Should -BeFalse
        Remove-Container sleeper
        Get-Container sleeper -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Get-CgroupDirs $c.Id | Should -BeNullOrEmpty
    }

    It 'delivers the stop signal to a process that handles it' {
        $c = New-Container -Image busybox -Command sh, -c, 'trap "echo got TERM; exit 0" TERM; echo ready; while true; do sleep 0.1; done' | Start-Container -PassThru
        # sh is PID 1 of its namespace: a TERM that arrives before the trap is set is ignored. Wait for it.
        Wait-Until { (Get-ContainerLog $c.Name).Text -contains 'ready' } | Should -BeTrue
        $s = Stop-Container $c.Name -Timeout 30 -PassThru
        $s.ExitCode | Should -Be 0
        (Get-ContainerLog $c.Name).Text | Should -Be 'ready', 'got TERM'
        Remove-Container $c.Name
    }

    It 'suspends and resumes with the freezer' -Skip:(-not $isRoot) {
        $c = New-Container -Image busybox -Command sleep, 300 | Start-Container -PassThru
        (Suspend-Container $c.Name -PassThru).State | Should -Be 'Paused'
        (Resume-Container $c.Name -PassThru).State | Should -Be 'Running'
        Remove-Container $c.Name -Force -Confirm:$false
        Get-CgroupDirs $c.Id | Should -BeNullOrEmpty
    }

    It 'refuses to remove a running container without -Force' {
        $c = New-Container -Image busybox -Command sleep, 300 | Start-Container -PassThru
        { Remove-Container $c.Name -ErrorAction Stop } | Should -Throw -ErrorId 'ContainerRunning*'
        Remove-Container $c.Name -Force -Confirm:$false
        Test-Alive $c.Pid | Should -BeFalse
        Test-Path (Join-Path $containersDir $c.Id) | Should -BeFalse
    }

    It 'restarts an exited container' {
        $c = New-Container -Image busybox -Command sh, -c, 'echo run' 
        Start-Container $c.Name -Wait | Out-Null
        Restart-Container $c.Name
        (Wait-Container $c.Name -Timeout 30).ExitCode | Should -Be 0
        (Get-ContainerLog $c.Name).Text | Should -Be @('run', 'run')
        Remove-Container $c.Name
    }

    It 'removes exited containers from the pipeline by state' {
        $a = New-Container -Image busybox -Command true
        $b = New-Container -Image busybox -Command true
        $a, $b | Start-Container -Wait | Out-Null
        Get-Container -State Exited | Remove-Container
        Get-Container | Where-Object Id -in $a.Id, $b.Id | Should -BeNullOrEmpty
    }

    It 'lists, stops and removes from another session a container started by a session that has ended' {
        $pwsh = Get-TestPwsh
        $module = Get-TestModulePath
        $name = 'crosssession'
        & $pwsh -NoProfile -NonInteractive -Command "Import-Module '$module'; New-Container -Image busybox -Name $name -Command sleep,300 | Start-Container" | Out-Null
        $LASTEXITCODE | Should -Be 0
        $c = Get-Container $name
        $c.State | Should -Be 'Running'
        Test-Alive $c.MonitorPid | Should -BeTrue
        Stop-Container $name -Timeout 0
        (Get-Container $name).State | Should -Be 'Exited'
        Remove-Container $name
        Get-ContainerDirs | Where-Object Name -eq $c.Id | Should -BeNullOrEmpty
    }

    It 'keeps a container listed and stoppable when its monitor is killed' {
        $c = New-Container -Image busybox -Command sleep, 300 | Start-Container -PassThru
        Stop-Process -Id $c.MonitorPid -Force
        Wait-Until { -not (Test-Alive $c.MonitorPid) } | Should -BeTrue
        (Get-Container $c.Name).State | Should -Be 'Running'
        Remove-Container $c.Name -Force -Confirm:$false
        Test-Alive $c.Pid | Should -BeFalse
        Get-CgroupDirs $c.Id | Should -BeNullOrEmpty
    }
}

Describe 'PowerShell behaviour' {
    It 'runs attached to the console with -Attach and sets $LASTEXITCODE' {
        $psi = [System.Diagnostics.ProcessStartInfo]::new((Get-TestPwsh))
        foreach ($a in '-NoProfile', '-NonInteractive', '-Command', "Import-Module '$(Get-TestModulePath)'; `$c = New-Container -Image busybox -Command sh,-c,'echo attached; exit 4' | Start-Container -Attach -PassThru; 'code=' + `$LASTEXITCODE; 'state=' + `$c.State; Remove-Container `$c.Name") {
            $psi.ArgumentList.Add($a)
        }
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        $read = $p.StandardOutput.ReadToEndAsync()
        if (-not $p.WaitForExit(60000)) {
            # Bounded: a monitor that hangs before exec must fail this test, not the whole suite. Kill what we started, by pid.
            $tree = @($p.Id); $i = 0
            while ($i -lt $tree.Count) {
                $tree += @(Get-ChildItem /proc -Directory | Where-Object Name -match '^\d+$' | Where-Object {
                        $st = Get-Content "$($_.FullName)/stat" -ErrorAction SilentlyContinue
                        $st -and [int](($st -split '\) ')[1].Split(' ')[1]) -eq $tree[$i] } | ForEach-Object { [int]$_.Name })
                $i++
            }
            foreach ($id in $tree) { Stop-Process -Id $id -Force -ErrorAction SilentlyContinue }
            throw 'Start-Container -Attach did not return within 60 s (the monitor hung before starting the container)'
        }
        $out = $read.Result -split "`n" | ForEach-Object Trim
        $out | Should -Contain 'attached'
        $out | Should -Contain 'code=4'
        $out | Should -Contain 'state=Exited'
    }

    It 'follows a log until the container exits' {
        $c = New-Container -Image busybox -Command sh, -c, 'echo one; sleep 1; echo two' | Start-Container -PassThru
        (Get-ContainerLog $c.Name -Follow).Text | Should -Be @('one', 'two')
        (Get-Container $c.Name).State | Should -Be 'Exited'
        Remove-Container $c.Name
    }

    It 'changes nothing with -WhatIf' {
        $before = @(Get-ContainerDirs).Count
        New-Container -Image busybox -Command true -WhatIf | Should -BeNullOrEmpty
        @(Get-ContainerDirs).Count | Should -Be $before
        $c = New-Container -Image busybox -Command sleep, 300 | Start-Container -PassThru
        Stop-Container $c.Name -WhatIf
        Remove-Container $c.Name -Force -WhatIf
        (Get-Container $c.Name).State | Should -Be 'Running'
        Remove-Container $c.Name -Force -Confirm:$false
    }

    It 'binds piped objects by the Id property and completes names' {
        $c = New-Container -Image busybox -Name completeme -Command true
        [pscustomobject]@{ Id = $c.Id } | Get-Container | ForEach-Object Name | Should -Be 'completeme'
        $completion = TabExpansion2 -inputScript 'Get-Container -Name comp' -cursorColumn 'Get-Container -Name comp'.Length
        $completion.CompletionMatches.CompletionText | Should -Contain 'completeme'
        [pscustomobject]@{ Id = $c.Id } | Remove-Container
        Get-Container completeme -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'makes Remove-ContainerImage refuse an image a container uses' {
        $c = New-Container -Image busybox -Name imageuser -Command true
        { Remove-ContainerImage busybox -ErrorAction Stop } | Should -Throw -ErrorId 'ImageInUse*'
        Remove-Container imageuser
        Get-ContainerImage busybox | Should -Not -BeNullOrEmpty
    }

    It 'shows a podman-ps-like table' {
        $c = New-Container -Image busybox -Name tablecheck -Command true
        $text = Get-Container tablecheck | Out-String -Width 200
        $text | Should -Match 'ContainerId\s+Name\s+Image\s+Status\s+Command'
        $text | Should -Match "$($c.Id.Substring(0, 12))\s+tablecheck\s+busybox\s+Created\s+true"
        Remove-Container tablecheck
    }
}

Describe 'Invoke-ContainerCommand' {
    BeforeAll {
        $script:exec = New-Container -Image busybox -Name exectarget -Hostname exechost -Command sleep, 300 | Start-Container -PassThru
    }
    AfterAll { Remove-Container exectarget -Force -Confirm:$false -ErrorAction SilentlyContinue }

    It 'runs in the container''s namespaces: same pid namespace, hostname, root and network' {
        $inside = Invoke-ContainerCommand exectarget sh '-c' 'hostname; cat /proc/1/cmdline | tr "\0" " "; echo; readlink /proc/self/ns/pid; readlink /proc/self/ns/net; readlink /proc/self/ns/mnt'
        $LASTEXITCODE | Should -Be 0
        $inside[0] | Should -Be 'exechost'
        $inside[1].Trim() | Should -Be 'sleep 300'
        $inside[2] | Should -Be (Get-Item "/proc/$($exec.Pid)/ns/pid").Target
        $inside[3] | Should -Be (Get-Item "/proc/$($exec.Pid)/ns/net").Target
        $inside[4] | Should -Be (Get-Item "/proc/$($exec.Pid)/ns/mnt").Target
    }

    It 'has the same capabilities and seccomp mode as the container''s init' {
        $status = Invoke-ContainerCommand exectarget cat /proc/self/status
        ($status | Where-Object { $_ -like 'CapEff:*' }) -replace '\s+', ' ' | Should -Be 'CapEff: 00000000800405fb'
        ($status | Where-Object { $_ -like 'Seccomp:*' }) -replace '\s+', ' ' | Should -Be 'Seccomp: 2'
    }

    It 'returns exit codes, stderr to the error stream, and 127 for a missing command' {
        $err = $null
        $out = Invoke-ContainerCommand exectarget sh '-c' 'echo out; echo bad >&2; exit 5' -ErrorVariable err -ErrorAction SilentlyContinue
        $out | Should -Be 'out'
        $LASTEXITCODE | Should -Be 5
        $err.Exception.Message | Should -Contain 'bad'
        Invoke-ContainerCommand exectarget /no/such/cmd -ErrorAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 127
    }

    It 'runs as another user with extra environment' {
        Invoke-ContainerCommand exectarget -User nobody -Environment @{ X = 'y' } -WorkingDirectory /tmp sh '-c' 'id -u; echo $X; pwd' |
            Should -Be @('65534', 'y', '/tmp')
    }

    It 'refuses a container that is not running' {
        $c = New-Container -Image busybox -Command true
        { Invoke-ContainerCommand $c.Name true -ErrorAction Stop } | Should -Throw -ErrorId 'ContainerNotRunning*'
        Remove-Container $c.Name
    }
}

Describe 'Terminals' {
    BeforeAll {
        $script:ttyProbe = 'if [ -t 0 ] && [ -t 1 ] && [ -t 2 ]; then echo tty=yes; else echo tty=no; fi; tty; echo to-stderr >&2; exit 3'
    }

    It 'gives a detached -Tty container a pseudo-terminal of its own /dev/pts on stdin, stdout and stderr, logged as stdout' {
        $c = New-Container -Image busybox -Tty -Command sh, -c, $ttyProbe | Start-Container -Wait
        $c.Tty | Should -BeTrue
        $c.ExitCode | Should -Be 3
        $log = @(Get-ContainerLog $c.Name)
        $log.Text | Should -Be @('tty=yes', $log[1].Text, 'to-stderr')
        $log[1].Text | Should -Match '^/dev/pts/\d+$'
        # A terminal has one stream; its CR LF line ends are logged without the CR.
        $log.Stream | Sort-Object -Unique | Should -Be 'Stdout'
        $log.Text | Where-Object { $_ -match "`r" } | Should -BeNullOrEmpty
        Remove-Container $c.Name
    }

    It 'gives a container without -Tty no terminal: /dev/null stdin and separate streams' {
        $c = New-Container -Image busybox -Command sh, -c, $ttyProbe | Start-Container -Wait
        $c.Tty | Should -BeFalse
        $c.ExitCode | Should -Be 3
        $log = @(Get-ContainerLog $c.Name)
        @($log | Where-Object Stream -eq 'Stdout').Text | Should -Be @('tty=no', 'not a tty')
        @($log | Where-Object Stream -eq 'Stderr').Text | Should -Be @('to-stderr')
        Remove-Container $c.Name
    }

    It 'keeps a -Tty shell running on its open terminal; exec -Tty gets a terminal of the container, plain exec does not' {
        $c = New-Container -Image busybox -Tty -Command sh | Start-Container -PassThru
        try {
            # Without a terminal sh would read end-of-file from /dev/null and exit at once.
            { Wait-Container $c.Name -Timeout 1 -ErrorAction Stop } | Should -Throw -ErrorId 'WaitTimeout*'
            $out = @(Invoke-ContainerCommand $c.Name -Tty sh '-c' 'tty; [ -t 0 ] && echo stdin-tty; echo err >&2; exit 5' 2>&1 | ForEach-Object { "$_" })
            $LASTEXITCODE | Should -Be 5
            $out[0] | Should -Match '^/dev/pts/\d+$'
            $out[0] | Should -Not -Be '/dev/pts/0'
            $out[1..2] | Should -Be @('stdin-tty', 'err')
            Invoke-ContainerCommand $c.Name sh '-c' 'if [ -t 0 ] || [ -t 1 ]; then echo tty; else echo no-tty; fi' | Should -Be 'no-tty'
        }
        finally { Remove-Container $c.Name -Force -Confirm:$false }
    }

    It 'enters a container, and attaches a -Tty one, from a terminal through pseudo-terminals of the containers (under script(1))' {
        $c = New-Container -Image busybox -Command sleep, 300 | Start-Container -PassThru
        $file = Join-Path $root 'enter.ps1'
        @"
Import-Module '$(Get-TestModulePath)'
Enter-Container $($c.Name); 'code=' + `$LASTEXITCODE
`$a = New-Container -Image busybox -Tty -Command sh,-c,'tty; [ -t 0 ] && echo attached-tty; exit 4' | Start-Container -Attach -PassThru
'attach=' + `$LASTEXITCODE
Remove-Container `$a.Name
"@ | Set-Content $file
        try {
            # The shell is interactive (its stdin is a terminal): answer its prompt.
            $lines = Invoke-InTerminal -File $file -Replies @{ When = '/ # '; Send = "tty; stty size; exit 3`n" }
            $lines | Should -Contain 'code=3'
            $lines | Should -Contain 'attached-tty'
            $lines | Should -Contain 'attach=4'
            # One tty line from the shell entered, one from the attached container: each a pty of its own /dev/pts.
            @($lines | Where-Object { $_ -match '^/dev/pts/\d+$' }).Count | Should -Be 2
            @($lines | Where-Object { $_ -match '^\d+ \d+$' }).Count | Should -Be 1
        }
        finally { Remove-Container $c.Name -Force -Confirm:$false }
    }
}

Describe 'Invoke-ContainerImage -Interactive -Tty -Remove (podman run -it --rm)' {
    It 'runs a throw-away container in this terminal, at its size, with its stdin, and removes it' {
        $file = Join-Path $root 'run-it.ps1'
        @"
Import-Module '$(Get-TestModulePath)'
`$before = @(Get-Container).Count
stty rows 33 cols 101
Invoke-ContainerImage busybox -Interactive -Tty -Remove -Command sh,-c,'tty; stty size; read line; echo "got=`$line"; exit 5'
'code=' + `$LASTEXITCODE
'left=' + (@(Get-Container).Count - `$before)
"@ | Set-Content $file
        $lines = Invoke-InTerminal -File $file -Replies @{ When = '33 101'; Send = "typed-in`n" }
        $lines | Should -Contain '33 101'
        $lines | Should -Contain 'got=typed-in'
        $lines | Should -Contain 'code=5'
        $lines | Should -Contain 'left=0'
        @($lines | Where-Object { $_ -match '^/dev/pts/\d+$' }).Count | Should -Be 1
    }
}

Describe 'Live statistics and ids as the container sees them' {
    AfterEach { Get-Container stream-*, ids-* | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue }

    It 'streams one object per running container per tick, and stops when the pipeline has enough' {
        $a = New-Container -Image busybox -Name stream-a -Command sleep, 300 | Start-Container -PassThru
        $b = New-Container -Image busybox -Name stream-b -Command sleep, 300 | Start-Container -PassThru
        $mine = { $_.Name -in 'stream-a', 'stream-b' }
        $rows = @(Get-ContainerStatistic -Stream -Interval 1 | Where-Object $mine | Select-Object -First 4)
        $rows.Count | Should -Be 4
        ($rows.Name | Sort-Object) | Should -Be @('stream-a', 'stream-a', 'stream-b', 'stream-b')
        @(Get-ContainerStatistic stream-a -Stream -Interval 1 | Select-Object -First 2).Name | Should -Be @('stream-a', 'stream-a')
    }

    It 'streams until it is stopped, as Ctrl+C stops it' {
        $a = New-Container -Image busybox -Name stream-stop -Command sleep, 300 | Start-Container -PassThru
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$(Get-TestModulePath)'; Get-ContainerStatistic stream-stop -Stream -Interval 1")
            $out = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $handle = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $out)
            Wait-Until { $out.Count -ge 2 } -Seconds 30 | Should -BeTrue -Because 'a second tick came'
            $handle.IsCompleted | Should -BeFalse -Because 'it streams until stopped'
            $ps.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $out[0].Name | Should -Be 'stream-stop'
        }
        finally { $ps.Dispose() }
    }

    It 'shows each process with its pid and user inside the container beside the host''s' {
        # The container renames uid 0 in its own /etc/passwd: the name must come from there, not from the host.
        $c = New-Container -Image busybox -Name ids-named -Command sh, -c, 'echo "captain:x:0:0::/:/bin/sh" > /etc/passwd; exec sleep 300' | Start-Container -PassThru
        Wait-Until { @(Get-ContainerProcess ids-named | Where-Object Command -like 'sleep*').Count -eq 1 } | Should -BeTrue
        $p = Get-ContainerProcess ids-named | Where-Object Command -like 'sleep*'
        $p.Pid | Should -Be $c.Pid
        $p.ContainerPid | Should -Be 1
        $hostUid = [uint32]((Get-Content "/proc/$($c.Pid)/status" | Where-Object { $_ -like 'Uid:*' }) -split '\s+')[1]
        $p.UserId | Should -Be $hostUid
        $p.ContainerUserId | Should -Be 0
        $p.ContainerUser | Should -Be 'captain'
        $text = Get-ContainerProcess ids-named | Out-String -Width 80
        $text | Should -Match '^\s*Container\s+HPid\s+Pid\s+HUid\s+User\s+S\s+Command' -Because $text
        $text | Should -Match "ids-named\s+$($c.Pid)\s+1\s+$hostUid\s+captain\s+S\s+sleep 300"
    }

    It 'shows a uid, and does not hang, when the container''s /etc/passwd is a FIFO' {
        $c = New-Container -Image busybox -Name ids-fifo -Command sh, -c, 'rm /etc/passwd; mkfifo /etc/passwd; exec sleep 300' | Start-Container -PassThru
        Wait-Until { @(Get-ContainerProcess ids-fifo | Where-Object Command -like 'sleep*').Count -eq 1 } | Should -BeTrue
        $p = Get-ContainerProcess ids-fifo
        $p.ContainerUserId | Should -Be 0
        $p.ContainerUser | Should -Be '0'
    }
}

Describe 'Limits' -Skip:(-not $isRoot) {
    It 'stops a fork bomb at the pids limit' {
        # sh plus its background sleeps may be at most 16 tasks: the 16th fork fails and the shell gives up.
        $c = New-Container -Image busybox -PidsLimit 16 -Command sh, -c, 'i=0; while [ $i -lt 40 ]; do sleep 300 & echo started; i=$((i+1)); done; echo spawned; sleep 300'
        $done = Start-Container $c.Name -Wait
        $log = Get-ContainerLog $c.Name
        @($log | Where-Object Text -eq 'started').Count | Should -Be 15
        $log.Text | Should -Not -Contain 'spawned'
        ($log | Where-Object Stream -eq Stderr).Text | Should -Match "can't fork"
        $done.ExitCode | Should -Not -Be 0
        Remove-Container $c.Name
        Get-CgroupDirs $c.Id | Should -BeNullOrEmpty
    }

    It 'reports statistics and processes of a running container from its cgroup' {
        $c = New-Container -Image busybox -Memory 32MB -PidsLimit 8 -Command sh, -c, 'sleep 300 & sleep 300' | Start-Container -PassThru
        # sh forks one sleep and (as busybox does for the last command) may exec the other itself.
        Wait-Until { @(Get-ContainerProcess $c.Name | Where-Object Command -like 'sleep*').Count -ge 1 } | Should -BeTrue
        $procs = @(Get-ContainerProcess $c.Name)
        $s = Get-ContainerStatistic $c.Name
        $s.Pids | Should -Be $procs.Count
        $s.PidsLimit | Should -Be 8
        $s.MemoryLimit | Should -Be 32MB
        $s.MemoryUsage | Should -BeGreaterThan 0
        (Get-ContainerProcess $c.Name).Pid | Should -Contain $c.Pid
        Remove-Container $c.Name -Force -Confirm:$false
    }

    It 'OOM-kills an allocation past the memory limit and reports it' {
        $c = New-Container -Image busybox -Memory 16MB -Command sh, -c, 'exec busybox dd if=/dev/zero of=/dev/shm/fill bs=1M count=60' | Start-Container -Wait
        $c.OomKilled | Should -BeTrue
        $c.ExitCode | Should -Be 137
        (Get-Container $c.Name).Resources.MemoryBytes | Should -Be 16MB
        Remove-Container $c.Name
    }
}

Describe 'Bad input leaves nothing behind' {
    BeforeEach { $script:before = @(Get-ContainerDirs).Count }
    AfterEach { @(Get-ContainerDirs).Count | Should -Be $script:before }

    It 'refuses a missing image' {
        { New-Container -Image no-such-image -Pull Never -ErrorAction Stop } | Should -Throw -ErrorId 'ImageNotFound*'
        # pulled by default (-Pull Missing): with no search registries a short name cannot resolve, and says so
        { New-Container -Image no-such-image -ErrorAction Stop } | Should -Throw -ErrorId 'ShortNameNoSearchRegistries*'
    }
    It 'refuses a name in use' {
        $c = New-Container -Image busybox -Name taken -Command true
        try { { New-Container -Image busybox -Name taken -ErrorAction Stop } | Should -Throw -ErrorId 'ContainerNameInUse*' }
        finally { Remove-Container taken }
    }
    It 'refuses invalid memory and CPU values' {
        { New-Container -Image busybox -Memory 1k -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidMemoryLimit*'
        { New-Container -Image busybox -Memory lots -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidMemoryLimit*'
        { New-Container -Image busybox -Cpus 0 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidCpuLimit*'
        { New-Container -Image busybox -Cpus 64 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidCpuLimit*'
    }
    It 'refuses an unknown user' {
        { New-Container -Image busybox -User nosuchuser -ErrorAction Stop } | Should -Throw -ErrorId 'UserNotFound*'
    }
    It 'refuses a missing bind source' {
        { New-Container -Image busybox -Volume '/no/such/dir:/data' -ErrorAction Stop } | Should -Throw -ErrorId 'BindSourceNotFound*'
    }
    It 'reports an unknown container name as ContainerNotFound' {
        { Get-Container no-such-container -ErrorAction Stop } | Should -Throw -ErrorId 'ContainerNotFound*'
        Get-Container 'no-such-*' | Should -BeNullOrEmpty
    }
}

Describe 'A 200-layer image' {
    # The issue's requirement: podman stops at 128 layers ("max depth exceeded"); this image has busybox's
    # layer and 199 more, each holding only /deep/last.txt with its own number, so only the right stacking
    # order (the last layer on top) prints 199. Built with umoci once and cached next to the busybox layout.
    BeforeAll {
        $busyboxLayout = Get-BusyboxLayout
        $cache = (Split-Path $busyboxLayout -Parent) + '-deep200'
        $script:deepLayout = Join-Path $cache 'layout'
        if (-not (Test-Path (Join-Path $deepLayout 'index.json'))) {
            $work = Join-Path $cache ('build-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
            try {
                New-Item -ItemType Directory -Force -Path (Join-Path $work 'src/deep') | Out-Null
                & cp -a $busyboxLayout (Join-Path $work 'layout')
                if ($LASTEXITCODE -ne 0) { throw 'copying the busybox layout failed' }
                $tar = Join-Path $work 'layer.tar'
                foreach ($i in 1..199) {
                    [IO.File]::WriteAllText((Join-Path $work 'src/deep/last.txt'), "$i`n")
                    & tar --numeric-owner --owner=0 --group=0 '--mtime=2024-01-01 00:00:00Z' -C (Join-Path $work 'src') -cf $tar deep
                    if ($LASTEXITCODE -ne 0) { throw "tar of layer $i failed" }
                    $out = & umoci raw add-layer --image "$(Join-Path $work 'layout'):latest" --history.created '2024-01-01T00:00:00Z' --history.created_by "layer $i" $tar 2>&1
                    if ($LASTEXITCODE -ne 0) { throw "umoci add-layer $i failed: $out" }
                }
                & umoci gc --layout (Join-Path $work 'layout')
                try { [IO.Directory]::Move((Join-Path $work 'layout'), $deepLayout) }
                catch [IO.IOException] { if (-not (Test-Path (Join-Path $deepLayout 'index.json'))) { throw } }
            }
            finally { Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue }
        }
        $script:deepImage = Import-ContainerImage -Path $deepLayout -Name localhost/deep200:latest -ErrorAction Stop
    }
    AfterAll {
        Remove-ContainerImage -Name localhost/deep200:latest -Confirm:$false -ErrorAction SilentlyContinue
    }

    It 'runs, with its layers stacked in order' {
        $deepImage.Layers.Count | Should -Be 200
        $out = Invoke-ContainerImage -Image localhost/deep200:latest -Remove -Command cat, /deep/last.txt
        $LASTEXITCODE | Should -Be 0
        $out | Should -Be '199'
    }
}

Describe 'The same bundle under crun' -Skip:(-not $isRoot) {
    It 'gives the process the same capabilities, seccomp, no_new_privs, hostname and mount points as crun run' {
        $probe = 'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):" /proc/self/status; hostname; id; awk "{print \$5}" /proc/self/mountinfo | sort'
        $c = New-Container -Image busybox -Hostname same -Command sh, -c, $probe
        $ours = (Start-Container $c.Name -Wait | Get-ContainerLog).Text

        $theirs = Invoke-BundleUnderCrun (Join-Path $containersDir $c.Id)
        $LASTEXITCODE | Should -Be 0 -Because "$theirs"
        # Same credentials and confinement, line for line.
        $pick = { param($lines) @($lines | Where-Object { $_ -match '^(Cap|NoNewPrivs|Seccomp|uid=)' -or $_ -eq 'same' }) }
        (& $pick $ours) | Should -Be (& $pick $theirs)
        # Same mount points (our root is an overlay and crun's a bind of a directory: the types differ, the points do not).
        @($ours | Where-Object { $_ -like '/*' }) | Should -Be @($theirs | Where-Object { $_ -like '/*' })
        Remove-Container $c.Name
    }
}

Describe 'Rootless (an unprivileged user created by the test)' -Skip:(-not $isRoot) {
    BeforeAll {
        $script:pwshDll = Get-TestPwshForUsers
        $script:users = [System.Collections.Generic.List[string]]::new()

        function script:New-TestUser([switch] $NoSubordinateIds) {
            $name = 'psrt' + (Get-Random -Maximum 999999)
            $home_ = Join-Path ([System.IO.Path]::GetTempPath()) "$name-home"
            & useradd --create-home --home-dir $home_ --shell /bin/sh --user-group $name
            if ($LASTEXITCODE) { throw "useradd $name failed" }
            $users.Add($name)
            if ($NoSubordinateIds) {
                foreach ($f in '/etc/subuid', '/etc/subgid') {
                    $kept = @(Get-Content $f | Where-Object { $_ -notlike "${name}:*" })
                    Set-Content $f $kept
                }
            }
            [pscustomobject]@{ Name = $name; Home = $home_; Uid = [uint32](& id -u $name) }
        }

        Import-Module (Join-Path $PSScriptRoot 'Fixtures/TestUsers.psm1') -Force
        function script:Invoke-AsUser($User, [string] $Script) {
            # Runs a script in a fresh pwsh as the user, with the module and a store in the user's home; returns its JSON output.
            Invoke-AsFixtureUser $User $Script -ModulePath (Get-TestModulePathForUsers) -PwshDll $pwshDll
        }
    }
    AfterAll {
        foreach ($u in $users) {
            # A killed container is reaped late by this host's init; userdel refuses while the user has processes.
            $null = Wait-Until { -not (& pgrep -u $u) } 30
            & userdel --remove $u 2>$null
            Remove-Item (Join-Path ([System.IO.Path]::GetTempPath()) "$u-home") -Recurse -Force -ErrorAction SilentlyContinue
        }
    }

    It 'maps root to the user and subordinate ids through newuidmap, warns that v1 limits do not apply, and removes everything' {
        $u = New-TestUser
        $r = Invoke-AsUser $u @'
$w = $null
$out = Invoke-ContainerImage busybox -Name rl -Memory 64MB -Command sh,-c,'id -u; cat /proc/self/uid_map; mkdir -p /home/x && chown 1000 /home/x && echo wrote' -WarningVariable w 3>$null
$code = $LASTEXITCODE
$c = New-Container -Image busybox -Command sleep,300 | Start-Container -PassThru
$execUid = Invoke-ContainerCommand $c.Name id '-u'
$t = New-Container -Image busybox -Tty -Command sh,-c,'[ -t 0 ] && [ -t 1 ] && tty' | Start-Container -Wait
$tty = @((Get-ContainerLog $t.Name).Text)
Remove-Container rl, $t.Name
Remove-Container $c.Name -Force -Confirm:$false
[pscustomobject]@{ Out = $out; Code = $code; Warn = "$w"; ExecUid = $execUid; Rootless = $c.Rootless; Tty = $tty; Left = @(Get-ChildItem "$HOME/pscontainers/data/containers").Count } | ConvertTo-Json -Compress
'@
        $r.Code | Should -Be 0
        $r.Out[0] | Should -Be '0'
        ($r.Out[1] -split '\s+' | Where-Object { $_ }) -join ' ' | Should -Be "0 $($u.Uid) 1"
        ($r.Out[2] -split '\s+' | Where-Object { $_ })[0] | Should -Be '1'
        $r.Out[-1] | Should -Be 'wrote'
        $r.Warn | Should -Match 'without resource limits'
        $r.ExecUid | Should -Be '0'
        $r.Rootless | Should -BeTrue
        # A terminal in a user namespace: the container's own devpts.
        @($r.Tty).Count | Should -Be 1
        $r.Tty | Should -Match '^/dev/pts/\d+$'

        $r.Left | Should -Be 0
    }

    It 'removes, as the user, containers whose files belong to subordinate ids, and the image: nothing is left' {
        $u = New-TestUser
        $subuid = [uint32]((Get-Content /etc/subuid | Where-Object { $_ -like "$($u.Name):*" } | Select-Object -First 1).Split(':')[1])
        $r = Invoke-AsUser $u @'
$containers = "$HOME/pscontainers/data/containers"
# Root of the container gives a tree to uid 1000; a process running as uid 1000 writes a private directory.
$a = New-Container -Image busybox -Command sh,-c,'mkdir -p /data/sub && echo x > /data/sub/f && chown -R 1000:1000 /data' | Start-Container -Wait
$b = New-Container -Image busybox -User 1000:1000 -Command sh,-c,'mkdir /tmp/own && echo x > /tmp/own/f && chmod 700 /tmp/own' | Start-Container -Wait
$files = "$containers/$($a.Id)/upper/data/sub/f", "$containers/$($b.Id)/upper/tmp/own/f"
$owners = @($files | ForEach-Object { & stat -c %u (Split-Path $_) })
# Proof that this user cannot delete them itself (the test would pass for nothing otherwise).
$denied = @($files | ForEach-Object { try { [System.IO.File]::Delete($_); 'deleted' } catch { 'denied' } })
Remove-Container $a.Name, $b.Name
$left = @(Get-ChildItem $containers).Count
Remove-ContainerImage busybox
# Everything under the store is this user's own again: it deletes the whole store itself.
$clean = try { Remove-Item "$HOME/pscontainers" -Recurse -Force -ErrorAction Stop; $true } catch { "$_" }
[pscustomobject]@{ Codes = @($a.ExitCode, $b.ExitCode); Owners = $owners; Denied = $denied; Left = $left; Clean = $clean } | ConvertTo-Json -Compress
'@
        $r.Codes | Should -Be @(0, 0)
        $r.Owners | Should -Be @("$($subuid + 999)", "$($subuid + 999)")
        $r.Denied | Should -Be @('denied', 'denied')
        $r.Left | Should -Be 0
        $r.Clean | Should -BeTrue
    }

    It 'falls back to the single own id without subordinate ranges, says so, and refuses other users' {
        $u = New-TestUser -NoSubordinateIds
        $r = Invoke-AsUser $u @'
$w = $null
$out = Invoke-ContainerImage busybox -Remove -Command sh,-c,'id -u; cat /proc/self/uid_map' -WarningVariable w 3>$null
$err = try { New-Container -Image busybox -User nobody -Command true -ErrorAction Stop; 'none' } catch { $_.FullyQualifiedErrorId }
$t = New-Container -Image busybox -Tty -Command sh,-c,'[ -t 0 ] && [ -t 1 ] && tty' | Start-Container -Wait 3>$null
$tty = @((Get-ContainerLog $t.Name).Text)
Remove-Container $t.Name
[pscustomobject]@{ Out = $out; Warn = "$w"; Err = $err; Tty = $tty; Left = @(Get-ChildItem "$HOME/pscontainers/data/containers").Count } | ConvertTo-Json -Compress
'@
        $r.Out[0] | Should -Be '0'
        @($r.Out).Count | Should -Be 2
        ($r.Out[1] -split '\s+' | Where-Object { $_ }) -join ' ' | Should -Be "0 $($u.Uid) 1"
        $r.Warn | Should -Match 'no subordinate id ranges'
        $r.Err | Should -BeLike 'UserNotMapped*'
        # A terminal with only the own id mapped (devpts without a gid= the namespace lacks).
        @($r.Tty).Count | Should -Be 1
        $r.Tty | Should -Match '^/dev/pts/\d+$'
        $r.Left | Should -Be 0
    }

    It 'binds a -Device node into a rootless container with the host''s permissions for the user; mknod stays refused' -Skip:(-not (Test-Path /dev/fuse) -or [bool]((Get-Item /dev/fuse).UnixFileMode -band [System.IO.UnixFileMode]::OtherWrite)) {
        $u = New-TestUser
        $r = Invoke-AsUser $u @'
$out = Invoke-ContainerImage busybox -Remove -Device '/dev/null:/dev/quiet:rw', '/dev/fuse' -Command sh,-c,'echo x > /dev/quiet && echo quiet=written; (exec 3<>/dev/fuse) 2>&1 | busybox tail -n 1; busybox mknod /tmp/k c 1 3 2>&1 | busybox tail -n 1' 3>$null
[pscustomobject]@{ Out = $out; Left = @(Get-ChildItem "$HOME/pscontainers/data/containers").Count } | ConvertTo-Json -Compress
'@
        $r.Out[0] | Should -Be 'quiet=written'
        # /dev/fuse is root's alone on this host: root inside the container is the user outside, and gets no more.
        $r.Out[1] | Should -Match 'Permission denied'
        $r.Out[2] | Should -Match 'Operation not permitted'
        $r.Left | Should -Be 0
    }
}
