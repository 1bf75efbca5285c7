# Isolation against hostile images and containers, checked from inside and from the host.
# Each Describe block is self-contained (its own test root, images and cleanup).
BeforeDiscovery { $isRoot = (id -u) -eq '0' }

Describe 'Isolation: descriptors, terminal, seccomp' -Skip:(-not $isRoot) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $script:root = New-TestRoot -Name isolation-exec
        Import-Module (Get-TestModulePath) -Force
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
        Import-BusyboxImage | Out-Null

        # What a hostile process tries (TIOCSTI, clone flags, clone3, io_uring ...): busybox has none of it, so a static
        # probe is built here and bind-mounted read-only at /probe.
        $probeDir = Join-Path $root 'probe'
        New-Item -ItemType Directory -Force $probeDir | Out-Null
        $out = & gcc -static -O2 -pthread -o (Join-Path $probeDir 'isolation-probe') (Join-Path $PSScriptRoot 'Fixtures/isolation-probe.c') 2>&1
        if ($LASTEXITCODE) { throw "gcc -static failed: $out" }
        $script:probe = @{ Image = 'busybox'; Volume = "${probeDir}:/probe:ro" }
        $script:target = New-Container @probe -Name iso-exec-target -Command sleep, 600 | Start-Container -PassThru

        # A file of the host the container must not reach through a leaked descriptor.
        $script:canary = Join-Path $root 'canary.txt'
        Set-Content $canary 'untouched'
        $script:pwsh = Get-TestPwsh

        function script:Find-HostProcess([string] $Marker) {
            # The host pid of the process whose argv is exactly "/probe/isolation-probe sleep <Marker>".
            foreach ($dir in Get-ChildItem /proc -Directory -ErrorAction SilentlyContinue | Where-Object Name -match '^\d+$') {
                $cmdline = try { [System.IO.File]::ReadAllText("$($dir.FullName)/cmdline") } catch { '' }
                if ($cmdline -eq "/probe/isolation-probe`0sleep`0$Marker`0") { return [int]$dir.Name }
            }
        }

        function script:Invoke-WithLeakedDescriptor([string] $Command, [string] $Marker, [string] $Stdin = '') {
            # Runs $Command (PowerShell) in a pwsh started by a bash that opened the host's / on fd 7 and the canary on
            # fd 8 without close-on-exec, as an admin's shell may. $Command ends in "isolation-probe sleep $Marker"
            # inside the container: the descriptors of that process are read from the host, then it is killed.
            $file = Join-Path $root "leak-$Marker.ps1"
            "Import-Module '$(Get-TestModulePath)'`n$Command`n'exit=' + `$LASTEXITCODE" | Set-Content $file
            $psi = [System.Diagnostics.ProcessStartInfo]::new('bash')
            foreach ($a in '-c', 'exec 7</ 8>>"$1"; exec "$2" -NoProfile -NonInteractive -File "$3"', 'bash', $canary, $pwsh, $file) { $psi.ArgumentList.Add($a) }
            $psi.RedirectStandardInput = $true
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $p = [System.Diagnostics.Process]::Start($psi)
            try {
                $output = $p.StandardOutput.ReadToEndAsync()
                $errors = $p.StandardError.ReadToEndAsync()
                if ($Stdin) { $p.StandardInput.Write($Stdin) }
                $p.StandardInput.Close()
                $found = $null
                $deadline = [DateTime]::UtcNow.AddSeconds(60)
                while (-not $found -and -not $p.HasExited -and [DateTime]::UtcNow -lt $deadline) {
                    $found = Find-HostProcess $Marker
                    if (-not $found) { Start-Sleep -Milliseconds 100 }
                }
                $fds = if ($found) { @(Get-ChildItem "/proc/$found/fd" | ForEach-Object { [int]$_.Name } | Sort-Object) }
                if ($found) { kill -KILL $found }
                $p.WaitForExit(30000) | Out-Null
                [pscustomobject]@{ Found = [bool]$found; Fds = $fds; Output = $output.Result + $errors.Result }
            }
            finally { if (-not $p.HasExited) { $p.Kill($true) } }
        }

        function script:Invoke-InScript([string] $Command, [object[]] $Answers = @(@{ When = 'pwsh-done'; Send = "clean`n" })) {
            # Runs $Command (PowerShell) in a pwsh on a terminal (script(1)); then the shell that started that pwsh reads
            # one line from the terminal: what it got shows whether anything was typed into it besides $Answers.
            $file = Join-Path $root ('tty-' + [guid]::NewGuid().ToString('N').Substring(0, 8) + '.ps1')
            "Import-Module '$(Get-TestModulePath)'`n$Command`n'pwsh-done'" | Set-Content $file
            Invoke-UnderScript "sh -c '""$pwsh"" -NoProfile -NonInteractive -File ""$file""; IFS= read -r line; echo ""after=[`$line]""'" -Replies $Answers
        }

        function script:Invoke-Probe([string[]] $Arguments, [hashtable] $Options = @{}) {
            Invoke-ContainerImage @probe @Options -Remove -Command (@('/probe/isolation-probe') + $Arguments)
        }
    }

    AfterAll {
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-TestRoot $script:root
    }

    It 'lets no descriptor of the caller into a process started by <Name> (from a bash that opened the host''s / as fd 7 and a canary as fd 8)' -ForEach @(
        @{ Name = 'Invoke-ContainerCommand'; Marker = '1001'; Stdin = ''
            Command = 'Invoke-ContainerCommand iso-exec-target sh "-c" "ls /proc/self/fd/7/; echo pwned >&8; echo pwned >> /proc/self/fd/8; exec /probe/isolation-probe sleep 1001"' }
        @{ Name = 'Invoke-ContainerCommand -Tty'; Marker = '1002'; Stdin = ''
            Command = 'Invoke-ContainerCommand iso-exec-target -Tty sh "-c" "ls /proc/self/fd/7/; echo pwned >&8; echo pwned >> /proc/self/fd/8; exec /probe/isolation-probe sleep 1002"' }
        @{ Name = 'Enter-Container'; Marker = '1003'
            Stdin = "ls /proc/self/fd/7/; echo pwned >&8; echo pwned >> /proc/self/fd/8; exec /probe/isolation-probe sleep 1003`n"
            Command = 'Enter-Container iso-exec-target' }
        @{ Name = 'Start-Container -Attach'; Marker = '1004'; Stdin = ''
            Command = "New-Container -Image busybox -Volume PROBE_VOLUME -Command sh, -c, 'ls /proc/self/fd/7/; echo pwned >&8; echo pwned >> /proc/self/fd/8; exec /probe/isolation-probe sleep 1004' | Start-Container -Attach -PassThru | Remove-Container" }
    ) {
        $r = Invoke-WithLeakedDescriptor -Command $Command.Replace('PROBE_VOLUME', "'$($probe.Volume)'") -Marker $Marker -Stdin $Stdin
        $r.Found | Should -BeTrue -Because "the container process never showed up: $($r.Output)"
        # Seen from the host: stdin, stdout and stderr, nothing of the caller and nothing of Init (its error pipe, namespace fds).
        $r.Fds | Should -Be @(0, 1, 2)
        $r.Output | Should -Not -Match '\b(usr|boot|var)\b' -Because 'fd 7 must not list the host''s /'
        Get-Content $canary | Should -Be 'untouched'
    }

    It 'refuses a working directory that leads through a leaked descriptor onto the host' {
        $r = Invoke-WithLeakedDescriptor -Marker 1005 -Command 'Invoke-ContainerCommand iso-exec-target -WorkingDirectory /proc/self/fd/7 sh "-c" "pwd; ls"'
        $r.Output | Should -Match 'chdir to /proc/self/fd/7'
        $r.Output | Should -Match 'exit=125'
        $r.Output | Should -Not -Match '\b(usr|boot|var)\b'
    }

    It 'gives a process on the caller''s terminal without -Tty a session of its own: it cannot type into the admin''s shell (script(1))' {
        $lines = Invoke-InScript @"
`$a = New-Container -Image busybox -Volume '$($probe.Volume)' -Command /probe/isolation-probe, tiocsti, "echo INJECTED-BY-RUN``n" | Start-Container -Attach -PassThru
Remove-Container `$a.Name
Invoke-ContainerCommand iso-exec-target -Interactive /probe/isolation-probe tiocsti "echo INJECTED-BY-EXEC``n"
Invoke-ContainerCommand iso-exec-target -Interactive /probe/isolation-probe session
`$s = New-Container -Image busybox -Volume '$($probe.Volume)' -Command /probe/isolation-probe, session | Start-Container -Attach -PassThru
Remove-Container `$s.Name
"@
        # The shell that started pwsh reads what the admin typed, and nothing pushed by a container.
        $lines | Should -Contain 'after=[clean]'
        $lines -match 'INJECTED' | Should -BeNullOrEmpty
        @($lines -match '^tiocsti=').Count | Should -Be 2
        $lines -match '^tiocsti=' | Should -Not -Contain 'tiocsti=ok'
        # No controlling terminal: /dev/tty cannot be opened, and the process leads its own session (exec and run).
        @($lines -eq 'own-session=yes').Count | Should -Be 2
        @($lines -eq 'controlling-terminal=ENXIO').Count | Should -Be 2
    }

    It 'still passes Ctrl+C from the caller''s terminal to an attached container without -Tty (its own session)' {
        # The newline after it ends the shell's `read` when the ^C reached pwsh alone (.NET's console may have the
        # terminal's ISIG off at that moment, so the shell that started pwsh gets no SIGINT and waits for a line).
        $lines = Invoke-InScript -Answers @(@{ When = 'ready-for-sigint'; Send = "`u{3}" }, @{ When = 'got-sigint'; Send = "`n" }) @"
New-Container -Image busybox -Command sh, -c, 'trap "echo got-sigint; exit 9" INT; echo ready-for-sigint; while :; do sleep 1; done' | Start-Container -Attach
"@
        # (the terminal echoes ^C before it)
        $lines -match 'got-sigint$' | Should -Not -BeNullOrEmpty
    }

    It 'refuses TIOCSTI even on the container''s own terminal, whatever the high bits of the request (seccomp)' {
        $c = New-Container @probe -Tty -Command /probe/isolation-probe, tiocsti, 'x' | Start-Container -Wait
        $log = @((Get-ContainerLog $c.Name).Text | Where-Object { $_ })
        $log | Should -Be @('tiocsti=EPERM', 'tiocsti-high-bits=EPERM')
        Remove-Container $c.Name
    }

    It 'cannot make namespaces with clone or clone3 (run and exec), while fork, threads and pipelines work' {
        $expected = @('clone-newuser', 'clone-newns', 'clone-newpid', 'clone-newnet', 'clone-newipc', 'clone-newuts', 'clone-newcgroup' |
            ForEach-Object { "$_=EPERM" }) + 'clone3=ENOSYS', 'unshare-newuser=EPERM'
        Invoke-Probe namespaces | Should -Be $expected
        Invoke-ContainerCommand iso-exec-target /probe/isolation-probe namespaces | Should -Be $expected
        # glibc's pthread_create tries clone3 first and falls back to clone on ENOSYS.
        Invoke-Probe fork-threads | Should -Be @('fork=ok', 'threads=ok')
        Invoke-ContainerCommand iso-exec-target sh '-c' 'echo a b c | tr " " "\n" | cat | wc -l' | Should -Be '3'
        # Docker's rule: a container given CAP_SYS_ADMIN may make namespaces.
        $admin = Invoke-Probe namespaces @{ CapAdd = 'SYS_ADMIN' }
        $admin | Should -Contain 'clone-newns=ok'
        $admin | Should -Contain 'clone3=ok'
    }

    It 'gets the same answers under crun running the same bundle (libseccomp reads our filter as we do)' {
        $script = '/probe/isolation-probe namespaces; /probe/isolation-probe families; /probe/isolation-probe fork-threads'
        $c = New-Container @probe -Command sh, -c, $script
        $ours = @((Start-Container $c.Name -Wait | Get-ContainerLog).Text)
        # The same config.json (seccomp, mounts), the layers copied into a plain rootfs.
        $theirs = @(Invoke-BundleUnderCrun (Join-Path $env:PSCONTAINERS_DATA_DIR "containers/$($c.Id)"))
        $LASTEXITCODE | Should -Be 0 -Because "$theirs"
        Remove-Container $c.Name
        $ours | Should -Contain 'clone3=ENOSYS'
        $ours | Should -Contain 'threads=ok'
        $theirs | Should -Be $ours
    }

    It 'refuses the same in a rootless container, where the kernel alone lets clone nest a user namespace' {
        # An unprivileged user of the host with its own store; the probe beside its script (the checkout may be closed to it).
        $out = @(Invoke-AsTestUser -Files (Join-Path $root 'probe') -Script @'
"hostuid=$(& id -u)"
Invoke-ContainerImage -Image busybox -Remove -Volume "$HOME/probe:/probe:ro" -Command sh, -c, 'cat /proc/self/uid_map; /probe/isolation-probe namespaces'
'@)
        $uid = ($out -match '^hostuid=') -replace '^hostuid='
        # Inside a user namespace: root there is not root of the host.
        $out -match "^0\s+$uid\s+1$" | Should -Not -BeNullOrEmpty -Because "$out"
        $out | Should -Contain 'clone-newuser=EPERM'
        $out | Should -Contain 'clone3=ENOSYS'
        $out | Should -Contain 'unshare-newuser=EPERM'
    }

    It 'refuses io_uring, the keyring, bpf, perf_event_open and userfaultfd' {
        Invoke-Probe families | Should -Be @('io_uring_setup', 'io_uring_enter', 'io_uring_register', 'keyctl', 'add_key', 'request_key', 'bpf',
            'perf_event_open', 'userfaultfd' | ForEach-Object { "$_=EPERM" })
    }
}
