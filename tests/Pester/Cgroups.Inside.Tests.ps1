# The container sees its own cgroups: /proc/self/cgroup reads "/", /sys/fs/cgroup holds its own directories read-only
# (as runc lays them out on this cgroup v1 host), a JVM sizes its heap for -Memory. Checked inside real busybox
# containers, from the host (the host's cgroup files), and against crun running the same bundle.
BeforeDiscovery {
    $isRoot = (id -u) -eq '0'
    $v1 = Test-Path /sys/fs/cgroup/memory/memory.limit_in_bytes
    $java = '/usr/lib/jvm/java-17-openjdk-amd64/bin/java'
    $hasJava = Test-Path $java
}

Describe 'Cgroups inside the container' -Skip:(-not ($isRoot -and $v1)) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $script:root = New-TestRoot -Name cgroups-inside
        Import-Module (Get-TestModulePath) -Force
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
        Import-BusyboxImage | Out-Null

        function script:Invoke-Busybox([string] $Script, [hashtable] $Options = @{}) {
            Invoke-ContainerImage busybox @Options -Remove -Command sh, -c, "{ $Script; } 2>&1; exit 0"
        }
    }

    AfterAll {
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-TestRoot $script:root
    }

    It 'shows the container its own cgroup as / in every hierarchy, for its init and for an exec' {
        $c = New-Container busybox -Memory 64MB -Command sleep, 600 | Start-Container -PassThru
        try {
            $init = Invoke-ContainerCommand $c.Name -Command cat, /proc/1/cgroup
            $exec = Invoke-ContainerCommand $c.Name -Command cat, /proc/self/cgroup
            # Before: the namespace was made at clone, before the pid joined its cgroups (memory:/../../pscontainers/<id>).
            @($init).Count | Should -BeGreaterThan 3
            foreach ($line in @($init) + @($exec)) { $line | Should -Match ':/$' }
            # The host still places it in its own cgroup.
            Get-Content "/proc/$($c.Pid)/cgroup" | Should -Contain "4:memory:/pscontainers/$($c.Id)" -Because 'the memory hierarchy is id 4 here'
        }
        finally { Remove-Container $c.Name -Force }
    } -Skip:(-not ((Get-Content /proc/self/cgroup) -match '^4:memory:'))

    It 'mounts the container''s own memory, cpu and pids cgroups at /sys/fs/cgroup: the limits read as given' {
        $out = Invoke-Busybox 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us' @{
            Memory = '64MB'; PidsLimit = 32; Cpus = 0.5
        }
        $out | Should -Be @('67108864', '32', '50000', '100000')
    }

    It 'lays /sys/fs/cgroup out as runc does: a read-only tmpfs, one read-only mount per hierarchy rooted at the container''s cgroup' {
        $mounts = Invoke-Busybox 'busybox awk "\$5 ~ /^\/sys\/fs\/cgroup/ {print \$4, \$5, \$6}" /proc/self/mountinfo'
        $mounts | Should -Contain '/ /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime'
        $mounts | Should -Contain '/ /sys/fs/cgroup/cpuset ro,nosuid,nodev,noexec,relatime'
        foreach ($m in $mounts) { ($m -split ' ')[2] | Should -Match '^ro,' }
        # JVMs need memory, cpu, cpuacct and cpuset; the container has a cpuset of its own (cpus copied from its parent).
        Invoke-Busybox 'cat /sys/fs/cgroup/cpuset/cpuset.cpus' | Should -Be (Get-Content /sys/fs/cgroup/cpuset/cpuset.cpus)
    }

    It 'keeps the host''s cgroup tree out of sight: another cgroup made on the host is not visible inside' {
        $canary = "pscontainers-canary-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        New-Item -ItemType Directory "/sys/fs/cgroup/memory/$canary", "/sys/fs/cgroup/pids/$canary" | Out-Null
        try {
            $seen = Invoke-Busybox 'busybox find /sys/fs/cgroup -maxdepth 2 -type d'
            "$seen" | Should -Not -Match $canary
            "$seen" | Should -Not -Match 'pscontainers'
            $seen | Should -Contain '/sys/fs/cgroup/memory' -Because 'the container''s own directory is there'
        }
        finally { & rmdir "/sys/fs/cgroup/memory/$canary" "/sys/fs/cgroup/pids/$canary" }
    }

    It 'refuses a hostile root in the container that raises its own limit, makes a sub-cgroup or moves itself' {
        $attack = 'echo 999999999999 > /sys/fs/cgroup/memory/memory.limit_in_bytes; echo max > /sys/fs/cgroup/pids/pids.max; ' +
            'mkdir /sys/fs/cgroup/memory/escape; echo $$ > /sys/fs/cgroup/memory/cgroup.procs; touch /sys/fs/cgroup/x; ' +
            'mount -o remount,rw /sys/fs/cgroup/memory; echo 999999999999 > /sys/fs/cgroup/memory/memory.limit_in_bytes && echo RAISED; ' +
            'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; sleep 600'
        $c = New-Container busybox -Memory 64MB -PidsLimit 50 -Command sh, -c, "{ $attack; } 2>&1" | Start-Container -PassThru
        try {
            $deadline = (Get-Date).AddSeconds(30)
            while (((Get-ContainerLog $c.Name).Text -notcontains '67108864') -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 200 }
            $log = @((Get-ContainerLog $c.Name).Text)
            $log | Should -Not -Contain 'RAISED'
            @($log -match 'Read-only file system').Count | Should -BeGreaterOrEqual 5 -Because "$log"
            # Checked from the host: the limits are the ones given, and no cgroup was made under the container's.
            $hostDir = "/sys/fs/cgroup/memory/pscontainers/$($c.Id)"
            Get-Content "$hostDir/memory.limit_in_bytes" | Should -Be '67108864'
            Get-Content "/sys/fs/cgroup/pids/pscontainers/$($c.Id)/pids.max" | Should -Be '50'
            Test-Path "$hostDir/escape" | Should -BeFalse
        }
        finally { Remove-Container $c.Name -Force }
    }

    It 'shows the same cgroup files and /proc/self/cgroup as crun running the same bundle' {
        $probe = 'cat /proc/self/cgroup | busybox sort; ls /sys/fs/cgroup/memory | busybox grep -c "^memory\."; cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
        $c = New-Container busybox -Memory 64MB -Command sh, -c, $probe
        $ours = @((Start-Container $c.Name -Wait | Get-ContainerLog).Text)
        $theirs = @(Invoke-BundleUnderCrun (Join-Path $env:PSCONTAINERS_DATA_DIR "containers/$($c.Id)"))
        $LASTEXITCODE | Should -Be 0 -Because "$theirs"
        Remove-Container $c.Name
        $ours[-1] | Should -Be '67108864'
        $theirs | Should -Be $ours
    }

    It 'shows a rootless container (no cgroup of its own on v1, no delegation) an empty read-only /sys/fs/cgroup, not the host''s tree' {
        $out = @(Invoke-AsTestUser -Script @'
Invoke-ContainerImage -Image busybox -Remove -Command sh, -c, 'cat /proc/self/cgroup; echo entries=$(ls -A /sys/fs/cgroup | busybox wc -l); touch /sys/fs/cgroup/x 2>&1; exit 0'
'@)
        $out | Should -Contain 'entries=0' -Because "$out"
        "$out" | Should -Match 'Read-only file system'
        @($out -match '^\d+:').Count | Should -BeGreaterThan 3
        foreach ($line in $out -match '^\d+:') { $line | Should -Match ':/$' }
    }

    It 'lets .NET inside the container read the limits (GC memory, processor count)' {
        # PowerShell itself as the .NET program: the host's runtime and libraries, read-only, in a busybox root.
        $pwshDll = Get-TestPwshForUsers
        $volumes = '/usr/share/dotnet:/usr/share/dotnet:ro', "$(Split-Path $pwshDll):/pwsh:ro", '/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro', '/usr/lib64:/lib64:ro'
        $code = '[GC]::GetGCMemoryInfo().TotalAvailableMemoryBytes; [Environment]::ProcessorCount'
        $out = Invoke-ContainerImage busybox -Remove -Memory 512MB -Cpus 1 -Volume $volumes -Environment @{ DOTNET_SYSTEM_GLOBALIZATION_INVARIANT = '1' } `
            -Command /usr/share/dotnet/dotnet, /pwsh/pwsh.dll, -NoProfile, -NonInteractive, -Command, $code 2>&1 | ForEach-Object { "$_" }
        $LASTEXITCODE | Should -Be 0 -Because "$out"
        # In a memory-limited cgroup the GC's heap limit defaults to 75 % of it: 0.75 * 512 MiB.
        $out | Should -Be @('402653184', '1')
    } -Skip:(-not (Test-Path /usr/share/dotnet/dotnet))

    It 'lets OpenJDK inside the container size its heap for -Memory (cgroup v1 metrics, a quarter of 512 MB)' -Skip:(-not $hasJava) {
        # No JRE image here: the host's JRE and its libraries, read-only, in a busybox root.
        $volumes = '/usr/lib/jvm:/usr/lib/jvm:ro', '/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro', '/usr/lib64:/lib64:ro',
            '/etc/java-17-openjdk:/etc/java-17-openjdk:ro'
        $java = '/usr/lib/jvm/java-17-openjdk-amd64/bin/java'
        $out = Invoke-ContainerImage busybox -Remove -Memory 512MB -Volume $volumes -Command $java, '-XX:+PrintFlagsFinal', '-XshowSettings:system', '-version' 2>&1 |
            ForEach-Object { "$_" }
        $LASTEXITCODE | Should -Be 0 -Because "$out"
        ($out -match '^\s*size_t MaxHeapSize\s') | Should -Match '= 134217728\b'
        $out | Should -Contain '    Provider: cgroupv1'
        $out | Should -Contain '    Memory Limit: 512.00M'
    }
}
