# Isolation: a hostile image or container gets nothing from the host. Each Describe block is self-contained (its own
# BeforeAll/AfterAll, images and containers); hostile images are built here (tar + umoci on the busybox fixture) and
# checked from outside (host canaries, host cgroup directories) and from inside.
BeforeDiscovery { $script:isRoot = (id -u) -eq '0' }

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name isolation
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage

    function script:New-LayeredImage {
        # busybox plus one layer holding what -Populate puts into a directory (tar keeps links, FIFOs, sizes as they are).
        param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [scriptblock] $Populate)
        $work = Join-Path $root ('img-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $tree = Join-Path $work 'tree'
        New-Item -ItemType Directory -Path $tree -Force | Out-Null
        & $Populate $tree
        $tar = Join-Path $work 'layer.tar'
        & tar --numeric-owner --owner=0 --group=0 -C $tree -cf $tar . 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "tar failed for $Name" }
        $layout = Join-Path $work 'layout'
        Copy-Item -Recurse (Get-BusyboxLayout) $layout
        $out = & umoci raw add-layer --image "${layout}:latest" $tar 2>&1
        if ($LASTEXITCODE -ne 0) { throw "umoci add-layer failed: $out" }
        Import-ContainerImage -Path $layout -Name "localhost/${Name}:latest" -ErrorAction Stop | Out-Null
        $script:layouts[$Name] = $layout
        "localhost/${Name}:latest"
    }
    $script:layouts = @{}
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Isolation: mount destinations' -Skip:(-not $isRoot) {
    BeforeAll {
        # The host side a hostile image aims at: it must stay empty.
        $script:canary = Join-Path $root 'canary'
        New-Item -ItemType Directory -Path $canary -Force | Out-Null
        $script:volume = Join-Path $root 'volume'
        New-Item -ItemType Directory -Path $volume -Force | Out-Null
        Set-Content (Join-Path $volume 'hello') 'from the host'
        $script:zone = Join-Path $root 'zone'
        Set-Content $zone 'host zone'

        $script:debianLike = New-LayeredImage -Name 'links-in' -Populate {
            param($t)
            # Debian's /var/run -> /run and /etc/localtime -> zoneinfo.
            New-Item -ItemType Directory -Path "$t/var", "$t/run", "$t/etc", "$t/usr/share/zoneinfo/Etc" -Force | Out-Null
            New-Item -ItemType SymbolicLink -Path "$t/var/run" -Target /run | Out-Null
            Set-Content "$t/usr/share/zoneinfo/Etc/UTC" 'image zone'
            New-Item -ItemType SymbolicLink -Path "$t/etc/localtime" -Target /usr/share/zoneinfo/Etc/UTC | Out-Null
            # nginx's sites-enabled link (relative), and a link whose target the image lacks.
            New-Item -ItemType Directory -Path "$t/etc/nginx/sites-available", "$t/etc/nginx/sites-enabled" -Force | Out-Null
            Set-Content "$t/etc/nginx/sites-available/default" 'image site'
            New-Item -ItemType SymbolicLink -Path "$t/etc/nginx/sites-enabled/default" -Target ../sites-available/default | Out-Null
            New-Item -ItemType SymbolicLink -Path "$t/etc/timezone" -Target /usr/share/zoneinfo/Nowhere/Zone | Out-Null
        }
        $script:escaping = New-LayeredImage -Name 'links-out' -Populate {
            param($t)
            # Links to the host's canary: absolute, and climbing far past the root.
            New-Item -ItemType SymbolicLink -Path "$t/data" -Target $canary | Out-Null
            New-Item -ItemType SymbolicLink -Path "$t/up" -Target ('../../../../../../../..' + $canary) | Out-Null
        }
    }

    It 'mounts a volume through the image''s /var/run -> /run at /run, and a file over /etc/localtime''s target' {
        $out = Invoke-ContainerImage -Image $debianLike -Remove -Volume "${volume}:/var/run/x", "${zone}:/etc/localtime:ro" -Command sh, -c, `
            'cat /run/x/hello; cat /var/run/x/hello; busybox readlink /var/run; cat /etc/localtime; cat /usr/share/zoneinfo/Etc/UTC; echo no 2>/dev/null >> /etc/localtime || echo read-only'
        $LASTEXITCODE | Should -Be 0
        $out | Should -Be @('from the host', 'from the host', '/run', 'host zone', 'host zone', 'read-only')
        Get-Content $zone | Should -Be 'host zone'
    }

    It 'binds a file through a relative link, and through a dangling link whose target it creates inside the root' {
        $out = Invoke-ContainerImage -Image $debianLike -Remove -Volume "${zone}:/etc/nginx/sites-enabled/default:ro", "${zone}:/etc/timezone:ro" -Command sh, -c, `
            'cat /etc/nginx/sites-available/default; cat /usr/share/zoneinfo/Nowhere/Zone; busybox readlink /etc/timezone'
        $LASTEXITCODE | Should -Be 0
        $out | Should -Be @('host zone', 'host zone', '/usr/share/zoneinfo/Nowhere/Zone')
    }

    It 'keeps a destination behind a link out of the root inside the root; the host canary stays empty' {
        $out = Invoke-ContainerImage -Image $escaping -Remove -Volume "${volume}:/data/sub/dir:ro" -Tmpfs '/up/t' -Command sh, -c, `
            "cat /data/sub/dir/hello; cat $canary/sub/dir/hello; busybox grep -c ' $canary/t ' /proc/self/mountinfo; busybox grep -c ' $canary/sub/dir ' /proc/self/mountinfo"
        $LASTEXITCODE | Should -Be 0
        # Inside, the mounts sit at the link targets taken as paths of the container (the same ones runc picks).
        $out | Should -Be @('from the host', 'from the host', '1', '1')
        Get-ChildItem -Force $canary | Should -BeNullOrEmpty
        (Get-Content /proc/self/mountinfo) -match [regex]::Escape(" $canary") | Should -BeNullOrEmpty
    }

    It 'places the mount where runc places it on the same image' -Skip:(-not (Get-Command runc -ErrorAction SilentlyContinue)) {
        # umoci unpacks the same layout into a bundle; runc mounts the volume through the image's link into its rootfs.
        $bundle = Join-Path $root 'runc-bundle'
        & umoci unpack --image "$($layouts['links-out']):latest" $bundle 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 0
        $spec = Get-Content "$bundle/config.json" -Raw | ConvertFrom-Json -AsHashtable
        $spec.process.terminal = $false
        $spec.process.args = @('/bin/sh', '-c', "cat $canary/sub/dir/hello")
        $spec.mounts += @{ destination = '/data/sub/dir'; type = 'bind'; source = $volume; options = @('rbind', 'ro') }
        $spec | ConvertTo-Json -Depth 20 | Set-Content "$bundle/config.json"
        $name = 'iso-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        try { $runc = & runc run --bundle $bundle $name 2>&1 }
        finally { & runc delete --force $name 2>&1 | Out-Null }
        $ours = Invoke-ContainerImage -Image $escaping -Remove -Volume "${volume}:/data/sub/dir:ro" -Command sh, -c, "cat $canary/sub/dir/hello"
        $runc | Should -Be 'from the host'
        $ours | Should -Be $runc
        Get-ChildItem -Force $canary | Should -BeNullOrEmpty
    }
}

Describe 'Isolation: user lookup' -Skip:(-not $isRoot) {
    BeforeAll {
        function script:Invoke-Bounded([string] $Script, [int] $Seconds = 120) {
            # Runs $Script in a child pwsh with this store and module; a hang is ended here (by the child's pid), not by the test runner.
            $file = Join-Path $root ('child-' + [guid]::NewGuid().ToString('N').Substring(0, 8) + '.ps1')
            Set-Content $file ("Import-Module '$(Get-TestModulePath)'`n" + $Script)
            $psi = [System.Diagnostics.ProcessStartInfo]::new((Get-TestPwsh))
            foreach ($a in '-NoProfile', '-NonInteractive', '-File', $file) { $psi.ArgumentList.Add($a) }
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $p = [System.Diagnostics.Process]::Start($psi)
            $stdout = $p.StandardOutput.ReadToEndAsync()
            $stderr = $p.StandardError.ReadToEndAsync()
            if (-not $p.WaitForExit($Seconds * 1000)) {
                & kill -9 $p.Id
                $p.WaitForExit()
                return [pscustomobject]@{ TimedOut = $true; Output = $stdout.Result.Trim(); Error = $stderr.Result }
            }
            [pscustomobject]@{ TimedOut = $false; Output = $stdout.Result.Trim(); Error = $stderr.Result }
        }

        $script:shadowLink = New-LayeredImage -Name 'passwd-shadow' -Populate {
            param($t)
            New-Item -ItemType Directory -Path "$t/etc" | Out-Null
            New-Item -ItemType SymbolicLink -Path "$t/etc/passwd" -Target /etc/shadow | Out-Null
        }
        $script:fifo = New-LayeredImage -Name 'passwd-fifo' -Populate {
            param($t)
            New-Item -ItemType Directory -Path "$t/etc" | Out-Null
            & mkfifo "$t/etc/passwd"
        }
        $script:huge = New-LayeredImage -Name 'passwd-huge' -Populate {
            param($t)
            New-Item -ItemType Directory -Path "$t/etc" | Out-Null
            # Like /dev/zero, read whole: far more than a user database ever is.
            & dd if=/dev/zero of="$t/etc/group" bs=1M count=3 status=none
        }
    }

    It 'does not read the host''s /etc/shadow through an image''s /etc/passwd link' {
        # The host file's root line would give uid 0 or a day count, and its password hash would be parsed.
        $err = $null
        $c = New-Container -Image $shadowLink -User root -ErrorAction SilentlyContinue -ErrorVariable err
        $c | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ContainerFileUnreadable,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].Exception.Message | Should -BeLike "*/etc/passwd of image $shadowLink*"
    }

    It 'refuses an image''s FIFO /etc/passwd at once instead of hanging the session' {
        $r = Invoke-Bounded "try { New-Container -Image '$fifo' -User root -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId }"
        $r.TimedOut | Should -BeFalse
        $r.Output | Should -BeLike 'ContainerFileNotRegular,*'
    }

    It 'caps what it reads of an image''s /etc/group' {
        { New-Container -Image $huge -User root:root -ErrorAction Stop } | Should -Throw -ErrorId 'ContainerFileTooLarge*'
    }

    It 'resolves -User in a running container that replaced /etc/passwd with a link inside its own root' {
        $c = New-Container -Image busybox -Command sleep, 600 | Start-Container -PassThru
        try {
            # The container's own /etc/shadow, then /etc/passwd -> /etc/shadow (the host's would be read by host path).
            Invoke-ContainerCommand $c.Name -Command sh, -c, 'echo "root:x:4242:4343::/:/bin/sh" > /etc/shadow; busybox ln -sf /etc/shadow /etc/passwd'
            $LASTEXITCODE | Should -Be 0
            Invoke-ContainerCommand $c.Name -User root -Command id | Should -BeLike 'uid=4242(root) gid=4343*'
            # A FIFO /etc/group: a clear error, no hang.
            Invoke-ContainerCommand $c.Name -Command sh, -c, 'rm /etc/group && busybox mkfifo /etc/group'
            $r = Invoke-Bounded "try { Invoke-ContainerCommand '$($c.Name)' -User root -Command id -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.Exception.Message }"
            $r.TimedOut | Should -BeFalse
            $r.Output | Should -BeLike "ContainerFileNotRegular,*/etc/group of container $($c.Name) is a FIFO*"
        }
        finally { Remove-Container $c.Name -Force -Confirm:$false }
    }
}

