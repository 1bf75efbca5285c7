# The NativeAOT launcher (pscontainers-init) against the real kernel: a busybox rootfs from Debian's
# busybox-static, a bundle and a launch plan written here, run as root and as a throw-away
# unprivileged user, compared with crun (or runc) running the same bundle.
BeforeDiscovery {
    $script:isRoot = (id -u) -eq '0'
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:init = [System.IO.Path]::GetFullPath((Join-Path (Split-Path (Get-TestModulePath)) 'pscontainers-init'))
    $script:root = New-TestRoot -Name init
    # World-traversable so the unprivileged user reaches its own subtree.
    & chmod 755 $root
    $script:layer = Join-Path $root 'layer'
    New-Item -ItemType Directory -Path "$layer/bin", "$layer/etc", "$layer/root", "$layer/tmp" -Force | Out-Null
    Copy-Item /bin/busybox "$layer/bin/busybox"
    foreach ($applet in (& /bin/busybox --list)) {
        if ($applet -ne 'busybox') { New-Item -ItemType SymbolicLink -Path "$layer/bin/$applet" -Target busybox | Out-Null }
    }
    Set-Content "$layer/etc/passwd" "root:x:0:0:root:/root:/bin/sh`nnobody:x:65534:65534:nobody:/:/bin/false"
    Set-Content "$layer/etc/group" "root:x:0:`nnogroup:x:65534:"
    Set-Content "$layer/etc/notexec" 'not a program'
    & chmod -R a+rX $layer

    $script:podmanCaps = @('CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE',
        'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT')

    function New-Spec {
        # A config.json as Core writes it: runtime-spec defaults, the given command, optionally rootless.
        param([string[]] $Command, [string] $RootPath = 'rootfs', [uint32] $HostUid = 0, [uint32] $HostGid = 0, [switch] $UserNamespace,
            [object[]] $ExtraMounts = @())
        $namespaces = @(@{ type = 'pid' }, @{ type = 'network' }, @{ type = 'ipc' }, @{ type = 'uts' }, @{ type = 'mount' }, @{ type = 'cgroup' })
        $pts = @('nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620')
        if (-not $UserNamespace) { $pts += 'gid=5' }
        $linux = [ordered]@{
            namespaces    = $namespaces
            maskedPaths   = @('/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware')
            readonlyPaths = @('/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger')
            seccomp       = @{
                defaultAction = 'SCMP_ACT_ALLOW'; architectures = @('SCMP_ARCH_X86_64')
                syscalls = @(@{ names = @('mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'keyctl', 'bpf'); action = 'SCMP_ACT_ERRNO'; errnoRet = 1 })
            }
        }
        if ($UserNamespace) {
            $linux.namespaces += @{ type = 'user' }
            $linux.uidMappings = @(@{ containerID = 0; hostID = $HostUid; size = 1 })
            $linux.gidMappings = @(@{ containerID = 0; hostID = $HostGid; size = 1 })
        }
        [ordered]@{
            ociVersion = '1.0.2'
            process    = [ordered]@{
                terminal = $false; user = @{ uid = 0; gid = 0 }; args = $Command
                env = @('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'); cwd = '/'
                capabilities = [ordered]@{ bounding = $podmanCaps; effective = $podmanCaps; permitted = $podmanCaps }
                rlimits = @(@{ type = 'RLIMIT_NOFILE'; hard = 1024; soft = 1024 })
                noNewPrivileges = $true
            }
            root       = @{ path = $RootPath; readonly = $false }
            hostname   = 'initbox'
            mounts     = @(
                @{ destination = '/proc'; type = 'proc'; source = 'proc'; options = @('nosuid', 'noexec', 'nodev') }
                @{ destination = '/dev'; type = 'tmpfs'; source = 'tmpfs'; options = @('nosuid', 'strictatime', 'mode=755', 'size=65536k') }
                @{ destination = '/dev/pts'; type = 'devpts'; source = 'devpts'; options = $pts }
                @{ destination = '/dev/shm'; type = 'tmpfs'; source = 'shm'; options = @('nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k') }
                @{ destination = '/dev/mqueue'; type = 'mqueue'; source = 'mqueue'; options = @('nosuid', 'noexec', 'nodev') }
                @{ destination = '/sys'; type = 'sysfs'; source = 'sysfs'; options = @('nosuid', 'noexec', 'nodev', 'ro') }
            ) + $ExtraMounts
            linux      = $linux
        }
    }

    function New-Container {
        # A bundle + launch plan under a fresh directory (owned by -Owner when given). Returns its paths.
        param([string[]] $Command, [string] $Owner, [uint32] $HostUid = 0, [uint32] $HostGid = 0, [switch] $UserNamespace,
            [string[]] $LowerDirs = @($layer), [string[]] $CgroupProcsFiles = @(), [string] $Stdio = 'log', [object[]] $ExtraMounts = @())
        $dir = Join-Path $root ('c-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        foreach ($d in 'bundle/rootfs', 'upper', 'work', 'state') { New-Item -ItemType Directory -Path (Join-Path $dir $d) -Force | Out-Null }
        New-Spec -Command $Command -HostUid $HostUid -HostGid $HostGid -UserNamespace:$UserNamespace -ExtraMounts $ExtraMounts | ConvertTo-Json -Depth 10 | Set-Content "$dir/bundle/config.json"
        $plan = [ordered]@{
            containerId = (Split-Path $dir -Leaf); bundleDir = "$dir/bundle"; stateDir = "$dir/state"; logPath = "$dir/container.log"
            rootfs = @{ lowerDirs = @($LowerDirs); upperDir = "$dir/upper"; workDir = "$dir/work" }
            cgroupProcsFiles = @($CgroupProcsFiles)
            stdio = $Stdio
        }
        $plan | ConvertTo-Json -Depth 5 | Set-Content "$dir/plan.json"
        if ($Owner) { & chown -R "${Owner}:${Owner}" $dir }
        [pscustomobject]@{ Dir = $dir; Plan = "$dir/plan.json"; Bundle = "$dir/bundle"; State = "$dir/state/state.json"; Log = "$dir/container.log" }
    }

    function Start-Init {
        # Starts the monitor like Start-Container does and reads the one-line handshake.
        param([Parameter(Mandatory)] $Container, [string] $AsUser)
        $psi = [System.Diagnostics.ProcessStartInfo]::new()
        if ($AsUser) {
            $psi.FileName = '/usr/bin/setpriv'
            foreach ($a in '--reuid', $AsUser, '--regid', $AsUser, '--clear-groups', '--reset-env', '--', $init, 'run', '--plan', $Container.Plan) { $psi.ArgumentList.Add($a) }
        }
        else {
            $psi.FileName = $init
            foreach ($a in 'run', '--plan', $Container.Plan) { $psi.ArgumentList.Add($a) }
        }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $psi.WorkingDirectory = '/'
        $p = [System.Diagnostics.Process]::Start($psi)
        $monitors.Add($p)
        $line = $p.StandardOutput.ReadLineAsync()
        if (-not $line.Wait(20000)) {
            # A monitor that hangs before its handshake must not outlive the test: kill it and its child, by pid.
            Stop-Monitor $p
            throw 'no handshake from pscontainers-init within 20 s'
        }
        $stderr = $p.StandardError.ReadToEndAsync()
        if (-not $line.Result) { [void]$stderr.Wait(5000); throw "pscontainers-init gave no handshake: $($stderr.Result)" }
        $result = $line.Result | ConvertFrom-Json
        $eof = $p.StandardOutput.ReadToEndAsync()
        [pscustomobject]@{ Handshake = $result; Process = $p; Stderr = $stderr; StdoutEof = $eof }
    }

    function Stop-Monitor([System.Diagnostics.Process] $Process) {
        # Our own child: its pid cannot be reused before we reap it. Kills it and its descendants (the container).
        try { if (-not $Process.HasExited) { $Process.Kill($true); [void]$Process.WaitForExit(10000) } } catch [System.InvalidOperationException] { }
    }

    function Invoke-Bounded {
        # Runs pscontainers-init (run in inherit mode, exec) to its end with its output captured; killed by pid after the timeout.
        param([string[]] $Arguments, [string] $FileName = $init, [int] $TimeoutSeconds = 60)
        $psi = [System.Diagnostics.ProcessStartInfo]::new($FileName)
        foreach ($a in $Arguments) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        $monitors.Add($p)
        $out = $p.StandardOutput.ReadToEndAsync()
        $err = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit($TimeoutSeconds * 1000)) {
            Stop-Monitor $p
            throw "$FileName $($Arguments -join ' ') did not finish within $TimeoutSeconds s"
        }
        $p.WaitForExit()
        [pscustomobject]@{ ExitCode = $p.ExitCode; Stdout = @($out.Result -split "`n" | Where-Object { $_ }); Stderr = @($err.Result -split "`n" | Where-Object { $_ }) }
    }

    function Invoke-Exec {
        # pscontainers-init exec with a process made from the bundle's own (as Invoke-ContainerCommand does); output and exit code.
        param([Parameter(Mandatory)] $Container, [string[]] $Command, [string] $AsUser)
        $spec = Get-Content "$($Container.Bundle)/config.json" -Raw | ConvertFrom-Json
        $spec.process.args = $Command
        $processFile = Join-Path $Container.Dir ('process-' + [guid]::NewGuid().ToString('N').Substring(0, 6) + '.json')
        $spec.process | ConvertTo-Json -Depth 10 | Set-Content $processFile
        $arguments = @('exec', '--state-dir', "$($Container.Dir)/state", '--process', $processFile)
        if ($AsUser) {
            & chmod 644 $processFile
            $r = Invoke-Bounded -FileName /usr/bin/setpriv -Arguments (@('--reuid', $AsUser, '--regid', $AsUser, '--clear-groups', '--reset-env', '--', $init) + $arguments)
        }
        else { $r = Invoke-Bounded -Arguments $arguments }
        [pscustomobject]@{ Output = @($r.Stdout) + @($r.Stderr); ExitCode = $r.ExitCode }
    }

    function Wait-Stopped {
        param([Parameter(Mandatory)] $Container, [int] $TimeoutSeconds = 30)
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while ([DateTime]::UtcNow -lt $deadline) {
            if (Test-Path $Container.State) {
                $s = Get-Content $Container.State -Raw | ConvertFrom-Json
                if ($s.status -eq 'stopped') { return $s }
            }
            Start-Sleep -Milliseconds 50
        }
        throw "container in $($Container.Dir) did not stop within $TimeoutSeconds s"
    }

    function Get-LogText {
        # The log's records (CRI format) as "stream text" lines, F and P records joined.
        param([Parameter(Mandatory)] $Container, [string] $Stream = 'stdout')
        $text = [System.Text.StringBuilder]::new()
        foreach ($line in Get-Content $Container.Log) {
            if ($line -notmatch '^(\S+) (stdout|stderr) ([FP]) ?(.*)$') { throw "bad log line: $line" }
            [void][DateTimeOffset]::Parse($Matches[1])
            if ($Matches[2] -ne $Stream) { continue }
            [void]$text.Append($Matches[4])
            if ($Matches[3] -eq 'F') { [void]$text.Append("`n") }
        }
        $text.ToString().TrimEnd("`n") -split "`n"
    }

    function Invoke-PeerRuntime {
        # Runs the same command with crun (or runc when crun cannot run here) on a bundle over the same layer.
        param([string[]] $Command)
        $dir = Join-Path $root ('peer-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path $dir | Out-Null
        # The peer gets a private copy of the layer as its rootfs (it writes nothing we compare).
        New-Spec -Command $Command -RootPath $layer | ConvertTo-Json -Depth 10 | Set-Content "$dir/config.json"
        $id = 'pscinit-' + (Split-Path $dir -Leaf)
        $unified = '/sys/fs/cgroup/unified/cgroup.controllers'
        $masked = (Test-Path $unified) -and ((Get-Content $unified -Raw) -match '\S')
        if ($masked) {
            # crun 1.8 refuses a v1 hybrid host whose cgroup2 mount has a controller: hide it in a private mount namespace.
            $out = & unshare -m --propagation private -- sh -c "mount --bind /dev/null $unified && cd '$dir' && exec crun run $id" 2>&1
        }
        else { $out = & crun --root "$dir/run" run --bundle $dir $id 2>&1 }
        $code = $LASTEXITCODE
        if ($code -ne 0 -and ($out -join "`n") -match 'cgroup') {
            $out = & runc --root "$dir/run" run --bundle $dir $id 2>&1
            $code = $LASTEXITCODE
        }
        [pscustomobject]@{ Output = @($out | ForEach-Object { "$_" }); ExitCode = $code }
    }

    $script:probe = @'
echo "pid=$$"
hostname
grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status
echo "keys=$(cat /proc/keys | wc -c)"
echo "timer_list=$(cat /proc/timer_list 2>/dev/null | wc -c)"
echo "firmware=$(ls /sys/firmware | wc -l)"
if echo x > /proc/sys/kernel/hostname 2>/dev/null; then echo procsys=rw; else echo procsys=ro; fi
if mount -t tmpfs none /tmp 2>/dev/null; then echo mount=allowed; else echo mount=denied; fi
echo "nofile=$(ulimit -n)"
echo "devnull=$(ls -l /dev/null | cut -c1)"
echo "lo=$(ip link show lo | grep -c '[<,]UP[,>]')"
echo "links=$(ls /sys/class/net | tr '\n' ' ')"
'@

    $script:started = [System.Collections.Generic.List[int]]::new()
    $script:monitors = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
}

AfterAll {
    foreach ($cpid in $started) { if ($cpid -gt 0 -and (Test-Path "/proc/$cpid")) { & kill -9 $cpid 2>$null } }
    # Any monitor a failed test left running (its container was killed above, or it hung before its handshake).
    foreach ($m in $monitors) { Stop-Monitor $m }
    if ($root) {
        Start-Sleep -Milliseconds 200
        $left = Get-Content /proc/self/mountinfo | Where-Object { $_ -like "* $root*" }
        foreach ($m in $left) { & umount -l (($m -split ' ')[4]) 2>$null }
    }
    Remove-TestRoot $root
}

Describe 'pscontainers-init run (as root)' -Skip:(-not $isRoot) {
    BeforeAll {
        $script:c = New-Container -Command @('/bin/sh', '-c', ($probe + "`nseq 1 3000`necho to-stderr >&2`nexit 7"))
        $script:run = Start-Init $c
        $started.Add($run.Handshake.pid)
        $script:state = Wait-Stopped $c
        $script:out = Get-LogText $c
        $script:peer = Invoke-PeerRuntime -Command @('/bin/sh', '-c', $probe)
    }

    It 'reports the container pid in the handshake, then closes stdout' {
        $run.Handshake.error | Should -BeNullOrEmpty
        $run.Handshake.pid | Should -BeGreaterThan 0
        $run.Handshake.monitorPid | Should -Be $run.Process.Id
        $run.StdoutEof.Wait(10000) | Should -BeTrue
        $run.StdoutEof.Result | Should -BeNullOrEmpty
    }

    It 'runs the command as PID 1 with the planned hostname' {
        $out | Should -Contain 'pid=1'
        $out | Should -Contain 'initbox'
    }

    It 'gives the capabilities, seccomp mode and no_new_privs that crun gives the same bundle' {
        $peer.ExitCode | Should -Be 0 -Because ($peer.Output -join "`n")
        $lines = $out | Where-Object { $_ -match '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' }
        $lines | Should -HaveCount 4
        $lines | Should -Be ($peer.Output | Where-Object { $_ -match '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' })
        $out | Should -Contain "CapEff:`t00000000800405fb"
        $out | Should -Contain "Seccomp:`t2"
        $out | Should -Contain "NoNewPrivs:`t1"
    }

    It 'masks, write-protects and filters like crun' {
        foreach ($key in 'keys=', 'timer_list=', 'firmware=', 'procsys=', 'mount=', 'nofile=', 'devnull=', 'lo=', 'links=') {
            ($out | Where-Object { $_.StartsWith($key) }) | Should -Be ($peer.Output | Where-Object { $_.StartsWith($key) }) -Because $key
        }
        $out | Should -Contain 'keys=0'
        $out | Should -Contain 'procsys=ro'
        $out | Should -Contain 'mount=denied'
        $out | Should -Contain 'nofile=1024'
        $out | Should -Contain 'devnull=c'
        $out | Should -Contain 'lo=1'
        $out | Should -Contain 'links=lo '
    }

    It 'splits a long line into partial records and joins them back' {
        $k = New-Container -Command @('/bin/sh', '-c', 'head -c 40000 /dev/zero | tr "\0" a; echo; printf tail-without-newline')
        Start-Init $k | Out-Null
        (Wait-Stopped $k).exitCode | Should -Be 0
        $records = @(Get-Content $k.Log)
        ($records | Where-Object { $_ -match ' stdout P ' }).Count | Should -BeGreaterOrEqual 3
        $lines = Get-LogText $k
        $lines[0].Length | Should -Be 40000
        $lines[0] | Should -Match '^a+$'
        $lines[1] | Should -Be 'tail-without-newline'
        $records[-1] | Should -Match ' stdout P tail-without-newline$'
    }

    It 'writes every line to the log before recording the exit' {
        $numbers = $out | Where-Object { $_ -match '^\d+$' }
        $numbers | Should -HaveCount 3000
        $numbers[0] | Should -Be '1'
        $numbers[-1] | Should -Be '3000'
        Get-LogText $c -Stream stderr | Should -Contain 'to-stderr'
    }

    It 'records the exit in the state file' {
        $state.status | Should -Be 'stopped'
        $state.exitCode | Should -Be 7
        $state.signal | Should -BeNullOrEmpty
        $state.pid | Should -Be $run.Handshake.pid
        $state.monitorPid | Should -Be $run.Process.Id
        $state.bootId | Should -Be (Get-Content /proc/sys/kernel/random/boot_id)
        ([DateTimeOffset]$state.finishedAt) | Should -BeGreaterOrEqual ([DateTimeOffset]$state.startedAt)
        $run.Process.WaitForExit(10000) | Should -BeTrue
        $run.Process.ExitCode | Should -Be 0
    }

    It 'leaves no mount behind on the host' {
        Get-Content /proc/self/mountinfo | Where-Object { $_ -like "* $($c.Dir)*" } | Should -BeNullOrEmpty
    }

    It 'reports a signal death as 128+signal' {
        # PID 1 of a pid namespace only takes SIGKILL from outside it.
        $k = New-Container -Command @('/bin/sleep', '60')
        $r = Start-Init $k
        $started.Add($r.Handshake.pid)
        & kill -9 $r.Handshake.pid
        $s = Wait-Stopped $k
        $s.exitCode | Should -Be 137
        $s.signal | Should -Be 9
    }

    It 'fails a missing command with 127 (as podman) and the message crun prints' {
        $m = New-Container -Command @('no-such-command', 'x')
        $r = Start-Init $m
        $r.Handshake.pid | Should -Be 0
        $r.Handshake.errorId | Should -Be 'CommandNotFound'
        $r.Handshake.error | Should -Match 'no-such-command'
        $r.Handshake.exitCode | Should -Be 127
        $r.Process.WaitForExit(10000) | Should -BeTrue
        $r.Process.ExitCode | Should -Be 127
        $r.Stderr.Result | Should -Match 'no-such-command.*not found'
        $s = Get-Content $m.State -Raw | ConvertFrom-Json
        $s.status | Should -Be 'stopped'
        $s.exitCode | Should -Be 127
        $s.error | Should -Match 'no-such-command'
        # crun 1.8 prints the same sentence (and exits 1; podman maps it to 127).
        $peerRun = Invoke-PeerRuntime -Command @('no-such-command', 'x')
        $peerRun.ExitCode | Should -Not -Be 0
        $peerRun.Output | Should -Contain $r.Handshake.error
        Get-Content /proc/self/mountinfo | Where-Object { $_ -like "* $($m.Dir)*" } | Should -BeNullOrEmpty
    }

    It 'fails a file that is not executable with 126' {
        $m = New-Container -Command @('/etc/notexec')
        $r = Start-Init $m
        $r.Handshake.errorId | Should -Be 'CommandNotExecutable'
        $r.Handshake.exitCode | Should -Be 126
    }

    It 'leaves the container visible when the monitor is killed' {
        $k = New-Container -Command @('/bin/sleep', '60')
        $r = Start-Init $k
        $cpid = [int]$r.Handshake.pid
        $started.Add($cpid)
        & kill -9 $r.Handshake.monitorPid
        $r.Process.WaitForExit(10000) | Should -BeTrue
        $s = Get-Content $k.State -Raw | ConvertFrom-Json
        $s.status | Should -Be 'running'
        $s.pid | Should -Be $cpid
        Test-Path "/proc/$cpid" | Should -BeTrue
        $stat = (Get-Content "/proc/$cpid/stat" -Raw)
        $fields = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
        [uint64]$fields[19] | Should -Be ([uint64]$s.pidStartTime)
        & kill -9 $cpid
    }

    It 'runs a process inside the running container with exec' {
        $k = New-Container -Command @('/bin/sleep', '60')
        $r = Start-Init $k
        $started.Add($r.Handshake.pid)
        $e = Invoke-Exec $k -Command @('/bin/sh', '-c', 'echo "pid=$$"; hostname; for n in pid mnt net; do readlink /proc/self/ns/$n; done; for n in pid mnt net; do readlink /proc/1/ns/$n; done; cat /proc/1/cmdline | tr "\0" " "; echo; grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status; echo oops >&2; exit 4')
        $e.ExitCode | Should -Be 4
        $e.Output | Should -Contain 'initbox'
        $e.Output | Should -Contain '/bin/sleep 60 '
        $e.Output | Should -Contain 'oops'
        ($e.Output | Where-Object { $_ -match '^pid=(\d+)$' }) | Should -Not -Be 'pid=1'
        $ns = @($e.Output | Where-Object { $_ -match '^(pid|mnt|net):\[' })
        $ns | Should -HaveCount 6
        $ns[0..2] | Should -Be $ns[3..5]
        (Get-Item "/proc/self/ns/pid").LinkTarget | Should -Not -Be $ns[0]
        $e.Output | Should -Contain "CapEff:`t00000000800405fb"
        $e.Output | Should -Contain "Seccomp:`t2"
        $missing = Invoke-Exec $k -Command @('no-such-command')
        $missing.ExitCode | Should -Be 127
        $missing.Output -join "`n" | Should -Match 'no-such-command'
        & kill -9 $r.Handshake.pid
        (Wait-Stopped $k).exitCode | Should -Be 137
        (Invoke-Exec $k -Command @('/bin/true')).ExitCode | Should -Be 125
    }

    It 'bind-mounts a host directory and keeps a mount point behind a symlink of the image inside the root' {
        $shared = Join-Path $root 'shared'
        New-Item -ItemType Directory -Path $shared -Force | Out-Null
        Set-Content "$shared/hello" 'from the host'
        $bind = @{ destination = '/mnt/shared'; type = 'bind'; source = $shared; options = @('rbind', 'ro', 'nosuid', 'nodev') }
        $ok = New-Container -ExtraMounts @($bind) -Command @('/bin/sh', '-c', 'cat /mnt/shared/hello; touch /mnt/shared/x 2>/dev/null || echo read-only')
        Start-Init $ok | Out-Null
        (Wait-Stopped $ok).exitCode | Should -Be 0
        Get-LogText $ok | Should -Be @('from the host', 'read-only')

        # An image whose /evil points at a host path: following it would mount over (and mkdir in) the host.
        $hostSide = Join-Path $root 'host-side'
        New-Item -ItemType Directory -Path $hostSide -Force | Out-Null
        $evil = Join-Path $root 'evil-layer'
        New-Item -ItemType Directory -Path $evil -Force | Out-Null
        New-Item -ItemType SymbolicLink -Path "$evil/evil" -Target $hostSide | Out-Null
        $bad = New-Container -LowerDirs @($layer, $evil) -ExtraMounts @(@{ destination = '/evil/sub/dir'; type = 'tmpfs'; source = 'tmpfs' }) `
            -Command @('/bin/sh', '-c', "grep -c ' $hostSide/sub/dir ' /proc/self/mountinfo")
        Start-Init $bad | Out-Null
        (Wait-Stopped $bad).exitCode | Should -Be 0
        # The link is followed inside the rootfs: the tmpfs sits at the container's own $hostSide/sub/dir.
        Get-LogText $bad | Should -Be '1'
        Get-ChildItem $hostSide | Should -BeNullOrEmpty
    }

    It 'stacks 200 layers through lowerdir+' {
        $layers = @($layer)
        foreach ($i in 1..199) {
            $l = Join-Path $root "stack/l$i"
            New-Item -ItemType Directory -Path "$l/layers" -Force | Out-Null
            Set-Content "$l/layers/$i" "$i"
            Set-Content "$l/layers/top" "$i"
            $layers += $l
        }
        & chmod -R a+rX (Join-Path $root 'stack')
        # Far past what fits in one page of classic mount options.
        ('lowerdir=' + ($layers -join ':')).Length | Should -BeGreaterThan 4096
        $k = New-Container -LowerDirs $layers -Command @('/bin/sh', '-c', 'ls /layers | wc -l; cat /layers/top; cat /layers/1')
        $r = Start-Init $k
        $r.Handshake.error | Should -BeNullOrEmpty
        (Wait-Stopped $k).exitCode | Should -Be 0
        Get-LogText $k | Should -Be @('200', '199', '1')
    }

    It 'places the container in the planned cgroup and reports an OOM kill' -Skip:(-not (Test-Path /sys/fs/cgroup/memory/memory.oom_control)) {
        $cg = "/sys/fs/cgroup/memory/pscinit-$(Get-Random -Maximum 999999)"
        New-Item -ItemType Directory -Path $cg | Out-Null
        try {
            Set-Content "$cg/memory.limit_in_bytes" (16MB)
            $k = New-Container -CgroupProcsFiles @("$cg/cgroup.procs") -Command @('/bin/awk', 'BEGIN { s = "x"; while (1) s = s s }')
            $r = Start-Init $k
            $started.Add($r.Handshake.pid)
            $s = Wait-Stopped $k
            $s.signal | Should -Be 9
            $s.exitCode | Should -Be 137
            $s.oomKilled | Should -BeTrue
            $s.cgroupProcsFiles | Should -Be @("$cg/cgroup.procs")
        }
        finally {
            # rmdir(2): a cgroup directory goes away with its control files once no process is left in it.
            for ($i = 0; $i -lt 50 -and (Test-Path $cg); $i++) { try { [System.IO.Directory]::Delete($cg) } catch { Start-Sleep -Milliseconds 100 } }
        }
        Test-Path $cg | Should -BeFalse
    }

    It 'makes the top-level mount points the image lacks in the empty upper directory, never one a layer has as a link' {
        # busybox-like images have no /proc, /dev or /sys: the monitor makes them as plain directories in the upper
        # directory before the overlay is mounted (the child made each through overlayfs). A layer's /proc that is a link
        # stays the image's: the child follows it inside the root as before.
        $bare = Join-Path $root "bare-$(Get-Random)"
        New-Item -ItemType Directory -Path "$bare/bin", "$bare/tmp" | Out-Null
        Copy-Item /bin/busybox "$bare/bin/busybox"
        & ln -s busybox "$bare/bin/sh"
        & ln -s tmp "$bare/proc"
        & chmod -R a+rX $bare
        $k = New-Container -Stdio inherit -LowerDirs @($bare) -Command @('/bin/sh', '-c', 'test -d /dev && test -d /sys && test -L /proc && test -r /tmp/self/status && echo mounted')
        $trace = Join-Path $root "mkdir-$(Get-Random).strace"
        $run = Invoke-Bounded -FileName strace -Arguments '-f', '-qq', '-e', 'trace=mkdir,mkdirat', '-e', 'signal=none', '-o', $trace, $init, 'run', '--plan', $k.Plan
        $run.ExitCode | Should -Be 0 -Because (($run.Stdout + $run.Stderr) -join "`n")
        $run.Stdout | Should -Be @('mounted')
        $upper = Join-Path $k.Dir 'upper'
        $lines = Get-Content $trace
        foreach ($d in 'dev', 'sys') {
            (& stat -c '%F %a %u:%g' "$upper/$d") | Should -Be 'directory 755 0:0'
            @($lines | Where-Object { $_ -like "*mkdir(`"$upper/$d`", 0755*" }) | Should -HaveCount 1 -Because "the monitor made $d"
            @($lines | Where-Object { $_ -match "mkdirat\(\d+, `"$d`"" }) | Should -BeNullOrEmpty -Because "the child found $d"
        }
        Test-Path "$upper/proc" | Should -BeFalse -Because 'the image''s /proc link is followed, not shadowed'
        # A used upper directory holds what the container made (links included): the monitor writes nothing into it.
        $again = Join-Path $root "mkdir-$(Get-Random).strace"
        $run = Invoke-Bounded -FileName strace -Arguments '-f', '-qq', '-e', 'trace=mkdir,mkdirat', '-e', 'signal=none', '-o', $again, $init, 'run', '--plan', $k.Plan
        $run.Stdout | Should -Be @('mounted')
        @(Get-Content $again | Where-Object { $_ -like "*mkdir(`"$upper*" }) | Should -BeNullOrEmpty
    }

    Context 'joining the planned cgroups' -Skip:(-not (Test-Path /sys/fs/cgroup/pids/cgroup.procs)) {
        BeforeAll {
            # One cgroup per v1 hierarchy used here, plus the hybrid host's cgroup2 one when mounted (CLONE_INTO_CGROUP).
            function script:New-TestCgroups {
                $name = "pscinit-join-$(Get-Random -Maximum 999999)"
                $dirs = @("/sys/fs/cgroup/memory/$name", "/sys/fs/cgroup/pids/$name")
                if ((Test-Path /sys/fs/cgroup/unified/cgroup.procs) -and ((& stat -f -c %T /sys/fs/cgroup/unified) -eq 'cgroup2fs')) { $dirs += "/sys/fs/cgroup/unified/$name" }
                foreach ($d in $dirs) { New-Item -ItemType Directory -Path $d | Out-Null }
                $dirs
            }
            # The line of /proc/<pid>/cgroup for that directory, as a pattern; -Root: as seen from inside its cgroup namespace.
            function script:Get-CgroupLine([string] $Dir, [switch] $Root) {
                $h = Split-Path (Split-Path $Dir) -Leaf
                $path = if ($Root) { '/' } else { '/' + (Split-Path $Dir -Leaf) }
                if ($h -eq 'unified') { "^0::$path$" } else { "^\d+:${h}:$path$" }
            }
            function script:Remove-TestCgroups([string[]] $Dirs) {
                foreach ($d in $Dirs) { for ($i = 0; $i -lt 50 -and (Test-Path $d); $i++) { try { [System.IO.Directory]::Delete($d) } catch { Start-Sleep -Milliseconds 100 } } }
            }
        }

        It 'places a user-namespaced container (its root mapped to an unprivileged uid) in every planned cgroup, the monitor in none' {
            # The child joins its v1 cgroups itself, from its user namespace, before its id maps exist: the kernel must
            # judge the write by the credentials of the parent that opened the files.
            $dirs = New-TestCgroups
            try {
                $k = New-Container -Owner 100123 -UserNamespace -HostUid 100123 -HostGid 100123 -CgroupProcsFiles @($dirs | ForEach-Object { "$_/cgroup.procs" }) -Command @('/bin/sleep', '60')
                $r = Start-Init $k
                $r.Handshake.error | Should -BeNullOrEmpty
                $cpid = $r.Handshake.pid
                $started.Add($cpid)
                $mpid = $r.Handshake.monitorPid
                foreach ($d in $dirs) {
                    @(Get-Content "$d/cgroup.procs") | Should -Be @("$cpid") -Because "$d holds the container's process alone"
                }
                $mine = Get-Content "/proc/$cpid/cgroup"
                foreach ($d in $dirs) { @($mine -match (Get-CgroupLine $d)) | Should -HaveCount 1 -Because "the host sees it in $d" }
                (Get-Content "/proc/$mpid/cgroup") -join "`n" | Should -Not -Match 'pscinit-join-' -Because 'the monitor stays where its caller put it'
                (Get-Content "/proc/$cpid/status" | Where-Object { $_ -like 'Uid:*' }) -split '\s+' | Select-Object -Skip 1 | Should -Be @('100123', '100123', '100123', '100123')
                & kill -9 $cpid
                (Wait-Stopped $k).exitCode | Should -Be 137
            }
            finally { Remove-TestCgroups $dirs }
            foreach ($d in $dirs) { Test-Path $d | Should -BeFalse -Because 'the monitor removes the cgroups of an exited container' }
        }

        It 'joins them without writing a pid into a cgroup.procs (that write waits on a lock shared with the whole host)' {
            # Writing a pid into cgroup.procs write-locks the kernel's cgroup_threadgroup_rwsem, whose first writer after a
            # quiet spell waits out an RCU grace period (up to 18 ms a start here). The child writes 0 into each v1 tasks file
            # instead (moving only itself), and clone3 creates it in the cgroup2 directory. Seen with strace, from outside.
            $dirs = New-TestCgroups
            try {
                $trace = Join-Path $root "join-$(Get-Random).strace"
                $k = New-Container -Stdio inherit -CgroupProcsFiles @($dirs | ForEach-Object { "$_/cgroup.procs" }) -Command @('/bin/sh', '-c', 'cat /proc/self/cgroup')
                $run = Invoke-Bounded -FileName strace -Arguments '-f', '-qq', '-y', '-e', 'trace=write,clone,clone3', '-e', 'signal=none', '-o', $trace, $init, 'run', '--plan', $k.Plan
                $run.ExitCode | Should -Be 0 -Because ($run.Stderr -join "`n")
                # Inside, every hierarchy reads as the root of the container's own cgroup namespace.
                foreach ($d in $dirs) { @($run.Stdout -match (Get-CgroupLine $d -Root)) | Should -HaveCount 1 -Because "inside, $d is the root" }
                $lines = Get-Content $trace
                $lines | Where-Object { $_ -match 'cgroup\.procs>, "[1-9]' } | Should -BeNullOrEmpty -Because 'no pid is written into a cgroup.procs'
                foreach ($d in $dirs | Where-Object { $_ -notlike '/sys/fs/cgroup/unified/*' }) {
                    # (strace may split a call that another traced process interrupts: "<unfinished ...>", then its result)
                    $lines | Where-Object { $_ -like "*write(*<$d/tasks>, ""0"", 1*" } | Should -HaveCount 1 -Because "the child moves itself into $d"
                }
                if ($dirs -like '/sys/fs/cgroup/unified/*') {
                    $lines | Where-Object { $_ -match 'clone3\(\{flags=[^}]*CLONE_INTO_CGROUP' } | Should -HaveCount 1 -Because 'the child is born in its cgroup2 directory'
                }
            }
            finally { Remove-TestCgroups $dirs }
        }
    }

    It 'inherits the caller stdio and exits with the container code in inherit mode' {
        $k = New-Container -Stdio inherit -Command @('/bin/sh', '-c', 'echo "pid=$$"; echo to-err >&2; exit 9')
        $run = Invoke-Bounded -Arguments 'run', '--plan', $k.Plan
        $run.ExitCode | Should -Be 9
        $run.Stdout | Should -Be @('pid=1')
        $run.Stderr | Should -Be @('to-err')
        $s = Get-Content $k.State -Raw | ConvertFrom-Json
        $s.status | Should -Be 'stopped'
        $s.exitCode | Should -Be 9
        Test-Path $k.Log | Should -BeFalse
    }

    It 'with --await-go makes the container only on its caller''s go byte, and nothing when stdin ends without it' {
        # Start-Container makes the cgroups while the monitor prepares: the monitor must not make the container before.
        function Start-Awaiting($Container) {
            $psi = [System.Diagnostics.ProcessStartInfo]::new($init)
            foreach ($a in 'run', '--plan', $Container.Plan, '--await-go') { $psi.ArgumentList.Add($a) }
            $psi.RedirectStandardInput = $true
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $psi.UseShellExecute = $false
            $p = [System.Diagnostics.Process]::Start($psi)
            $monitors.Add($p)
            return $p
        }
        $k = New-Container -Command @('/bin/sh', '-c', 'echo ran > /marker')
        $p = Start-Awaiting $k
        $line = $p.StandardOutput.ReadLineAsync()
        $line.Wait(500) | Should -BeFalse -Because 'no handshake before the go byte'
        (Get-Content "/proc/$($p.Id)/task/*/children" -Raw -ErrorAction SilentlyContinue) | Should -BeNullOrEmpty -Because 'no child yet'
        $p.StandardInput.BaseStream.WriteByte(1)
        $p.StandardInput.Close()
        $line.Wait(20000) | Should -BeTrue
        ($line.Result | ConvertFrom-Json).pid | Should -BeGreaterThan 0
        (Wait-Stopped $k).exitCode | Should -Be 0
        Get-Content "$($k.Dir)/upper/marker" | Should -Be 'ran'

        $k2 = New-Container -Command @('/bin/sh', '-c', 'echo ran > /marker')
        $p2 = Start-Awaiting $k2
        $p2.StandardInput.Close()
        $p2.WaitForExit(20000) | Should -BeTrue
        $p2.ExitCode | Should -Not -Be 0
        $handshake = $p2.StandardOutput.ReadToEnd() | ConvertFrom-Json
        $handshake.errorId | Should -Be 'StartAbandoned'
        Test-Path "$($k2.Dir)/upper/marker" | Should -BeFalse -Because 'the container was never made'
    }
}

Describe 'pscontainers-init run (as an unprivileged user)' -Skip:(-not $isRoot) {
    BeforeAll {
        $script:user = 'pscinit' + (Get-Random -Maximum 99999)
        & useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group $user
        if ($LASTEXITCODE -ne 0) { throw "useradd $user failed" }
        $script:uid = [uint32](& id -u $user)
        $script:gid = [uint32](& id -g $user)
        $script:c = New-Container -Owner $user -UserNamespace -HostUid $uid -HostGid $gid -Command @('/bin/sh', '-c', ($probe + "`ncat /proc/self/uid_map`nid -u`ntouch /new-file && echo upper=ok`nexit 3"))
        $script:run = Start-Init $c -AsUser $user
        $started.Add($run.Handshake.pid)
        $script:state = Wait-Stopped $c
        $script:out = Get-LogText $c
    }
    AfterAll {
        if ($user) {
            # userdel refuses while a process of the user lives: the monitors finish writing their state first.
            foreach ($cpid in $started) { if ($cpid -gt 0 -and (Test-Path "/proc/$cpid")) { & kill -9 $cpid 2>$null } }
            for ($i = 0; $i -lt 100 -and (& ps -u $uid -o pid= 2>$null); $i++) { Start-Sleep -Milliseconds 100 }
            & userdel $user 2>$null
            if ($LASTEXITCODE -ne 0) { & userdel --force $user 2>$null }
        }
    }

    It 'starts without privileges through a user namespace' {
        $run.Handshake.error | Should -BeNullOrEmpty
        $run.Handshake.pid | Should -BeGreaterThan 0
        $state.exitCode | Should -Be 3
        $state.status | Should -Be 'stopped'
    }

    It 'maps container root to the user with a single-id map' {
        $map = @($out | Where-Object { $_ -match '^\s*0\s+\d+\s+1$' })
        $map | Should -HaveCount 1
        $map[0].Trim() -split '\s+' | Should -Be @('0', "$uid", '1')
        $out | Should -Contain '0'
        $out | Should -Contain 'upper=ok'
        # The write landed in the upper dir, owned by the user on the host.
        (Get-Item (Join-Path $c.Dir 'upper/new-file')).UnixFileMode | Should -Not -BeNullOrEmpty
        (& stat -c %u (Join-Path $c.Dir 'upper/new-file')) | Should -Be "$uid"
    }

    It 'runs PID 1 with the same capabilities, seccomp and masks as root does' {
        $out | Should -Contain 'pid=1'
        $out | Should -Contain 'initbox'
        $out | Should -Contain "CapEff:`t00000000800405fb"
        $out | Should -Contain "Seccomp:`t2"
        $out | Should -Contain "NoNewPrivs:`t1"
        $out | Should -Contain 'keys=0'
        $out | Should -Contain 'procsys=ro'
        $out | Should -Contain 'mount=denied'
        $out | Should -Contain 'devnull=c'
        $out | Should -Contain 'lo=1'
    }

    It 'runs exec in the container as the same user' {
        $k = New-Container -Owner $user -UserNamespace -HostUid $uid -HostGid $gid -Command @('/bin/sleep', '60')
        $r = Start-Init $k -AsUser $user
        $started.Add($r.Handshake.pid)
        $e = Invoke-Exec $k -AsUser $user -Command @('/bin/sh', '-c', 'id -u; readlink /proc/self/ns/user; readlink /proc/1/ns/user; grep -E "^(CapEff|NoNewPrivs):" /proc/self/status; exit 5')
        $e.ExitCode | Should -Be 5 -Because ($e.Output -join "`n")
        $e.Output[0] | Should -Be '0'
        $e.Output[1] | Should -Be $e.Output[2]
        $e.Output | Should -Contain "CapEff:`t00000000800405fb"
        $e.Output | Should -Contain "NoNewPrivs:`t1"
        & kill -9 $r.Handshake.pid
        (Wait-Stopped $k).exitCode | Should -Be 137
    }

    It 'leaves no mount behind' {
        Get-Content /proc/self/mountinfo | Where-Object { $_ -like "* $($c.Dir)*" } | Should -BeNullOrEmpty
    }

    It 'deletes with remove-tree a tree of subordinate ids that the user cannot delete itself' {
        $range = Get-Content /etc/subuid | Where-Object { $_ -like "${user}:*" } | Select-Object -First 1
        $grange = Get-Content /etc/subgid | Where-Object { $_ -like "${user}:*" } | Select-Object -First 1
        if (-not $range -or -not $grange) { Set-ItResult -Skipped -Because "useradd gave $user no subordinate ranges"; return }
        $sub = [uint32]$range.Split(':')[1]; $gsub = [uint32]$grange.Split(':')[1]
        # The user's own store directory, holding the container's tree.
        $store = Join-Path $root ('rt-' + [guid]::NewGuid().ToString('N').Substring(0, 6))
        $tree = Join-Path $store 'container'
        New-Item -ItemType Directory -Path "$tree/sub/deeper" -Force | Out-Null
        Set-Content "$tree/sub/deeper/f" 'x'
        & chown "${user}:${user}" $store $tree
        # What a container writes as its uid 1000: owned by the range, private.
        & chown -R "$($sub + 999):$($gsub + 999)" "$tree/sub"
        & chmod 700 "$tree/sub" "$tree/sub/deeper"
        & setpriv --reuid $user --regid $user --clear-groups -- rm -rf $tree 2>$null
        Test-Path "$tree/sub/deeper/f" | Should -BeTrue -Because 'the user alone cannot delete it'
        $maps = '--uid-map', "0:${uid}:1,1:${sub}:65536", '--gid-map', "0:${gid}:1,1:${gsub}:65536", '--newuidmap', '/usr/bin/newuidmap', '--newgidmap', '/usr/bin/newgidmap'
        $r = Invoke-Bounded -FileName /usr/bin/setpriv -Arguments (@('--reuid', $user, '--regid', $user, '--clear-groups', '--reset-env', '--', $init, 'remove-tree') + $maps + $tree)
        $r.ExitCode | Should -Be 0 -Because ($r.Stderr -join "`n")
        Test-Path $tree | Should -BeFalse
        Test-Path $store | Should -BeTrue
        (Invoke-Bounded -Arguments 'remove-tree', $tree).ExitCode | Should -Be 2
    }
}
