# Isolation against hostile images and containers, checked from inside and from the host.
# Each Describe block is self-contained (its own test root, images and cleanup).
BeforeDiscovery { $isRoot = (id -u) -eq '0' }

Describe 'Isolation: devices' -Skip:(-not $isRoot) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $script:root = New-TestRoot -Name isolation-devices
        Import-Module (Get-TestModulePath) -Force
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
        Import-BusyboxImage | Out-Null
        $script:containersDir = Join-Path $env:PSCONTAINERS_DATA_DIR 'containers'

        # The host's disk: a block node with its numbers is the worst an image can ship.
        $script:disk = @('/dev/vda', '/dev/sda', '/dev/nvme0n1', '/dev/xvda') | Where-Object { Test-Path $_ } | Select-Object -First 1
        $dn = (& stat -c '%t %T' $disk) -split ' ' | ForEach-Object { [Convert]::ToInt32($_, 16) }

        # A hostile image: busybox plus a layer of device nodes made with mknod (the numbers of the host's
        # /dev/kmsg, its disk, /dev/fuse, and /dev/null's as a harmless control), tarred and added with umoci.
        $script:work = Join-Path $root 'hostile'
        New-Item -ItemType Directory -Force "$work/rootfs/evil" | Out-Null
        foreach ($n in @(@('kmsg', 'c', 1, 11), @('disk', 'b', $dn[0], $dn[1]), @('fuse', 'c', 10, 229), @('null', 'c', 1, 3))) {
            & mknod -m 666 "$work/rootfs/evil/$($n[0])" $n[1] $n[2] $n[3]
            if ($LASTEXITCODE) { throw "mknod $($n[0]) failed" }
        }
        & tar --numeric-owner -C "$work/rootfs" -cf "$work/layer.tar" evil
        Copy-Item -Recurse (Get-BusyboxLayout) "$work/layout"
        & umoci raw add-layer --image "$work/layout:latest" "$work/layer.tar"
        if ($LASTEXITCODE) { throw 'umoci raw add-layer failed' }
        Import-ContainerImage -Path "$work/layout" -Name hostile-devices | Out-Null

        # One line per check: name=open or name=denied, with the error for a refused kmsg. (Reading kmsg needs CAP_SYSLOG
        # anyway, so the probes write: the attack that reached the host's kernel log.)
        $script:probe = @'
