# The container's mounts made with the new mount API (open_tree, mount_setattr, move_mount): what a process inside may
# write, checked from inside and on the host. Real busybox containers on this kernel.
BeforeDiscovery {
    $isRoot = (id -u) -eq '0'
}

Describe 'Child setup: mounts' -Skip:(-not $isRoot) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $script:root = New-TestRoot -Name child-setup
        Import-Module (Get-TestModulePath) -Force
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
        Import-BusyboxImage | Out-Null
    }

    AfterAll {
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-TestRoot $script:root
    }

    It 'makes a read-only path read-only with every mount below it: a volume under /proc/sys cannot be written through' {
        # Before, only the top mount of /proc/sys was made read-only: a writable mount below it (here a volume) stayed
        # writable, and a process inside wrote through it onto the host.
        $volume = Join-Path $script:root 'under-proc-sys'
        New-Item -ItemType Directory $volume | Out-Null
        $out = Invoke-ContainerImage busybox -Remove -Volume "${volume}:/proc/sys/fs/binfmt_misc" -Command sh, -c, `
            '{ echo owned > /proc/sys/fs/binfmt_misc/canary; } 2>&1; busybox awk "\$5 == \"/proc/sys/fs/binfmt_misc\" {print \$6}" /proc/self/mountinfo; exit 0'
        "$out" | Should -Match 'Read-only file system'
        # The volume's own mount, covered by the read-only copy of /proc/sys, is listed first; the copy (the one reached) last.
        @($out -match 'relatime')[-1] | Should -Match '^ro,' -Because "$out"
        Test-Path (Join-Path $volume 'canary') | Should -BeFalse -Because 'nothing reached the host'
    }

    It 'keeps the generated /etc files nosuid, nodev, noexec and private, and the read-only paths read-only' {
        $out = Invoke-ContainerImage busybox -Remove -Command sh, -c, `
            'busybox awk "\$5 ~ /^\/etc\/(hosts|hostname|resolv.conf)$|^\/proc\/(sys|bus|fs|irq)$/ {print \$5, \$6, \$7}" /proc/self/mountinfo; { echo 1 > /proc/sys/kernel/ns_last_pid; } 2>&1; exit 0'
        foreach ($name in '/etc/hosts', '/etc/hostname', '/etc/resolv.conf') {
            $line = @($out -match "^$([regex]::Escape($name)) ")
            $line.Count | Should -Be 1 -Because "$name is bound once: $out"
            ($line[0] -split ' ')[1] | Should -Match '(^|,)nosuid(,|$)'
            ($line[0] -split ' ')[1] | Should -Match '(^|,)nodev(,|$)'
            ($line[0] -split ' ')[1] | Should -Match '(^|,)noexec(,|$)'
            ($line[0] -split ' ')[2] | Should -Not -Match 'shared|master' -Because 'nothing propagates between the host and the container'
        }
        foreach ($name in '/proc/sys', '/proc/bus', '/proc/fs', '/proc/irq') {
            $line = @($out -match "^$([regex]::Escape($name)) ")
            $line.Count | Should -BeGreaterOrEqual 1 -Because "$name is bound: $out"
            ($line[-1] -split ' ')[1] | Should -Match '^ro,'
        }
        "$out" | Should -Match 'Read-only file system'
    }

    It 'makes the devices and their links in the container''s own /dev, and none on the host' {
        $c = New-Container busybox -Command sh, -c, 'busybox stat -c "%n %F %t:%T %a" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; for l in /dev/fd /dev/stdin /dev/ptmx; do busybox readlink $l; done'
        try {
            $out = @($c | Start-Container -Wait -PassThru | Get-ContainerLog | ForEach-Object Text)
            $out | Should -Contain '/dev/null character special file 1:3 666'
            $out | Should -Contain '/dev/urandom character special file 1:9 666'
            $out | Should -Contain '/dev/tty character special file 5:0 666'
            $out | Should -Contain '/proc/self/fd'
            $out | Should -Contain 'pts/ptmx'
            # Checked on the host: the nodes live in the container's /dev tmpfs, not in its upper directory or the store.
            @(Get-ChildItem -Recurse -Force (Join-Path $env:PSCONTAINERS_DATA_DIR 'containers') -ErrorAction SilentlyContinue |
                Where-Object Name -in 'null', 'urandom', 'tty') | Should -BeNullOrEmpty
        }
        finally { Remove-Container $c.Name -Force }
    }

    It 'binds through an image''s relative link (a walk through "..") while the host mounts and unmounts without pause' {
        # openat2(RESOLVE_IN_ROOT) answers EAGAIN to a walk through ".." that raced with any mount on the host; the child
        # retries (before, the start failed: "creating the mount point ...: Resource temporarily unavailable").
        $work = Join-Path $script:root 'relative-link'
        $tree = Join-Path $work 'tree'
        New-Item -ItemType Directory "$tree/etc/app/available", "$tree/etc/app/enabled" -Force | Out-Null
        Set-Content "$tree/etc/app/available/site" 'from the image'
        & ln -s ../available/site "$tree/etc/app/enabled/site"
        & tar --numeric-owner --owner=0 --group=0 -C $tree -cf "$work/layer.tar" .
        Copy-Item -Recurse (Get-BusyboxLayout) "$work/layout"
        & umoci raw add-layer --image "$work/layout:latest" "$work/layer.tar" | Out-Null
        Import-ContainerImage -Path "$work/layout" -Name 'localhost/relative-link:latest' -ErrorAction Stop | Out-Null
        $site = Join-Path $work 'site'
        Set-Content $site 'from the host'
        New-Item -ItemType Directory "$work/churn" | Out-Null
        # Mounts in a namespace of its own: the host's tree is untouched, the kernel's global mount count moves all the time.
        $churn = Start-Process -PassThru -FilePath unshare -ArgumentList '-m', '--propagation', 'private', 'sh', '-c',
            "while :; do mount -t tmpfs churn '$work/churn'; umount '$work/churn'; done" -RedirectStandardError "$work/churn.err"
        try {
            $out = foreach ($i in 1..40) {
                Invoke-ContainerImage localhost/relative-link -Remove -Volume "${site}:/etc/app/enabled/site:ro" -Command cat, /etc/app/available/site
            }
        }
        finally { Stop-Process -Id $churn.Id -ErrorAction SilentlyContinue }
        @($out | Where-Object { $_ -eq 'from the host' }).Count | Should -Be 40 -Because 'every start bound the volume at the link''s target'
    }
}
