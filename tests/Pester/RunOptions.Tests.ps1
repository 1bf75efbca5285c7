# Run options real images need (-ShmSize, -Ulimit, -EnvFile, -StopSignal, -Init, -ReadOnlyTmpfs, -WorkingDirectory
# created, -GroupAdd, -Sysctl), each checked from inside a real busybox container, with its bad input refused before
# anything is created.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }

Describe 'Run options' -Skip:(-not $isRoot) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $script:root = New-TestRoot -Name run-options
        Import-Module (Get-TestModulePath) -Force
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
        Import-BusyboxImage | Out-Null

        function script:Invoke-Busybox([string] $Script, [hashtable] $Options = @{}) {
            Invoke-ContainerImage busybox @Options -Remove -Command sh, -c, "{ $Script; } 2>&1; exit 0"
        }
        # New-Container with bad input: the error record, and nothing created.
        function script:Get-CreateError([hashtable] $Options) {
            $before = @(Get-Container).Count
            New-Container busybox @Options -Command true -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            @(Get-Container).Count | Should -Be $before -Because 'a refused option creates nothing'
            $err[0]
        }
        function script:Wait-Log([string] $Name, [string] $Line) {
            $deadline = (Get-Date).AddSeconds(30)
            while (((Get-ContainerLog $Name).Text -notcontains $Line) -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 100 }
        }
    }

    AfterAll {
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-TestRoot $script:root
    }

    Context '-ShmSize' {
        It 'sizes /dev/shm (64 MiB when not given)' {
            Invoke-Busybox 'busybox df -k /dev/shm | busybox tail -1 | busybox awk "{print \$2}"' @{ ShmSize = '256MB' } | Should -Be '262144'
            Invoke-Busybox 'busybox df -k /dev/shm | busybox tail -1 | busybox awk "{print \$2}"' | Should -Be '65536'
        }
        It 'refuses a size that is not one' {
            (Get-CreateError @{ ShmSize = 'lots' }).FullyQualifiedErrorId | Should -BeLike 'InvalidMemoryLimit*'
            (Get-CreateError @{ ShmSize = '0' }).FullyQualifiedErrorId | Should -BeLike 'InvalidShmSize*'
        }
    }

    Context '-Ulimit' {
        It 'sets each limit given (soft and hard), the same as crun reads from the bundle' {
            $c = New-Container busybox -Ulimit 'nofile=1024:4096', 'core=0', 'nproc=500' -Command sh, -c, 'busybox grep -E "^Max (open files|core file size|processes)" /proc/self/limits'
            $ours = @((Start-Container $c.Name -Wait | Get-ContainerLog).Text)
            $theirs = @(Invoke-BundleUnderCrun (Join-Path $env:PSCONTAINERS_DATA_DIR "containers/$($c.Id)"))
            Remove-Container $c.Name
            $ours | Should -Match '^Max (open files\s+1024\s+4096|core file size\s+0\s+0|processes\s+500\s+500)\s'
            @($ours).Count | Should -Be 3
            $theirs | Should -Be $ours
        }
        It 'refuses an unknown name, a bad value, soft above hard and more open files than this host grants, naming the item' {
            $e = Get-CreateError @{ Ulimit = 'nofiles=10' }
            $e.FullyQualifiedErrorId | Should -BeLike 'UnknownUlimit*'
            $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $e.Exception.Message | Should -Match 'nofiles'
            (Get-CreateError @{ Ulimit = 'nofile=ten' }).FullyQualifiedErrorId | Should -BeLike 'InvalidUlimit*'
            (Get-CreateError @{ Ulimit = 'nofile=4096:1024' }).FullyQualifiedErrorId | Should -BeLike 'InvalidUlimit*'
            (Get-CreateError @{ Ulimit = 'nofile=100000000' }).FullyQualifiedErrorId | Should -BeLike 'UlimitTooHigh*'
        }
    }

    Context '-EnvFile' {
        It 'reads Docker''s format: literal values, KEY alone from this session, comments; later files and -Environment win' {
            $a = Join-Path $root 'a.env'; $b = Join-Path $root 'b.env'
            "# a comment`n`nPLAIN=one`nQUOTED='kept as is'`nSPACES=a b  `nFROMHOST`nUNSETHOST`nEQ=x=y`nOVER=a`nLAST=a" | Set-Content $a
            "OVER=b`nLAST=b" | Set-Content $b
            $env:FROMHOST = 'from-the-session'
            Remove-Item Env:UNSETHOST -ErrorAction SilentlyContinue
            try { $out = Invoke-Busybox 'env' @{ EnvFile = $a, $b; Environment = @{ LAST = 'env' } } }
            finally { Remove-Item Env:FROMHOST }
            $out | Should -Contain 'PLAIN=one'
            $out | Should -Contain "QUOTED='kept as is'"
            $out | Should -Contain 'SPACES=a b  '
            $out | Should -Contain 'FROMHOST=from-the-session'
            $out | Should -Contain 'EQ=x=y'
            $out | Should -Contain 'OVER=b'
            $out | Should -Contain 'LAST=env'
            @($out -like 'UNSETHOST*').Count | Should -Be 0
        }
        It 'refuses a missing file and a line without a name, naming the file and line' {
            (Get-CreateError @{ EnvFile = (Join-Path $root 'missing.env') }).FullyQualifiedErrorId | Should -BeLike 'EnvFileNotFound*'
            $bad = Join-Path $root 'bad.env'
            "GOOD=1`n=nokey" | Set-Content $bad
            $e = Get-CreateError @{ EnvFile = $bad }
            $e.FullyQualifiedErrorId | Should -BeLike 'InvalidEnvFileLine*'
            $e.Exception.Message | Should -Match ([regex]::Escape("${bad}:2"))
        }
    }

    Context '-StopSignal and the warning when SIGKILL followed' {
        It 'sends the given signal first' {
            $c = New-Container busybox -StopSignal SIGUSR1 -Command sh, -c, 'trap "echo got-usr1; exit 3" USR1; trap "" TERM; echo ready; while :; do sleep 0.1; done' |
                Start-Container -PassThru
            Wait-Log $c.Name 'ready'
            $stopped = Stop-Container $c.Name -Timeout 30 -PassThru -WarningVariable warned
            $stopped.ExitCode | Should -Be 3
            (Get-ContainerLog $c.Name).Text | Should -Contain 'got-usr1'
            $warned | Should -BeNullOrEmpty
            Remove-Container $c.Name
        }
        It 'sends the image''s StopSignal when none is given, and -StopSignal replaces it' {
            $base = New-Container busybox -Command true
            $image = $base | New-ContainerImage -Name localhost/stopsignal:1 -Change 'STOPSIGNAL SIGUSR2'
            Remove-Container $base.Name
            try {
                $script = 'trap "echo got-usr2; exit 4" USR2; trap "echo got-int; exit 5" INT; trap "" TERM; echo ready; while :; do sleep 0.1; done'
                $fromImage = New-Container $image.Id -Command sh, -c, $script | Start-Container -PassThru
                $given = New-Container $image.Id -StopSignal INT -Command sh, -c, $script | Start-Container -PassThru
                Wait-Log $fromImage.Name 'ready'; Wait-Log $given.Name 'ready'
                (Stop-Container $fromImage.Name -Timeout 30 -PassThru).ExitCode | Should -Be 4
                (Stop-Container $given.Name -Timeout 30 -PassThru).ExitCode | Should -Be 5
                Remove-Container $fromImage.Name, $given.Name
            }
            finally { Remove-ContainerImage -Name localhost/stopsignal:1 -Force -Confirm:$false -ErrorAction SilentlyContinue }
        }
        It 'warns when the stop signal did not stop the container and SIGKILL followed' {
            # sleep as PID 1 leaves SIGTERM at its default action, which the kernel does not deliver to a namespace's init.
            $c = New-Container busybox -Command sleep, 600 | Start-Container -PassThru
            $stopped = Stop-Container $c.Name -Timeout 1 -PassThru -WarningVariable warned -WarningAction SilentlyContinue
            $stopped.ExitCode | Should -Be 137
            "$warned" | Should -Match 'SIGTERM'
            "$warned" | Should -Match 'SIGKILL'
            Remove-Container $c.Name
        }
        It 'refuses an unknown signal' {
            (Get-CreateError @{ StopSignal = 'SIGNOPE' }).FullyQualifiedErrorId | Should -BeLike 'InvalidSignal*'
        }
    }

    Context '-Init' {
        It 'passes SIGTERM on to the command, which then ends at once (no SIGKILL), and exits with its status' {
            $c = New-Container busybox -Init -Command sleep, 600 | Start-Container -PassThru
            Invoke-ContainerCommand $c.Name -Command cat, /proc/1/cmdline | Should -Not -Match 'sleep' -Because 'PID 1 is the init'
            $stopped = Stop-Container $c.Name -Timeout 60 -PassThru -WarningVariable warned
            $warned | Should -BeNullOrEmpty
            $stopped.ExitCode | Should -Be 143 -Because 'sleep ended by SIGTERM'
            Remove-Container $c.Name
        }
        It 'reaps orphans that would stay zombies under a PID 1 that never waits' {
            # The subshell's sleep is orphaned, reparented to PID 1, and exits: only an init that waits collects it.
            $script = '(sleep 0.2 &); exec sleep 600'
            $zombies = {
                param($name)
                $deadline = (Get-Date).AddSeconds(20)
                do {
                    Start-Sleep -Milliseconds 500
                    $states = Invoke-ContainerCommand $name -Command sh, -c, 'cat /proc/[0-9]*/stat 2>/dev/null'
                    $z = @($states | Where-Object { $_ -match '\) Z ' })
                } while ($z.Count -eq 0 -and (Get-Date) -lt $deadline -and $args.Count -eq 0)
                $z.Count
            }
            $without = New-Container busybox -Command sh, -c, $script | Start-Container -PassThru
            $with = New-Container busybox -Init -Command sh, -c, $script | Start-Container -PassThru
            try {
                & $zombies $without.Name | Should -Be 1 -Because 'sleep as PID 1 leaves the orphan a zombie'
                & $zombies $with.Name 'once' | Should -Be 0
            }
            finally { Remove-Container $without.Name, $with.Name -Force }
        }
        It 'gives the command a terminal of its own with -Tty' {
            $c = New-Container busybox -Init -Tty -Command sh, -c, 'tty; sleep 600' | Start-Container -PassThru
            Wait-Log $c.Name '/dev/pts/0'
            (Get-ContainerLog $c.Name).Text | Should -Contain '/dev/pts/0'
            Remove-Container $c.Name -Force
        }
    }

    Context '-ReadOnly with -ReadOnlyTmpfs' {
        It 'mounts writable tmpfs on /tmp, /var/tmp and /run, and nowhere else' {
            $out = Invoke-Busybox 'for d in /tmp /var/tmp /run /etc; do touch $d/x && echo "$d writable"; done; busybox awk "\$2 ~ /^\/(tmp|var\/tmp|run)$/ {print \$2, \$3}" /proc/mounts' @{ ReadOnly = $true }
            $out | Should -Contain '/tmp writable'
            $out | Should -Contain '/var/tmp writable'
            $out | Should -Contain '/run writable'
            $out | Should -Not -Contain '/etc writable'
            $out | Should -Contain '/tmp tmpfs'
        }
        It 'leaves them read-only with -ReadOnlyTmpfs:$false' {
            $out = Invoke-Busybox 'touch /tmp/x && echo writable' @{ ReadOnly = $true; ReadOnlyTmpfs = $false }
            $out | Should -Not -Contain 'writable'
            "$out" | Should -Match 'Read-only file system'
        }
    }

    Context '-WorkingDirectory' {
        It 'creates a missing working directory owned by the container''s user' {
            Invoke-Busybox 'pwd; ls -ldn . | busybox awk "{print \$1, \$3, \$4}"; ls -ldn /srv | busybox awk "{print \$3}"' @{ WorkingDirectory = '/srv/app/data'; User = 'nobody' } |
                Should -Be @('/srv/app/data', 'drwxr-xr-x 65534 65534', '65534')
        }
        It 'leaves an existing directory as it is' {
            Invoke-Busybox 'ls -ldn . | busybox awk "{print \$1, \$3}"' @{ WorkingDirectory = '/tmp'; User = 'nobody' } |
                Should -Be 'drwxrwxrwt 0'
        }
    }

    Context '-GroupAdd' {
        It 'adds groups by name of the image''s /etc/group and by number' {
            Invoke-Busybox 'busybox grep ^Groups: /proc/self/status' @{ GroupAdd = 'nogroup', '1234' } | Should -Match '^Groups:\s+1234 65534\s*$'
        }
        It 'refuses a group the image does not define' {
            $e = Get-CreateError @{ GroupAdd = 'wheelz' }
            $e.FullyQualifiedErrorId | Should -BeLike 'GroupNotFound*'
            $e.Exception.Message | Should -Match 'wheelz'
        }
    }

    Context '-Sysctl' {
        It 'sets IPC and network sysctls in the container''s own namespaces, leaving the host''s alone' {
            $hostShm = Get-Content /proc/sys/kernel/shmmni
            $hostPort = Get-Content /proc/sys/net/ipv4/ip_unprivileged_port_start
            Invoke-Busybox 'cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/fs/mqueue/msg_max' @{
                Sysctl = 'kernel.shmmni=1000', 'net.ipv4.ip_unprivileged_port_start=80', 'fs.mqueue.msg_max=20'
            } | Should -Be @('1000', '80', '20')
            Get-Content /proc/sys/kernel/shmmni | Should -Be $hostShm
            Get-Content /proc/sys/net/ipv4/ip_unprivileged_port_start | Should -Be $hostPort
        }
        It 'refuses a sysctl of the host, and net.* without a network namespace of its own' {
            $e = Get-CreateError @{ Sysctl = 'vm.swappiness=1' }
            $e.FullyQualifiedErrorId | Should -BeLike 'SysctlNotNamespaced*'
            $e.CategoryInfo.Category | Should -Be 'PermissionDenied'
            (Get-CreateError @{ Sysctl = 'kernel.hostname=x' }).FullyQualifiedErrorId | Should -BeLike 'SysctlNotNamespaced*'
            (Get-CreateError @{ Sysctl = 'net.ipv4.ip_forward=1'; Network = 'host' }).FullyQualifiedErrorId | Should -BeLike 'SysctlNeedsNetworkNamespace*'
            (Get-CreateError @{ Sysctl = 'kernel.shmmni' }).FullyQualifiedErrorId | Should -BeLike 'InvalidSysctl*'
        }
    }
}