try() { if ( eval "$2" ) 2>/dev/null; then echo "$1=open"; else echo "$1=denied"; fi; }
try kmsg-write "echo $MARKER > /evil/kmsg"
try disk-read 'exec 3</evil/disk'
try evil-fuse 'exec 3<>/evil/fuse'
try evil-null 'exec 3<>/evil/null'
try dev-null 'echo x > /dev/null'
try dev-zero '[ "$(busybox head -c 8 /dev/zero | busybox wc -c)" = 8 ]'
try dev-urandom '[ "$(busybox head -c 8 /dev/urandom | busybox wc -c)" = 8 ]'
try dev-random 'exec 3</dev/random'
try dev-full 'exec 3>/dev/full'
try dev-ptmx 'exec 3<>/dev/ptmx'
try fuse-read '[ -c /dev/fuse ] && exec 3</dev/fuse'
try fuse-write '[ -c /dev/fuse ] && exec 3>/dev/fuse'
(exec 3>/evil/kmsg) 2>&1 | busybox tail -n 1
'@
        function script:Invoke-Probe([hashtable] $Options = @{}) {
            $marker = 'pscontainers-canary-' + [guid]::NewGuid().ToString('N')
            $out = Invoke-ContainerImage -Image hostile-devices -Remove -Environment @{ MARKER = $marker } -Command sh, -c, $probe @Options
            [pscustomobject]@{ Lines = @($out); Marker = $marker }
        }
        function script:Get-Result($Probe, [string] $Name) { ($Probe.Lines | Where-Object { $_ -like "$Name=*" }) -replace '^[^=]*=' }
    }

    AfterAll {
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-TestRoot $script:root
    }

    It 'refuses device nodes shipped in an image to a root container (the host''s kernel log stays untouched) and keeps null, zero, full, random, urandom and ptmx' {
        $p = Invoke-Probe
        $LASTEXITCODE | Should -Be 0
        Get-Result $p kmsg-write | Should -Be 'denied'
        Get-Result $p disk-read | Should -Be 'denied'
        Get-Result $p evil-fuse | Should -Be 'denied'
        $p.Lines[-1] | Should -Match 'Operation not permitted'
        # From the host: the canary never reached the kernel log.
        (& dmesg) -join "`n" | Should -Not -Match $p.Marker
        # The standard devices keep working, and so does an image's node with /dev/null's numbers.
        foreach ($n in 'dev-null', 'dev-zero', 'dev-urandom', 'dev-random', 'dev-full', 'dev-ptmx', 'evil-null') { Get-Result $p $n | Should -Be 'open' -Because $n }
        Get-Result $p fuse-read | Should -Be 'denied' -Because 'there is no /dev/fuse without -Device'
    }

    It 'gives a -Tty container its terminal through /dev/tty and /dev/console' {
        $c = New-Container -Image hostile-devices -Tty -Command sh, -c, '(exec 3<>/dev/tty) && echo tty=open; (exec 3<>/dev/console) && echo console=open; (exec 3>/evil/kmsg) || echo kmsg=denied' |
            Start-Container -Wait
        (Get-ContainerLog $c.Name).Text | Where-Object { $_ -match '=' } | Should -Be @('tty=open', 'console=open', 'kmsg=denied')
        Remove-Container $c.Name
    }

    It 'allows mknod (with CAP_MKNOD) but not opening what was made' {
        $out = Invoke-ContainerImage -Image hostile-devices -Remove -CapAdd MKNOD -Command sh, -c, 'busybox mknod /tmp/k c 1 11 && echo made; (exec 3>/tmp/k) 2>&1 | busybox tail -n 1'
        $out[0] | Should -Be 'made'
        $out[1] | Should -Match 'Operation not permitted'
    }

    It 'enforces the list twice on this hybrid host: relaxing the v1 devices cgroup leaves the BPF program in the cgroup2 tree refusing' -Skip:(-not (Test-Path /sys/fs/cgroup/unified/cgroup.procs)) {
        $c = New-Container -Image hostile-devices -Command sleep, 300 | Start-Container -PassThru
        try {
            $v1 = "/sys/fs/cgroup/devices/pscontainers/$($c.Id)"
            Get-Content "$v1/devices.list" | Should -Be @('c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm',
                'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm')
            Get-Content "/proc/$($c.Pid)/cgroup" | Should -Contain "0::/pscontainers/$($c.Id)"
            # Relax the v1 layer: allow kmsg there.
            & sh -c "echo 'c 1:11 rwm' > $v1/devices.allow"   # one write(2), as the kernel wants (Set-Content writes the newline apart)
            Get-Content "$v1/devices.list" | Should -Contain 'c 1:11 rwm'
            $out = Invoke-ContainerCommand $c.Name -Command sh, -c, '(exec 3>/evil/kmsg) 2>&1 | busybox cat; (exec 3<>/evil/null) && echo null=open'
            $out[0] | Should -Match 'Operation not permitted'
            $out[1] | Should -Be 'null=open'
        }
        finally { Remove-Container $c.Name -Force -Confirm:$false }
        Test-Path "/sys/fs/cgroup/unified/pscontainers/$($c.Id)" | Should -BeFalse
    }

    It 'grants a device with -Device, with the access given, in config.json as runc reads it' -Skip:(-not (Test-Path /dev/fuse)) {
        $p = Invoke-Probe @{ Device = '/dev/fuse' }
        Get-Result $p fuse-read | Should -Be 'open'
        Get-Result $p fuse-write | Should -Be 'open'
        Get-Result $p evil-fuse | Should -Be 'open' -Because 'the rule grants the numbers 10:229'
        Get-Result $p kmsg-write | Should -Be 'denied'

        $p = Invoke-Probe @{ Device = '/dev/fuse:/dev/fuse:r' }
        Get-Result $p fuse-read | Should -Be 'open'
        Get-Result $p fuse-write | Should -Be 'denied'

        $c = New-Container -Image hostile-devices -Device '/dev/fuse:/dev/myfuse:rw', '/dev/null:/dev/other-null' -Command true
        $c.Resources.Devices.Path | Should -Be @('/dev/myfuse', '/dev/other-null')
        $spec = Get-Content (Join-Path $containersDir "$($c.Id)/bundle/config.json") -Raw | ConvertFrom-Json
        $spec.linux.devices[0] | Select-Object path, type, major, minor | ConvertTo-Json -Compress | Should -Be '{"path":"/dev/myfuse","type":"c","major":10,"minor":229}'
        $rules = $spec.linux.resources.devices
        $rules[0] | ConvertTo-Json -Compress | Should -Be '{"allow":false,"access":"rwm"}'
        $rules[-2] | ConvertTo-Json -Compress | Should -Be '{"allow":true,"type":"c","major":10,"minor":229,"access":"rw"}'
        $rules[-1] | ConvertTo-Json -Compress | Should -Be '{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}'
        Remove-Container $c.Name
    }

    It 'refuses a bad -Device before creating anything: <Value> → <ErrorId>' -ForEach @(
        @{ Value = '/dev/pscontainers-missing'; ErrorId = 'DeviceNotFound'; Target = '/dev/pscontainers-missing' }
        @{ Value = '/nonexistent/fuse:/dev/fuse'; ErrorId = 'DeviceNotFound'; Target = '/nonexistent/fuse' }
        @{ Value = '/etc/hostname'; ErrorId = 'NotADevice'; Target = '/etc/hostname' }
        @{ Value = 'dev/fuse'; ErrorId = 'InvalidDevice'; Target = 'dev/fuse' }
        @{ Value = '/dev/null:/etc/null'; ErrorId = 'InvalidDevice'; Target = '/dev/null:/etc/null' }
        @{ Value = '/dev/null:/dev/../etc/x:r'; ErrorId = 'InvalidDevice'; Target = '/dev/null:/dev/../etc/x:r' }
        @{ Value = '/dev/null:rwx'; ErrorId = 'InvalidDeviceAccess'; Target = 'rwx' }
    ) {
        $before = @(Get-ChildItem $containersDir -ErrorAction SilentlyContinue).Count
        $e = { New-Container -Image busybox -Device $Value -Command true -ErrorAction Stop } |
            Should -Throw -ErrorId "$ErrorId,Containers.Cmdlets.Commands.Container.NewContainerCommand" -PassThru
        $e.TargetObject | Should -Be $Target
        $e.ErrorDetails.RecommendedAction + $e.Exception.Message | Should -Not -BeNullOrEmpty
        @(Get-ChildItem $containersDir -ErrorAction SilentlyContinue).Count | Should -Be $before
        { Invoke-ContainerImage -Image busybox -Remove -Device $Value -Command true -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId,*"
    }

    It 'answers like runc on the same bundle (the same allow-list and grant)' -Skip:(-not (Get-Command runc -ErrorAction SilentlyContinue) -or -not (Test-Path /dev/fuse)) {
        $marker = 'pscontainers-canary-' + [guid]::NewGuid().ToString('N')
        $c = New-Container -Image hostile-devices -Device '/dev/fuse:/dev/fuse:r' -Environment @{ MARKER = $marker } -Command sh, -c, $probe
        $ours = @((Start-Container $c.Name -Wait | Get-ContainerLog).Text)

        # runc gets our config.json over umoci's unpack of the same image, in a cgroup of its own.
        $bundle = Join-Path $work 'runc-bundle'
        & umoci unpack --image "$work/layout:latest" $bundle 2>&1 | Out-Null
        $spec = Get-Content (Join-Path $containersDir "$($c.Id)/bundle/config.json") -Raw | ConvertFrom-Json -AsHashtable
        $runcParent = 'pscontainers-runc-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $spec.linux.cgroupsPath = "$runcParent/$($c.Id.Substring(0, 12))"
        $spec | ConvertTo-Json -Depth 20 | Set-Content (Join-Path $bundle 'config.json')
        $runcId = 'pscontainers-devices-' + $c.Id.Substring(0, 12)
        $theirs = @(& runc run --bundle $bundle $runcId 2>&1 | ForEach-Object { "$_" })
        & runc delete --force $runcId 2>&1 | Out-Null
        # runc removes its container's cgroup, never the parent it made for it: rmdir that in every hierarchy.
        foreach ($dir in Get-Item "/sys/fs/cgroup/*/$runcParent" -ErrorAction SilentlyContinue) {
            try { [IO.Directory]::Delete($dir.FullName) } catch [IO.DirectoryNotFoundException] { }
        }
        Remove-Container $c.Name

        $theirs | Should -Be $ours
        $ours | Should -Contain 'kmsg-write=denied'
        $ours | Should -Contain 'fuse-read=open'
        $ours | Should -Contain 'fuse-write=denied'
        (& dmesg) -join "`n" | Should -Not -Match $marker
    }
}
