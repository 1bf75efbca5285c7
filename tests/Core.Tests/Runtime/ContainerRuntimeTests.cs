using System.Text.Json;
using Containers.Core.Cgroups;
using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Runtime;

/// <summary>Records, bundle generation and state resolution, without starting processes (no root needed).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ContainerRuntimeTests : IDisposable
{
    private sealed class FakeImages(RuntimeImage image) : IImageSource
    {
        public RuntimeImage Resolve(string reference) => reference == "test" || reference == image.Id
            ? image
            : throw new ContainersException("ImageNotFound", ErrorKind.NotFound, "no image " + reference, reference);
    }

    private readonly string _root = Directory.CreateTempSubdirectory("rt-tests-").FullName;
    private readonly ContainerRuntime _runtime;
    private readonly ContainerPaths _paths;

    public ContainerRuntimeTests()
    {
        string layer = Path.Combine(_root, "layer");
        Directory.CreateDirectory(Path.Combine(layer, "etc"));
        File.WriteAllText(Path.Combine(layer, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
        File.WriteAllText(Path.Combine(layer, "etc/group"), "root:x:0:\napp:x:1000:\nstaff:x:50:app\n");
        var config = new ContainerConfig
        {
            Env = ["PATH=/bin", "LANG=C"], Entrypoint = ["/entry"], Cmd = ["default-arg"], WorkingDir = "/srv", StopSignal = "SIGQUIT",
        };
        var image = new RuntimeImage(new string('a', 64), "localhost/test:latest", config, [layer]);
        _paths = TestPaths.Under(_root);
        _runtime = new ContainerRuntime(_paths, new FakeImages(image), new NoCgroupManager("tests"), "/nonexistent/init");
    }

    public void Dispose()
    {
        // A removal deletes the container's directory in the background: let it end before the root goes.
        ContainerTrash.WaitForDeletions(TimeSpan.FromSeconds(10));
        Directory.Delete(_root, recursive: true);
    }

    private Task<Container> Create(Action<ContainerCreateOptions>? edit = null)
    {
        var o = new ContainerCreateOptions { Image = "test" };
        edit?.Invoke(o);
        return _runtime.CreateAsync(o, CancellationToken.None);
    }

    private RuntimeSpec Spec(Container c) =>
        JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(_runtime.Store.BundleDir(c.Id), "config.json")), PlanJsonContext.Default.RuntimeSpec)!;

    [Fact]
    public async Task TheSeccompFilterFollowsTheContainersCapabilities()
    {
        var admin = Spec(await Create(o => o.CapAdd = ["SYS_ADMIN"]));
        Assert.DoesNotContain(admin.Linux!.Seccomp!.Syscalls!, s => s.Names.Contains("clone3"));
        Assert.Contains(admin.Linux.Seccomp.Syscalls!, s => s.Names.Contains("ioctl"));
    }

    [Fact]
    public async Task CreateWritesARecordWithAGeneratedNameAndA64HexId()
    {
        var c = await Create();
        Assert.True(NameGenerator.IsFullId(c.Id));
        Assert.Matches("^[a-z]+_[a-z]+$", c.Name);
        Assert.Equal(ContainerState.Created, c.State);
        Assert.True(File.Exists(_runtime.Store.RecordPath(c.Id)));
        Assert.Equal(["/entry", "default-arg"], c.Command);
        Assert.Equal(c.Id, _runtime.Get(c.Name).Id);
        Assert.Equal(c.Id, _runtime.Get(c.Id[..7]).Id);
    }

    [Fact]
    public async Task ConfigJsonMergesImageConfigAndOptions()
    {
        var c = await Create(o =>
        {
            o.Name = "web";
            o.Command = ["x", "y"];
            o.Env = new Dictionary<string, string?> { ["LANG"] = null, ["FOO"] = "bar" };
            o.User = "app";
            o.Hostname = "h";
            o.Labels = new Dictionary<string, string> { ["tier"] = "front" };
            o.ReadOnlyRootfs = true;
            o.CapAdd = ["net_admin"];
            o.CapDrop = ["CAP_KILL"];
            o.MemoryBytes = 64L << 20;
            o.PidsLimit = 10;
        });
        var spec = Spec(c);
        Assert.Equal(["/entry", "x", "y"], spec.Process!.Args);
        Assert.Contains("PATH=/bin", spec.Process.Env!);
        Assert.Contains("FOO=bar", spec.Process.Env!);
        Assert.DoesNotContain(spec.Process.Env!, e => e.StartsWith("LANG=", StringComparison.Ordinal));
        Assert.Contains("HOME=/home/app", spec.Process.Env!);
        Assert.Equal("/srv", spec.Process.Cwd);
        Assert.Equal(1000u, spec.Process.User.Uid);
        Assert.Equal(1000u, spec.Process.User.Gid);
        Assert.Equal([50u], spec.Process.User.AdditionalGids!);
        // A non-root user keeps the bounding set but no effective capabilities.
        Assert.Contains("CAP_NET_ADMIN", spec.Process.Capabilities!.Bounding!);
        Assert.DoesNotContain("CAP_KILL", spec.Process.Capabilities.Bounding!);
        Assert.Empty(spec.Process.Capabilities.Effective!);
        Assert.True(spec.Process.NoNewPrivileges);
        Assert.All(spec.Process.Rlimits!, r => Assert.True(r.Hard <= BundleBuilder.OpenFilesHardLimit()));
        Assert.Equal("h", spec.Hostname);
        Assert.True(spec.Root!.Readonly);
        Assert.Equal("front", spec.Annotations!["tier"]);
        Assert.Equal("web", spec.Annotations["io.pscontainers.name"]);
        Assert.Equal(64L << 20, spec.Linux!.Resources!.Memory!.Limit);
        Assert.Equal(10, spec.Linux.Resources.Pids!.Limit);
        Assert.Equal(["pid", "mount", "ipc", "uts", "cgroup", "network"], spec.Linux.Namespaces!.Select(n => n.Type));
        Assert.Null(spec.Linux.UidMappings);
        Assert.Contains("/proc/kcore", spec.Linux.MaskedPaths!);
        Assert.Contains(spec.Linux.Seccomp!.Syscalls!, s => s.Names.Contains("mount"));
        // Without CAP_SYS_ADMIN the filter refuses clone3 (and namespace flags on clone).
        Assert.Contains(spec.Linux.Seccomp.Syscalls!, s => s.Names.Contains("clone3"));
        Assert.Contains(spec.Mounts!, m => m.Destination == "/etc/hosts" && m.Source == Path.Combine(_runtime.Store.Dir(c.Id), "hosts"));
        Assert.Equal(10, c.Resources.PidsLimit);
        var record = _runtime.Store.TryRead(c.Id)!;
        Assert.Equal(3, record.StopSignal);
    }

    [Fact]
    public async Task EntrypointOverrideDropsTheImageCmd()
    {
        var c = await Create(o => o.Entrypoint = ["/bin/other"]);
        Assert.Equal(["/bin/other"], c.Command);
    }

    [Fact]
    public async Task HostNetworkSharesTheNetnsAndBindsMountsInOrder()
    {
        string src = Directory.CreateDirectory(Path.Combine(_root, "src")).FullName;
        string secret = Path.Combine(_root, "token");
        File.WriteAllText(secret, "s3cret");
        var c = await Create(o =>
        {
            o.Network = "host";
            o.Volumes = [src + ":/data:ro"];
            o.Tmpfs = ["/scratch:size=1m"];
            o.Secrets = [secret];
            o.NoHosts = true;
        });
        var spec = Spec(c);
        Assert.DoesNotContain(spec.Linux!.Namespaces!, n => n.Type == "network");
        Assert.DoesNotContain(spec.Mounts!, m => m.Destination == "/etc/hosts");
        var data = spec.Mounts!.Single(m => m.Destination == "/data");
        Assert.Equal(src, data.Source);
        Assert.Contains("ro", data.Options!);
        Assert.Contains("size=1m", spec.Mounts!.Single(m => m.Destination == "/scratch").Options!);
        var s = spec.Mounts!.Single(m => m.Destination == "/run/secrets/token");
        Assert.Contains("ro", s.Options!);
    }

    [Theory]
    [InlineData("UserNotFound")]
    [InlineData("BindSourceNotFound")]
    [InlineData("ImageNotFound")]
    [InlineData("InvalidMemoryLimit")]
    [InlineData("UnknownCapability")]
    [InlineData("InvalidNetworkMode")]
    [InlineData("InvalidAddHost")]
    public async Task BadInputIsRefusedWithATypedErrorAndLeavesNothing(string errorId)
    {
        var e = await Assert.ThrowsAsync<ContainersException>(() => Create(o =>
        {
            switch (errorId)
            {
                case "UserNotFound": o.User = "ghost"; break;
                case "BindSourceNotFound": o.Volumes = ["/no/such/path:/x"]; break;
                case "ImageNotFound": o.Image = "missing"; break;
                case "InvalidMemoryLimit": o.MemoryBytes = 100; break;
                case "UnknownCapability": o.CapAdd = ["CAP_FLY"]; break;
                case "InvalidNetworkMode": o.Network = "host,none"; break; // "bridge" is a CNI network name now
                case "InvalidAddHost": o.AddHost = ["nocolon"]; break;
            }
        }));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Empty(_runtime.Store.List());
        Assert.False(Directory.Exists(_paths.ContainersDir) && Directory.EnumerateDirectories(_paths.ContainersDir).Any());
    }

    [Fact]
    public async Task ANameInUseIsRefused()
    {
        await Create(o => o.Name = "dup");
        var e = await Assert.ThrowsAsync<ContainersException>(() => Create(o => o.Name = "dup"));
        Assert.Equal("ContainerNameInUse", e.ErrorId);
        Assert.Single(_runtime.Store.List());
    }

    [Fact]
    public async Task StateWithoutAStateFileIsCreatedAndStaleStatesAreExited()
    {
        var c = await Create();
        Assert.Equal(ContainerState.Created, _runtime.Get(c.Id).State);

        // Running, but the pid does not exist and no monitor: exited, with the reason.
        _runtime.Store.WriteState(new ContainerRuntimeState { ContainerId = c.Id, Status = ContainerStatus.Running, Pid = int.MaxValue - 1, MonitorPid = int.MaxValue - 2, BootId = Native.Processes.BootId() });
        var gone = _runtime.Get(c.Id);
        Assert.Equal(ContainerState.Exited, gone.State);
        Assert.Contains("monitor", gone.Error);

        // A live pid (this process) with its start time: running.
        int self = Environment.ProcessId;
        _runtime.Store.WriteState(new ContainerRuntimeState { ContainerId = c.Id, Status = ContainerStatus.Running, Pid = self, PidStartTime = Native.Processes.StartTime(self)!.Value, BootId = Native.Processes.BootId() });
        Assert.Equal(ContainerState.Running, _runtime.Get(c.Id).State);

        // The same pid with another start time is a reused pid: exited.
        _runtime.Store.WriteState(new ContainerRuntimeState { ContainerId = c.Id, Status = ContainerStatus.Running, Pid = self, PidStartTime = 1, BootId = Native.Processes.BootId() });
        Assert.Equal(ContainerState.Exited, _runtime.Get(c.Id).State);

        // Written before a reboot: exited, whatever the pid.
        _runtime.Store.WriteState(new ContainerRuntimeState { ContainerId = c.Id, Status = ContainerStatus.Running, Pid = self, BootId = "another-boot" });
        var stale = _runtime.Get(c.Id);
        Assert.Equal(ContainerState.Exited, stale.State);
        Assert.Contains("rebooted", stale.Error);

        _runtime.Store.WriteState(new ContainerRuntimeState { ContainerId = c.Id, Status = ContainerStatus.Stopped, ExitCode = 3, FinishedAt = DateTimeOffset.UtcNow });
        Assert.Equal(3, _runtime.Get(c.Id).ExitCode);
    }

    [Fact]
    public async Task RemoveDeletesTheDirectoryAndStartWithoutInitIsATypedError()
    {
        var c = await Create();
        var e = await Assert.ThrowsAsync<ContainersException>(() => _runtime.StartAsync(c.Name, CancellationToken.None));
        Assert.Equal("InitNotFound", e.ErrorId);
        await _runtime.RemoveAsync(c.Name, force: false, CancellationToken.None);
        Assert.False(Directory.Exists(_runtime.Store.Dir(c.Id)));
        Assert.Equal("ContainerNotFound", Assert.Throws<ContainersException>(() => _runtime.Get(c.Name)).ErrorId);
    }

    [Fact]
    public async Task ContainersUsingAnImageAreReportedToTheStore()
    {
        var c = await Create(o => o.Name = "user1");
        var users = new ContainerImageUsers(_runtime.Store);
        Assert.Equal(["user1"], users.ContainersUsing(new string('a', 64)));
        Assert.Equal(["user1"], users.ContainersUsing("sha256:" + new string('a', 64)));
        Assert.Empty(users.ContainersUsing(new string('b', 64)));
    }
    /// <summary>Making the cgroups cannot be made to fail for root on a real host: a cgroup manager that refuses stands in
    /// for it. The monitor was given its command before (it prepares while the cgroups are made), so it must go too.</summary>
    [Fact]
    public async Task FakeCgroupsThatCannotBeMadeEndTheMonitorTheStartHadBegunAndLeaveNoState()
    {
        var (runtime, pidFile) = FakeMonitor("true", cgroups: new RefusingCgroups());
        runtime.HandshakeTimeout = TimeSpan.FromSeconds(30);
        var c = await runtime.CreateAsync(new ContainerCreateOptions { Image = "test", Command = ["/bin/true"] }, CancellationToken.None);
        var e = await Assert.ThrowsAsync<ContainersException>(() => runtime.StartAsync(c.Name, CancellationToken.None));
        Assert.Equal("CgroupCreateFailed", e.ErrorId);
        for (int i = 0; i < 200 && (!File.Exists(pidFile) || File.ReadAllLines(pidFile).Length < 2); i++) await Task.Delay(25);
        foreach (int pid in File.ReadAllLines(pidFile).Select(int.Parse)) Assert.False(Alive(pid), $"pid {pid} of the abandoned monitor is still alive");
        Assert.False(File.Exists(runtime.Store.StatePath(c.Id)));
        Assert.Equal(ContainerState.Created, runtime.Get(c.Id).State);
    }

    private sealed class RefusingCgroups : ICgroupManager
    {
        public string Version => "v2";
        public bool Enabled => true;
        public IReadOnlyList<string> Create(string containerId, LinuxResources? resources) =>
            throw new ContainersException("CgroupCreateFailed", ErrorKind.ResourceUnavailable, "refused (test)", containerId);
        public bool Exists(string containerId) => false;
        public IReadOnlySet<string> ListContainerIds() => new HashSet<string>();
        public IReadOnlyList<string> ProcsFiles(string containerId) => [$"/nonexistent/pscontainers/{containerId}/cgroup.procs"];
        public IReadOnlyList<int> ListPids(string containerId) => [];
        public CgroupStats ReadStats(string containerId) => new();
        public void Freeze(string containerId) { }
        public void Thaw(string containerId) { }
        public bool IsFrozen(string containerId) => false;
        public long OomKillCount(string containerId) => 0;
        public void Remove(string containerId) { }
        public void RemoveParentIfEmpty() { }
    }

    /// <summary>A stand-in monitor: a shell script that records its pid, runs <paramref name="first"/>, starts a child (its pid
    /// recorded too) and waits for it, never writing a handshake.</summary>
    private (ContainerRuntime Runtime, string PidFile) FakeMonitor(string first, bool handshakeOnCaller = false, ICgroupManager? cgroups = null)
    {
        string pidFile = Path.Combine(_root, "pids-" + Guid.NewGuid().ToString("N")[..6]);
        string script = Path.Combine(_root, "fake-init-" + Guid.NewGuid().ToString("N")[..6]);
        File.WriteAllText(script, $"#!/bin/sh\necho $$ >> '{pidFile}'\n{first}\nsleep 300 &\necho $! >> '{pidFile}'\nwait\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var runtime = new ContainerRuntime(_paths, new FakeImages(new RuntimeImage(new string('a', 64), "localhost/test:latest", new ContainerConfig(), [Path.Combine(_root, "layer")])),
            cgroups ?? new NoCgroupManager("tests"), script)
        { HandshakeTimeout = TimeSpan.FromMilliseconds(500), HandshakeOnCaller = handshakeOnCaller };
        return (runtime, pidFile);
    }

    private static bool Alive(int pid)
    {
        // A killed grandchild is reparented to the host's init, which may reap it late: a zombie is not alive. On a busy
        // host a SIGKILLed process may not have run its exit yet: give it up to 10 s (the child sleeps 300 s when missed).
        for (int i = 0; i < 200 && AliveNow(pid); i++) Thread.Sleep(50);
        return AliveNow(pid);
    }

    private static bool AliveNow(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1][0] != 'Z'; }
        catch (IOException) { return false; }
    }

    [Theory]
    [InlineData("true", "InitTimeout")]                // hangs before its handshake
    [InlineData("exec >/dev/null 2>&1", "InitFailed")] // closes its stdout without a handshake and lingers
    public async Task AMonitorThatFailsItsHandshakeIsKilledWithItsChildAndLeavesNoState(string first, string errorId)
    {
        var (runtime, pidFile) = FakeMonitor(first);
        var c = await runtime.CreateAsync(new ContainerCreateOptions { Image = "test", Command = ["/bin/true"] }, CancellationToken.None);
        var e = await Assert.ThrowsAsync<ContainersException>(() => runtime.StartAsync(c.Name, CancellationToken.None));
        Assert.Equal(errorId, e.ErrorId);
        var pids = File.ReadAllLines(pidFile).Select(int.Parse).ToList();
        Assert.Equal(2, pids.Count);
        foreach (int pid in pids) Assert.False(Alive(pid), $"pid {pid} of the failed monitor is still alive");
        Assert.False(File.Exists(runtime.Store.StatePath(c.Id)));
        Assert.Equal(ContainerState.Created, runtime.Get(c.Id).State);
        await runtime.RemoveAsync(c.Name, force: false, CancellationToken.None);
        Assert.False(Directory.Exists(runtime.Store.Dir(c.Id)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the cmdlets' way: the handshake is read on the calling thread, which the start blocks
    public async Task AStartCancelledBeforeTheHandshakeKillsTheMonitor(bool handshakeOnCaller)
    {
        var (runtime, pidFile) = FakeMonitor("true", handshakeOnCaller);
        runtime.HandshakeTimeout = TimeSpan.FromSeconds(30);
        var c = await runtime.CreateAsync(new ContainerCreateOptions { Image = "test", Command = ["/bin/true"] }, CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var start = handshakeOnCaller ? Task.Run(() => runtime.StartAsync(c.Name, cts.Token)) : runtime.StartAsync(c.Name, cts.Token);
        for (int i = 0; i < 200 && (!File.Exists(pidFile) || File.ReadAllLines(pidFile).Length < 2); i++) await Task.Delay(25);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start);
        var pids = File.ReadAllLines(pidFile).Select(int.Parse).ToList();
        Assert.Equal(2, pids.Count);
        foreach (int pid in pids) Assert.False(Alive(pid), $"pid {pid} of the cancelled monitor is still alive");
        Assert.Equal(ContainerState.Created, runtime.Get(c.Id).State);
    }
}
