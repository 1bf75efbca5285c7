using System.Diagnostics;
using System.Text.Json;
using Containers.Core.Cgroups;
using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// The container lifecycle, one verb per part: create (<see cref="ContainerCreator"/>), start
/// (<see cref="ContainerStarter"/>), inspect and wait (<see cref="ContainerStateResolver"/>), stop
/// (<see cref="ContainerStopper"/>), remove (<see cref="ContainerRemover"/>), exec (<see cref="ExecPlanner"/>); every
/// <c>pscontainers-init</c> process is started by <see cref="InitLauncher"/>. No daemon: every call reads the records and
/// Init's state files afresh, so any session sees containers that another (possibly finished) session started.
/// </summary>
internal sealed partial class ContainerRuntime
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerRuntime>();
    private readonly ContainerPaths _paths;
    private readonly IImageSource? _images;
    private readonly IdMapSource _idMaps;
    private readonly ContainerStateResolver _resolver;
    private readonly ContainerStopper _stopper;

    public ContainerRuntime(ContainerPaths paths, IImageSource? images = null, ICgroupManager? cgroups = null, string? initPath = null, IdMapSource? idMaps = null)
    {
        _paths = paths;
        _images = images;
        Store = new ContainerStore(paths);
        var detected = cgroups ?? CgroupDetector.Detect(rootless: paths.Rootless);
        Cgroups = detected.Enabled ? new PodCgroups(detected, Store) : detected;
        Launcher = new InitLauncher(initPath ?? InitBinary.Path);
        _idMaps = idMaps ?? new IdMapSource();
        Networking = new ContainerNetworking(Store, paths);
        _resolver = new ContainerStateResolver(Store, Cgroups) { Networking = Networking };
        _stopper = new ContainerStopper(Store, Cgroups, _resolver, Networking);
    }

    public ContainerStore Store { get; }
    public ICgroupManager Cgroups { get; }
    public InitLauncher Launcher { get; }
    internal ContainerNetworking Networking { get; }
    internal ContainerPaths Paths => _paths;
    /// <summary>The user's id maps (rootless), for work done in a user namespace outside any container.</summary>
    internal IdMapSource IdMaps => _idMaps;

    /// <summary>The pods containers can join (-Pod); set by whoever composes the services (the cmdlets' context).</summary>
    internal IPodDirectory? Pods { get; set; }

    /// <summary>Start reads the monitor's handshake on the calling thread instead of the thread pool (the cmdlets: their start
    /// runs on the pipeline thread, which has nothing else to do meanwhile, and Ctrl+C still reaches the read). A thread-pool
    /// hop per start woke a worker that then spun for more work, CPU taken from the container's monitor on 2 cores.</summary>
    internal bool HandshakeOnCaller { get; init; }

    /// <summary>How long Start waits for Init's handshake.</summary>
    public TimeSpan HandshakeTimeout { get => Launcher.HandshakeTimeout; set => Launcher.HandshakeTimeout = value; }

    // ---- create -------------------------------------------------------------------------------

    public Task<Container> CreateAsync(ContainerCreateOptions options, CancellationToken ct) => CreateAsync(options, options.Image, ct);

    /// <summary>Creates from the image <paramref name="imageReference"/> names (an id, for a rollback) while the record
    /// keeps <see cref="ContainerCreateOptions.Image"/> as its image name.</summary>
    internal async Task<Container> CreateAsync(ContainerCreateOptions options, string imageReference, CancellationToken ct)
    {
        if (_images is null) throw new InvalidOperationException("No image source was given to the runtime.");
        var image = _images.Resolve(imageReference);
        var creator = new ContainerCreator(Store, _paths, _idMaps, Networking);
        if (options.Pod is not { Length: > 0 } pod || options.PodInfra is not null)
            return Inspect(await creator.CreateAsync(options, image, ct).ConfigureAwait(false));
        var pods = Pods ?? throw new InvalidOperationException("No pod directory was given to the runtime.");
        using var podLock = await pods.LockAsync(ct).ConfigureAwait(false);
        return Inspect(await creator.CreateAsync(options, image, pods.Resolve(pod), ct).ConfigureAwait(false));
    }

    /// <summary>Creates from an image that is not in the image store (a pod's infra: an empty layer, no command).</summary>
    internal Task<ContainerRecord> CreateFromAsync(ContainerCreateOptions options, RuntimeImage image, CancellationToken ct) =>
        new ContainerCreator(Store, _paths, _idMaps, Networking).CreateAsync(options, image, ct);

    // ---- inspect ------------------------------------------------------------------------------

    /// <summary>All containers, optionally filtered by name/id patterns (wildcards allowed).</summary>
    public List<Container> List()
    {
        var records = Store.List();
        var list = new Container[records.Count];
        // Exited containers not yet seen without leftover cgroups are checked against one listing of each hierarchy.
        var cgroupIds = new Lazy<IReadOnlySet<string>>(Cgroups.ListContainerIds, LazyThreadSafetyMode.ExecutionAndPublication);
        // Each container's state is read and resolved on its own (state.json, /proc for running ones); the state files are
        // stat'ed relative to one descriptor of the store (the path walk was a third of a warm listing of 10,000).
        using var root = Store.OpenRoot();
        int fd = root is null ? -1 : (int)root.DangerousGetHandle();
        if (records.Count < 32) for (int i = 0; i < records.Count; i++) list[i] = _resolver.Inspect(records[i], cgroupIds, fd);
        else Parallel.For(0, records.Count, i => list[i] = _resolver.Inspect(records[i], cgroupIds, fd));
        return list.OrderByDescending(c => c.Created).ToList();
    }

    public Container Get(string nameOrId) => Inspect(Store.Get(nameOrId));

    public Container Inspect(ContainerRecord r) => _resolver.Inspect(r);

    // ---- start --------------------------------------------------------------------------------

    /// <summary>
    /// Starts the container. With <paramref name="attach"/>, the container shares this process's stdin,
    /// stdout and stderr (and terminal) and the call returns when it exits; otherwise it runs detached
    /// under its monitor, logging to its log file, and the call returns once the command was exec'd.
    /// </summary>
    public async Task<Container> StartAsync(string nameOrId, CancellationToken ct, bool attach = false)
    {
        var r = Store.Get(nameOrId);
        // A container of a pod needs the pod's namespaces: its infra runs first (podman starts it too).
        if (Store.InfraOf(r) is { } infra && !Inspect(infra).State.IsActive())
            await StartAsync(infra.Id, ct).ConfigureAwait(false);
        using var lk = await Store.LockContainerAsync(r.Id, ct).ConfigureAwait(false);
        return await new ContainerStarter(Store, Cgroups, _resolver, Launcher, Networking, _paths) { HandshakeOnCaller = HandshakeOnCaller }
            .StartAsync(r, attach, ct).ConfigureAwait(false);
    }

    // ---- stop / wait --------------------------------------------------------------------------

    public async Task<Container> StopAsync(string nameOrId, TimeSpan timeout, CancellationToken ct)
    {
        var r = Store.Get(nameOrId);
        using var lk = await Store.LockContainerAsync(r.Id, ct).ConfigureAwait(false);
        return await _stopper.StopAsync(r, timeout, ct).ConfigureAwait(false);
    }

    /// <summary>Waits until the container is no longer running; returns it (ExitCode set). Throws WaitTimeout.</summary>
    public async Task<Container> WaitAsync(string nameOrId, TimeSpan? timeout, CancellationToken ct)
    {
        var r = Store.Get(nameOrId);
        var c = await _resolver.WaitForExitAsync(r, timeout ?? Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
        if (c.State.IsActive())
            throw new ContainersException("WaitTimeout", ErrorKind.Timeout, $"Container {c} was still running after {timeout?.TotalSeconds} s.", c.Name);
        return c;
    }

    // ---- pause / resume -----------------------------------------------------------------------

    public Container Pause(string nameOrId)
    {
        var r = Store.Get(nameOrId);
        var c = Inspect(r);
        if (c.State != ContainerState.Running)
            throw new ContainersException("ContainerNotRunning", ErrorKind.InvalidState, $"Container {c} is {c.State.ToString().ToLowerInvariant()}, not running.", c.Name);
        Cgroups.Freeze(r.Id);
        Log.Information("Paused container {Name}", r.Name);
        return Inspect(r);
    }

    public Container Resume(string nameOrId)
    {
        var r = Store.Get(nameOrId);
        var c = Inspect(r);
        if (c.State != ContainerState.Paused)
            throw new ContainersException("ContainerNotPaused", ErrorKind.InvalidState, $"Container {c} is {c.State.ToString().ToLowerInvariant()}, not paused.", c.Name);
        Cgroups.Thaw(r.Id);
        Log.Information("Resumed container {Name}", r.Name);
        return Inspect(r);
    }

    // ---- remove -------------------------------------------------------------------------------

    public async Task RemoveAsync(string nameOrId, bool force, CancellationToken ct)
    {
        var r = Store.Get(nameOrId);
        if (r.PodInfra)
            throw new ContainersException("PodInfraContainer", ErrorKind.InvalidState, $"Container {r.Name} is the infra container of pod '{r.PodName}': it goes with its pod.",
                r.Name, $"Remove the pod with Remove-ContainerPod {r.PodName}.");
        await RemoveRecordAsync(r, force, ct).ConfigureAwait(false);
    }

    /// <summary>Removes a container whatever it is (Remove-ContainerPod removes its infra this way).</summary>
    internal Task RemoveRecordAsync(ContainerRecord r, bool force, CancellationToken ct) =>
        new ContainerRemover(Store, Cgroups, _resolver, _stopper, Launcher).RemoveAsync(r, force, ct);

    /// <summary>Deletes a tree in a new user namespace with the given maps (see <see cref="InitLauncher.RemoveTreeInUserNamespace"/>).</summary>
    public void RemoveTreeInUserNamespace(string dir, IReadOnlyList<LinuxIdMapping> uids, IReadOnlyList<LinuxIdMapping> gids) =>
        Launcher.RemoveTreeInUserNamespace(dir, uids, gids);

    // ---- exec ---------------------------------------------------------------------------------

    /// <summary>
    /// Runs a process inside a running container through <c>pscontainers-init exec</c>, which joins the
    /// container's cgroup and namespaces and applies its capabilities, no_new_privs and seccomp profile.
    /// Output lines go to the callbacks as they come; returns the exit code (127 command not found).
    /// </summary>
    public async Task<int> ExecAsync(string nameOrId, ExecOptions options, Action<string>? stdout, Action<string>? stderr, CancellationToken ct)
    {
        var r = Store.Get(nameOrId);
        var c = Inspect(r);
        if (c.State != ContainerState.Running)
            throw new ContainersException("ContainerNotRunning", ErrorKind.InvalidState, $"Container {c} is {c.State.ToString().ToLowerInvariant()}, not running.", c.Name);
        Launcher.EnsureExists();
        var spec = Store.ReadSpec(r.Id) ?? throw new ContainersException("BundleMissing", ErrorKind.InvalidData, $"The bundle of {c} is unreadable.", c.Name);
        var process = ExecPlanner.Plan(spec.Process, options, user => ImageUsers.ResolveInContainer(user, c.Pid, [.. r.LayerDirectories, Store.UpperDir(r.Id)], $"container {r.Name}"), c.Name);
        string processFile = Path.Combine(Store.Dir(r.Id), "exec-" + Guid.NewGuid().ToString("N")[..12] + ".json");
        ContainerStore.AtomicWrite(processFile, JsonSerializer.SerializeToUtf8Bytes(process, PlanJsonContext.Default.RuntimeProcess), durable: false);
        try
        {
            Log.Debug("Exec in {Name}: {Command}", r.Name, string.Join(' ', options.Command));
            Store.Event("exec", r, attributes: new() { ["command"] = string.Join(' ', options.Command) });
            return await Launcher.ExecAsync(Store.Dir(r.Id), processFile, options.Inherit, options.Tty, c.Name, stdout, stderr, options.Stdin, ct).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(processFile);
        }
    }

    // ---- stats / processes / logs -------------------------------------------------------------

    public async Task<ContainerStatistic> StatisticAsync(string nameOrId, CancellationToken ct)
    {
        var r = Store.Get(nameOrId);
        var first = Cgroups.ReadStats(r.Id);
        var sw = Stopwatch.StartNew();
        await Task.Delay(200, ct).ConfigureAwait(false);
        var s = Cgroups.ReadStats(r.Id);
        double? cpu = first.CpuUsageNanoseconds is { } a && s.CpuUsageNanoseconds is { } b && b >= a
            ? (b - a) / (sw.Elapsed.TotalMilliseconds * 1_000_000.0) * 100.0 : null;
        return new ContainerStatistic
        {
            Id = r.Id,
            Name = r.Name,
            CpuPercent = cpu is { } p ? Math.Round(p, 2) : null,
            CpuTime = s.CpuUsageNanoseconds is { } ns ? TimeSpan.FromTicks((long)(ns / 100)) : null,
            MemoryUsage = s.MemoryUsageBytes,
            MemoryLimit = s.MemoryLimitBytes,
            Pids = s.Pids,
            PidsLimit = s.PidsLimit,
            BlockRead = s.IoReadBytes,
            BlockWrite = s.IoWriteBytes,
            OomKills = s.OomKills,
        };
    }

    public List<ContainerProcess> ListProcesses(string nameOrId)
    {
        var r = Store.Get(nameOrId);
        var c = Inspect(r);
        if (!c.State.IsActive()) return [];
        IEnumerable<int> pids = Cgroups.Enabled && Cgroups.Exists(r.Id) ? Cgroups.ListPids(r.Id) : ContainerProcess.Descendants(c.Pid);
        var names = ImageUsers.NamesInContainer(c.Pid, "container " + r.Name);
        return pids.Select(p => ContainerProcess.Read(r.Name, p, names)).OfType<ContainerProcess>().OrderBy(p => p.Pid).ToList();
    }

    public List<ContainerLogEntry> Logs(string nameOrId, int? tail, DateTimeOffset? since)
    {
        var r = Store.Get(nameOrId);
        return ContainerLogReader.ReadAll(Store.LogPath(r.Id), tail, since).Select(e => e with { ContainerName = r.Name }).ToList();
    }

    /// <summary>Streams log lines as they are written until the container exits (or cancellation).</summary>
    public async Task FollowLogsAsync(string nameOrId, int? tail, DateTimeOffset? since, Action<ContainerLogEntry> write, CancellationToken ct)
    {
        var r = Store.Get(nameOrId);
        var reader = new ContainerLogReader(Store.LogPath(r.Id));
        var first = reader.ReadNew();
        if (since is { } s) first = first.Where(e => e.Timestamp >= s).ToList();
        if (tail is { } t && first.Count > t) first = first.GetRange(first.Count - t, t);
        foreach (var e in first) write(e with { ContainerName = r.Name });
        while (true)
        {
            var state = Inspect(r).State;
            bool running = (state.IsActive() || state == ContainerState.Created) && Store.ReadState(r.Id) is not null;
            var batch = reader.ReadNew(final: !running);
            foreach (var e in batch) write(e with { ContainerName = r.Name });
            if (!running) return;
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
    }
}