Describe 'Isolation: cgroup lifetime' -Skip:(-not $isRoot) {
    BeforeAll {
        function script:Get-ContainerCgroupDirs([string] $Id) {
            # Every v1 hierarchy (and the unified mount) that holds this container's directory.
            @(Get-ChildItem /sys/fs/cgroup -Directory -ErrorAction SilentlyContinue |
                ForEach-Object { Join-Path $_.FullName "pscontainers/$Id" } | Where-Object { Test-Path $_ })
        }
        function script:Wait-Until([scriptblock] $Condition, [int] $Seconds = 30) {
            $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
            while ([DateTime]::UtcNow -lt $deadline) { if (& $Condition) { return $true }; Start-Sleep -Milliseconds 100 }
            return $false
        }
    }

    It 'removes the cgroups when the container exits and recreates them with the limits at the next start' {
        $c = New-Container -Image busybox -Memory 64MB -PidsLimit 40 -Command sh, -c, 'test -e /tmp/again && exec sleep 600; touch /tmp/again'
        try {
            $c | Start-Container -Wait | Out-Null
            Wait-Until { (Get-ContainerCgroupDirs $c.Id).Count -eq 0 } | Should -BeTrue
            (Get-Container $c.Name).State | Should -Be 'Exited'

            $c | Start-Container | Out-Null
            $dirs = Get-ContainerCgroupDirs $c.Id
            foreach ($h in 'memory', 'cpu', 'cpuacct', 'pids', 'freezer', 'blkio') { $dirs | Should -Contain "/sys/fs/cgroup/$h/pscontainers/$($c.Id)" }
            Get-Content "/sys/fs/cgroup/memory/pscontainers/$($c.Id)/memory.limit_in_bytes" | Should -Be 67108864
            Get-Content "/sys/fs/cgroup/pids/pscontainers/$($c.Id)/pids.max" | Should -Be 40
            Get-Content "/sys/fs/cgroup/pids/pscontainers/$($c.Id)/cgroup.procs" | Should -Contain (Get-Container $c.Name).Pid
            Stop-Container $c.Name -Timeout 1 | Out-Null
            Wait-Until { (Get-ContainerCgroupDirs $c.Id).Count -eq 0 } | Should -BeTrue
        }
        finally { Remove-Container $c.Name -Force -Confirm:$false }
    }

    It 'still reports an OOM kill, then removes the cgroups' {
        $c = New-Container -Image busybox -Memory 16MB -Command sh, -c, 'exec busybox dd if=/dev/zero of=/dev/shm/fill bs=1M count=60' | Start-Container -Wait
        try {
            $c.OomKilled | Should -BeTrue
            Wait-Until { (Get-ContainerCgroupDirs $c.Id).Count -eq 0 } | Should -BeTrue
            (Get-Container $c.Name).OomKilled | Should -BeTrue
        }
        finally { Remove-Container $c.Name -Force -Confirm:$false }
    }

    It 'cleans up after a SIGKILLed monitor at the next Get-Container, and starts again' {
        $c = New-Container -Image busybox -Memory 32MB -Command sleep, 600 | Start-Container -PassThru
        try {
            $monitor, $pid1 = $c.MonitorPid, $c.Pid
            & kill -9 $monitor
            & kill -9 $pid1
            # Gone, or a zombie the host's init has not reaped yet: either way out of its cgroups.
            Wait-Until { $s = Get-Content "/proc/$pid1/stat" -ErrorAction SilentlyContinue; -not $s -or ($s -split '\) ')[1][0] -eq 'Z' } | Should -BeTrue
            (Get-ContainerCgroupDirs $c.Id).Count | Should -BeGreaterThan 0
            (Get-Container $c.Name).State | Should -Be 'Exited'
            Get-ContainerCgroupDirs $c.Id | Should -BeNullOrEmpty
            $c | Start-Container | Out-Null
            Get-Content "/sys/fs/cgroup/memory/pscontainers/$($c.Id)/memory.limit_in_bytes" | Should -Be 33554432
        }
        finally { Remove-Container $c.Name -Force -Confirm:$false }
    }
}
