using System.Diagnostics;
using System.Text.Json;
using Containers.Core.Cgroups;
using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Native;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// The container lifecycle: create, start (through <c>pscontainers-init run</c>), inspect, stop, wait,
/// pause/resume, remove. No daemon: every call reads the records and Init's state files afresh, so any
/// session sees containers that another (possibly finished) session started.
/// </summary>
public sealed class ContainerRuntime
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerRuntime>();
    private readonly ContainerPaths _paths;
    private readonly IImageSource? _images;
    private readonly IdMapSource _idMaps;

    public ContainerRuntime(ContainerPaths paths, IImageSource? images = null, ICgroupManager? cgroups = null, string? initPath = null, IdMapSource? idMaps = null)
    {
        _paths = paths;
        _images = images;
        Store = new ContainerStore(paths);
        Cgroups = cgroups ?? CgroupDetector.Detect(rootless: paths.Rootless);
        InitPath = initPath ?? InitBinary.Path;
        _idMaps = idMaps ?? new IdMapSource();
    }

    public ContainerStore Store { get; }
    public ICgroupManager Cgroups { get; }
    public string InitPath { get; }

    /// <summary>How long Start waits for Init's handshake.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(15);

    // ---- create -------------------------------------------------------------------------------

    public async Task<Container> CreateAsync(ContainerCreateOptions options, CancellationToken ct)
    {
        if (_images is null) throw new InvalidOperationException("No image source was given to the runtime.");
        var image = _images.Resolve(options.Image);
        var record = await new ContainerCreator(Store, _paths, _idMaps).CreateAsync(options, image, ct).ConfigureAwait(false);
        return Inspect(record);
    }

    private static bool HasLimits(ContainerCreateOptions o) =>
        o.MemoryBytes is not null || o.Cpus is not null || o.CpuQuota is not null || o.CpuShares is not null || o.PidsLimit is not null;

    // ---- inspect ------------------------------------------------------------------------------

    /// <summary>All containers, optionally filtered by name/id patterns (wildcards allowed).</summary>
    public List<Container> List()
    {
        var records = Store.List();
        var list = new Container[records.Count];
        // Each container's state is read and resolved on its own (state.json, /proc for running ones).
        if (records.Count < 32) for (int i = 0; i < records.Count; i++) list[i] = Inspect(records[i]);
        else Parallel.For(0, records.Count, i => list[i] = Inspect(records[i]));
        return list.OrderByDescending(c => c.Created).ToList();
    }

    public Container Get(string nameOrId) => Inspect(Store.Get(nameOrId));

    public Container Inspect(ContainerRecord r)
    {
        var s = Store.ReadState(r.Id);
        var (state, error) = Resolve(r, ref s);
        if (state == ContainerState.Exited && s is not null) new CgroupLifetime(Cgroups, Store).ReleaseLeftovers(r.Id, s);
        return new Container
        {
            Id = r.Id,
            Name = r.Name,
            Image = r.Image,
            ImageId = r.ImageId,
            State = state,
            Pid = state is ContainerState.Running or ContainerState.Paused ? s?.Pid ?? 0 : 0,
            MonitorPid = state is ContainerState.Running or ContainerState.Paused ? s?.MonitorPid ?? 0 : 0,
            ExitCode = state == ContainerState.Exited ? s?.ExitCode : null,
            Signal = state == ContainerState.Exited ? s?.Signal : null,
            OomKilled = s?.OomKilled ?? false,
            Error = error ?? s?.Error,
            Created = r.Created,
            StartedAt = s?.StartedAt,
            FinishedAt = state == ContainerState.Exited ? s?.FinishedAt : null,
            // Read-only views: the record may be the store's cached copy.
            Command = r.Command.AsReadOnly(),
            Rootless = r.Rootless,
            Tty = r.Tty,
            Resources = r.Resources,
            Mounts = r.Mounts.AsReadOnly(),
            Labels = r.Labels.AsReadOnly(),
            Network = r.Network,
            Hostname = r.Hostname,
            User = r.User,
        };
    }

    /// <summary>Turns Init's recorded state into the live state, detecting stale records (reboot, vanished pid, killed monitor).</summary>
    private (ContainerState, string?) Resolve(ContainerRecord r, ref ContainerRuntimeState? s)
    {
        if (s is null) return (ContainerState.Created, null);
        switch (s.Status)
        {
            case ContainerStatus.Stopped:
                return (ContainerState.Exited, null);
            case ContainerStatus.Created:
                return Processes.Exists(s.MonitorPid) && SameBoot(s) ? (ContainerState.Created, null) : (ContainerState.Exited, "The monitor ended before the container started.");
        }
        if (!SameBoot(s)) return (ContainerState.Exited, "The host rebooted since the container ran; its state is stale.");
        if (Alive(s)) return (Cgroups.IsFrozen(r.Id) ? ContainerState.Paused : ContainerState.Running, null);
        // The process is gone. A living monitor records the exit and then ends: wait (up to 200 ms) for its end on a
        // pidfd rather than polling the state file every 5 ms, which cost Start-Container -Wait of a short command up to
        // a slice per look (the start's own Inspect often comes right after /bin/true has exited).
        var waited = Stopwatch.StartNew();
        while (Processes.Exists(s.MonitorPid) && Processes.State(s.MonitorPid) != 'Z' && waited.ElapsedMilliseconds < 200)
        {
            bool? ended = Processes.WaitForExit(s.MonitorPid, (int)Math.Max(1, 200 - waited.ElapsedMilliseconds));
            var again = Store.ReadState(r.Id);
            if (again?.Status == ContainerStatus.Stopped) { s = again; return (ContainerState.Exited, null); }
            if (ended is null) Thread.Sleep(5); // no pidfd: look again in a moment
            else if (ended == true) break;
        }
        if (Store.ReadState(r.Id) is { Status: ContainerStatus.Stopped } last) { s = last; return (ContainerState.Exited, null); }
        return (ContainerState.Exited, "The container's monitor ended without recording its exit.");
    }

    private static bool SameBoot(ContainerRuntimeState s) => s.BootId is null || s.BootId == Processes.BootId();

    private static bool Alive(ContainerRuntimeState s)
    {
        if (s.Pid <= 0 || !Processes.Exists(s.Pid)) return false;
        if (Processes.State(s.Pid) is 'Z' or 'X' or null) return false;
        return s.PidStartTime == 0 || Processes.StartTime(s.Pid) == s.PidStartTime;
    }

    // ---- start --------------------------------------------------------------------------------

    /// <summary>
    /// Starts the container. With <paramref name="attach"/>, the container shares this process's stdin,
    /// stdout and stderr (and terminal) and the call returns when it exits; otherwise it runs detached
    /// under its monitor, logging to its log file, and the call returns once the command was exec'd.
    /// </summary>
    public async Task<Container> StartAsync(string nameOrId, CancellationToken ct, bool attach = false)
    {
        var r = Store.Get(nameOrId);
        using var lk = await Store.LockContainerAsync(r.Id, ct).ConfigureAwait(false);
        var c = Inspect(r);
        if (c.State is ContainerState.Running or ContainerState.Paused)
            throw new ContainersException("ContainerAlreadyRunning", ErrorKind.InvalidState, $"Container {c} is already running.", c.Name);
        if (!File.Exists(InitPath))
            throw new ContainersException("InitNotFound", ErrorKind.ResourceUnavailable,
                $"The container monitor '{InitPath}' is missing.", InitPath, "Reinstall the module.");

        CgroupLifetime.AwaitPreviousMonitor(Store.ReadState(r.Id));
        File.Delete(Store.StatePath(r.Id));
        IReadOnlyList<string> procs = [];
        if (Cgroups.Enabled)
        {
            Cgroups.Remove(r.Id);
            try { procs = Cgroups.Create(r.Id, BundleBuilder.ToLinux(r.Resources)); }
            catch (ContainersException e) when (r.Rootless)
            {
                Log.Warning("The container runs without a cgroup and without limits: {Reason}", e.Message);
            }
        }
        else if (BundleBuilder.ToLinux(r.Resources) is not null)
            Log.Warning("Container {Name} runs without resource limits: {Reason}", r.Name, (Cgroups as NoCgroupManager)?.Reason);

        var plan = new LaunchPlan
        {
            ContainerId = r.Id,
            BundleDir = Store.BundleDir(r.Id),
            StateDir = Store.Dir(r.Id),
            LogPath = Store.LogPath(r.Id),
            Rootfs = new RootfsLayers { LowerDirs = [.. r.LayerDirectories], UpperDir = Store.UpperDir(r.Id), WorkDir = Store.WorkDir(r.Id) },
            CgroupProcsFiles = [.. procs],
            Stdio = attach ? StdioMode.Inherit : StdioMode.Log,
        };
        if (r.Rootless && UsesRanges(r))
        {
            plan.NewUidMap = FindTool("newuidmap");
            plan.NewGidMap = FindTool("newgidmap");
        }
        // Not fsynced: the plan is rewritten by every start and read at once by the monitor we spawn.
        ContainerStore.AtomicWrite(Store.PlanPath(r.Id), JsonSerializer.SerializeToUtf8Bytes(plan, PlanJsonContext.Default.LaunchPlan), durable: false);

        if (attach) return await RunAttachedAsync(r, ct).ConfigureAwait(false);
        LaunchResult result;
        try
        {
            result = await LaunchAsync(r, ct).ConfigureAwait(false);
        }
        catch
        {
            // The monitor was killed (timeout, Ctrl+C) or never reported: whatever state it wrote is not a container's.
            Cgroups.Remove(r.Id);
            try { File.Delete(Store.StatePath(r.Id)); } catch (IOException) { }
            throw;
        }
        if (result.Error is not null)
        {
            Cgroups.Remove(r.Id);
            string id = result.ErrorId ?? "ContainerStartFailed";
            var kind = id == "CommandNotFound" ? ErrorKind.NotFound : ErrorKind.ResourceUnavailable;
            throw new ContainersException(id, kind, $"Container {r.Name} failed to start: {result.Error}", r.Name);
        }
        Log.Information("Started container {Name} ({Id}), pid {Pid}", r.Name, r.Id[..12], result.Pid);
        return Inspect(r);
    }

    private bool UsesRanges(ContainerRecord r)
    {
        try
        {
            var spec = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(Store.BundleDir(r.Id), "config.json")), PlanJsonContext.Default.RuntimeSpec);
            return spec?.Linux?.UidMappings?.Count > 1;
        }
        catch (IOException) { return false; }
    }

    private static string FindTool(string name)
    {
        foreach (string dir in (string[])["/usr/bin", "/usr/sbin", "/bin", "/usr/local/bin"])
            if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        throw new ContainersException("IdMapHelperNotFound", ErrorKind.ResourceUnavailable,
            $"{name} is not installed; it is needed to map subordinate id ranges.", name, "Install the uidmap package.");
    }

    /// <summary>Inherit mode: Init runs in the foreground on our stdio and exits with the container's exit code.</summary>
    private async Task<Container> RunAttachedAsync(ContainerRecord r, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(InitPath) { UseShellExecute = false };
        foreach (string a in (string[])["run", "--plan", Store.PlanPath(r.Id)]) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new ContainersException("InitFailed", ErrorKind.ResourceUnavailable, "Could not start the container monitor.", r.Name);
        Log.Information("Started container {Name} ({Id}) attached", r.Name, r.Id[..12]);
        // Ctrl+C reaches the container through the terminal; we keep waiting for it to end.
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        var c = await WaitForExitAsync(r, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
        if (c.State == ContainerState.Exited && c.ExitCode is 126 or 127 && c.Error is not null)
        {
            Cgroups.Remove(r.Id);
            throw new ContainersException(c.ExitCode == 127 ? "CommandNotFound" : "CommandNotExecutable", c.ExitCode == 127 ? ErrorKind.NotFound : ErrorKind.PermissionDenied,
                $"Container {r.Name} failed to start: {c.Error ?? "the command cannot be run"}", r.Name);
        }
        return c;
    }

    /// <summary>Runs <c>pscontainers-init run --plan</c> and reads its one-line handshake.</summary>
    private async Task<LaunchResult> LaunchAsync(ContainerRecord r, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(InitPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add("run");
        psi.ArgumentList.Add("--plan");
        psi.ArgumentList.Add(Store.PlanPath(r.Id));
        using var process = Process.Start(psi) ?? throw new ContainersException("InitFailed", ErrorKind.ResourceUnavailable, "Could not start the container monitor.", r.Name);
        process.StandardInput.Close();
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) if (stderr.Length < 8192) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(HandshakeTimeout);
        string? line;
        try
        {
            line = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            if (ct.IsCancellationRequested)
            {
                // Ctrl+C before the handshake: the start is abandoned, so is the monitor (and its child, by pid).
                KillMonitor(process);
                throw;
            }
            // Say where the monitor and its child are blocked before they are killed: state, wchan and current
            // system call of every thread of both.
            Log.Warning("The monitor of {Name} gave no handshake within {Seconds} s: {Where}", r.Name, HandshakeTimeout.TotalSeconds, DescribeTree(process.Id));
            KillMonitor(process);
            throw new ContainersException("InitTimeout", ErrorKind.Timeout, $"The monitor of {r.Name} did not report within {HandshakeTimeout.TotalSeconds} s.", r.Name);
        }
        LaunchResult? result = null;
        if (!string.IsNullOrWhiteSpace(line))
            try { result = JsonSerializer.Deserialize(line, PlanJsonContext.Default.LaunchResult); }
            catch (JsonException) { }
        if (result is null)
        {
            // No handshake: the monitor is failing. It must not stay behind (a monitor that closed its stdout but lives on).
            if (!process.WaitForExit(2000)) KillMonitor(process);
            string err;
            lock (stderr) err = stderr.ToString().Trim();
            throw new ContainersException("InitFailed", ErrorKind.ResourceUnavailable,
                $"The monitor of {r.Name} failed before it could start the container: {(err.Length > 0 ? err : line ?? "no output")}", r.Name);
        }
        return result;
    }

    /// <summary>Kills a monitor we started and its descendants (the container's init, when cloned), and reaps it.</summary>
    private static void KillMonitor(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    /// <summary>"pid 12 (S, wchan pipe_read, syscall 0 ...); pid 13 ..." for a process, its threads and its children.</summary>
    private static string DescribeTree(int pid)
    {
        var parts = new List<string>();
        void Add(int p, int depth)
        {
            if (depth > 3) return;
            try
            {
                foreach (string task in Directory.EnumerateDirectories($"/proc/{p}/task"))
                {
                    string Read(string f) { try { return File.ReadAllText(Path.Combine(task, f)).Trim(); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "?"; } }
                    string stat = Read("stat");
                    int close = stat.LastIndexOf(')');
                    char state = close > 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
                    string sys = Read("syscall");
                    parts.Add($"{(depth == 0 ? "monitor" : "child")} {p}/{Path.GetFileName(task)} ({state}, wchan {Read("wchan")}, syscall {sys.Split(' ')[0]})");
                    foreach (string c in Read("children").Split(' ', StringSplitOptions.RemoveEmptyEntries))
                        if (int.TryParse(c, out int child)) Add(child, depth + 1);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        Add(pid, 0);
        return parts.Count == 0 ? "the monitor is gone" : string.Join("; ", parts);
    }

    // ---- stop / wait --------------------------------------------------------------------------

    public async Task<Container> StopAsync(string nameOrId, TimeSpan timeout, CancellationToken ct)
    {
        var r = Store.Get(nameOrId);
        using var lk = await Store.LockContainerAsync(r.Id, ct).ConfigureAwait(false);
        return await StopCoreAsync(r, timeout, ct).ConfigureAwait(false);
    }

    private async Task<Container> StopCoreAsync(ContainerRecord r, TimeSpan timeout, CancellationToken ct)
    {
        var c = Inspect(r);
        if (c.State is not (ContainerState.Running or ContainerState.Paused)) return c;
        int pid = c.Pid;
        if (timeout > TimeSpan.Zero)
        {
            Log.Debug("Sending signal {Signal} to {Name} (pid {Pid})", r.StopSignal, r.Name, pid);
            Processes.Kill(pid, r.StopSignal);
            if (c.State == ContainerState.Paused) Cgroups.Thaw(r.Id);
            c = await WaitForExitAsync(r, timeout, ct).ConfigureAwait(false);
            if (c.State == ContainerState.Exited) { Log.Information("Stopped container {Name}", r.Name); return c; }
        }
        Log.Debug("Killing {Name} (pid {Pid})", r.Name, pid);
        Processes.Kill(pid, Processes.SIGKILL);
        if (Cgroups.Enabled) foreach (int p in Cgroups.ListPids(r.Id)) Processes.Kill(p, Processes.SIGKILL);
        if (c.State == ContainerState.Paused || Cgroups.IsFrozen(r.Id)) Cgroups.Thaw(r.Id);
        c = await WaitForExitAsync(r, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        if (c.State != ContainerState.Exited)
            throw new ContainersException("StopFailed", ErrorKind.Timeout, $"Container {c} did not stop after SIGKILL.", r.Name);
        if (Store.ReadState(r.Id) is { Status: ContainerStatus.Running } stale)
        {
            // The monitor is gone: record the kill ourselves so the container is not left "running".
            stale.Status = ContainerStatus.Stopped;
            stale.ExitCode ??= 128 + Processes.SIGKILL;
            stale.Signal ??= Processes.SIGKILL;
            stale.FinishedAt ??= DateTimeOffset.UtcNow;
            Store.WriteState(stale);
            c = Inspect(r);
        }
        Log.Information("Stopped container {Name}", r.Name);
        return c;
    }

    private async Task<Container> WaitForExitAsync(ContainerRecord r, TimeSpan timeout, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        bool monitorGone = false;
        while (true)
        {
            var c = Inspect(r);
            if (c.State is not (ContainerState.Running or ContainerState.Paused)) return c;
            if (timeout != Timeout.InfiniteTimeSpan && sw.Elapsed >= timeout) return c;
            // The monitor records the exit and then ends: wait for its end on a pidfd rather than polling the
            // state file (the 15 ms poll cost a /bin/true run up to 15 ms). Slices of at most 100 ms keep
            // cancellation and the timeout responsive. A monitor that is already gone (killed; the container
            // lives on) or a kernel without pidfd_open falls back to the poll.
            int slice = 100;
            if (timeout != Timeout.InfiniteTimeSpan) slice = (int)Math.Clamp((timeout - sw.Elapsed).TotalMilliseconds, 1, slice);
            bool? ended = monitorGone ? null : await Task.Run(() => Processes.WaitForExit(c.MonitorPid, slice), ct).ConfigureAwait(false);
            if (ended is null) await Task.Delay(15, ct).ConfigureAwait(false);
            else if (ended == true)
            {
                var again = Inspect(r);
                if (again.State is not (ContainerState.Running or ContainerState.Paused)) return again;
                monitorGone = true;
            }
        }
    }

    /// <summary>Waits until the container is no longer running; returns it (ExitCode set). Throws WaitTimeout.</summary>
    public async Task<Container> WaitAsync(string nameOrId, TimeSpan? timeout, CancellationToken ct)
    {
        var r = Store.Get(nameOrId);
        var c = await WaitForExitAsync(r, timeout ?? Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
        if (c.State is ContainerState.Running or ContainerState.Paused)
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
        (List<LinuxIdMapping> Uids, List<LinuxIdMapping> Gids)? maps;
        using var storeLock = await Store.LockStoreAsync(ct).ConfigureAwait(false);
        using (var lk = await Store.LockContainerAsync(r.Id, ct).ConfigureAwait(false))
        {
            var c = Inspect(r);
            if (c.State is ContainerState.Running or ContainerState.Paused)
            {
                if (!force)
                    throw new ContainersException("ContainerRunning", ErrorKind.InvalidState, $"Container {c} is running.", c.Name,
                        "Stop it first, or use -Force.");
                await StopCoreAsync(r, TimeSpan.Zero, ct).ConfigureAwait(false);
            }
            Cgroups.Remove(r.Id);
            // Read before anything is deleted: the bundle goes with the directory.
            maps = r.Rootless ? SubordinateIdMaps(r) : null;
            // The record goes first so a half-removed directory is never listed.
            File.Delete(Store.RecordPath(r.Id));
        }
        string dir = Store.Dir(r.Id);
        try
        {
            try { ContainerStore.DeleteTree(dir); }
            catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && maps is { } m)
            {
                // Files the container wrote as a subordinate id (chown 1000, a process running as uid 1000) sit in
                // directories this user does not own: only root of a user namespace with the same maps may unlink them.
                Log.Debug("Deleting {Dir} as this user failed ({Reason}); deleting it in a user namespace with the container's id maps", dir, e.Message);
                RemoveTreeInUserNamespace(dir, m.Uids, m.Gids);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainersException("ContainerRemoveFailed", ErrorKind.ResourceUnavailable,
                $"Container {r.Name} was removed but its directory {Store.Dir(r.Id)} could not be deleted: {e.Message}", r.Name);
        }
        Log.Information("Removed container {Name} ({Id})", r.Name, r.Id[..12]);
    }

    /// <summary>The uid and gid maps of a container that maps subordinate ranges (more than the user's own id); null otherwise.</summary>
    private (List<LinuxIdMapping> Uids, List<LinuxIdMapping> Gids)? SubordinateIdMaps(ContainerRecord r)
    {
        try
        {
            var spec = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(Store.BundleDir(r.Id), "config.json")), PlanJsonContext.Default.RuntimeSpec);
            if (spec?.Linux is { UidMappings: { Count: > 1 } uids, GidMappings: { Count: > 0 } gids }) return (uids, gids);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { }
        return null;
    }

    /// <summary>
    /// Deletes a tree in a new user namespace with the given maps (<c>pscontainers-init remove-tree</c>: newuidmap and
    /// newgidmap write them; its root then owns every file the container could have written), as <c>podman unshare rm</c>.
    /// Throws IOException with the monitor's reason when it fails.
    /// </summary>
    public void RemoveTreeInUserNamespace(string dir, IReadOnlyList<LinuxIdMapping> uids, IReadOnlyList<LinuxIdMapping> gids)
    {
        static string Format(IEnumerable<LinuxIdMapping> maps) => string.Join(',', maps.Select(m => FormattableString.Invariant($"{m.ContainerId}:{m.HostId}:{m.Size}")));
        var psi = new ProcessStartInfo(InitPath) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in (string[])["remove-tree", "--uid-map", Format(uids), "--gid-map", Format(gids)]) psi.ArgumentList.Add(a);
        if (uids.Count > 1 || gids.Count > 1)
        {
            try
            {
                foreach (string a in (string[])["--newuidmap", FindTool("newuidmap"), "--newgidmap", FindTool("newgidmap")]) psi.ArgumentList.Add(a);
            }
            catch (ContainersException e) { throw new IOException(e.Message, e); }
        }
        psi.ArgumentList.Add(dir);
        using var process = Process.Start(psi) ?? throw new IOException("Could not start pscontainers-init remove-tree.");
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(120_000))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new IOException($"pscontainers-init remove-tree did not finish deleting {dir} within 120 s.");
        }
        if (process.ExitCode != 0 || Directory.Exists(dir))
            throw new IOException($"deleting it in a user namespace failed (exit code {process.ExitCode}): {stderr.Result.Trim()}");
    }

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
        if (options.Command.Count == 0 || options.Command[0].Length == 0)
            throw new ContainersException("NoCommand", ErrorKind.InvalidArgument, "Give the command to run.", c.Name);
        if (!File.Exists(InitPath))
            throw new ContainersException("InitNotFound", ErrorKind.ResourceUnavailable, $"The container monitor '{InitPath}' is missing.", InitPath);
        var spec = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(Store.BundleDir(r.Id), "config.json")), PlanJsonContext.Default.RuntimeSpec)
            ?? throw new ContainersException("BundleMissing", ErrorKind.InvalidData, $"The bundle of {c} is unreadable.", c.Name);
        var p = spec.Process ?? new RuntimeProcess();
        p.Args = [.. options.Command];
        p.Terminal = options.Tty;
        var env = (p.Env ?? []).ToList();
        if (options.Tty && !env.Any(e => e.StartsWith("TERM=", StringComparison.Ordinal))) env.Add("TERM=xterm");
        foreach (var (key, value) in options.Env)
        {
            env.RemoveAll(e => e.StartsWith(key + "=", StringComparison.Ordinal));
            if (value is not null) env.Add(key + "=" + value);
        }
        p.Env = env;
        if (options.WorkingDir is { } wd)
        {
            if (!wd.StartsWith('/'))
                throw new ContainersException("InvalidWorkingDirectory", ErrorKind.InvalidArgument, $"The working directory '{wd}' is not absolute.", wd);
            p.Cwd = wd;
        }
        if (options.User is { } userSpec)
        {
            var u = ImageUsers.ResolveInContainer(userSpec, c.Pid, [.. r.LayerDirectories, Store.UpperDir(r.Id)], $"container {r.Name}");
            p.User = new RuntimeUser { Uid = u.Uid, Gid = u.Gid, AdditionalGids = u.AdditionalGids.Count > 0 ? [.. u.AdditionalGids] : null };
            var caps = p.Capabilities?.Bounding ?? [];
            p.Capabilities = new LinuxCapabilities { Bounding = caps, Effective = u.Uid == 0 ? [.. caps] : [], Permitted = u.Uid == 0 ? [.. caps] : [] };
        }
        string processFile = Path.Combine(Store.Dir(r.Id), "exec-" + Guid.NewGuid().ToString("N")[..12] + ".json");
        ContainerStore.AtomicWrite(processFile, JsonSerializer.SerializeToUtf8Bytes(p, PlanJsonContext.Default.RuntimeProcess), durable: false);
        try
        {
            var psi = new ProcessStartInfo(InitPath)
            {
                UseShellExecute = false,
                RedirectStandardInput = !options.Inherit,
                RedirectStandardOutput = !options.Inherit,
                RedirectStandardError = !options.Inherit,
            };
            foreach (string a in (string[])["exec", "--state-dir", Store.Dir(r.Id), "--process", processFile]) psi.ArgumentList.Add(a);
            using var process = Process.Start(psi) ?? throw new ContainersException("InitFailed", ErrorKind.ResourceUnavailable, "Could not start the exec helper.", c.Name);
            Log.Debug("Exec in {Name}: {Command} (helper pid {Pid})", r.Name, string.Join(' ', options.Command), process.Id);
            if (!options.Inherit)
            {
                process.StandardInput.Close();
                // A terminal ends its lines with CR LF and has one stream (stderr arrives with stdout).
                process.OutputDataReceived += (_, e) => { if (e.Data is not null) stdout?.Invoke(options.Tty ? e.Data.TrimEnd('\r') : e.Data); };
                process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr?.Invoke(e.Data); };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
            }
            try
            {
                await process.WaitForExitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C: Init forwards SIGTERM to the process.
                Native.Processes.Kill(process.Id, Native.Processes.SIGTERM);
                if (!process.WaitForExit(5000)) process.Kill();
                throw;
            }
            process.WaitForExit(); // drains the redirected streams
            return process.ExitCode;
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
        if (c.State is not (ContainerState.Running or ContainerState.Paused)) return [];
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
            bool running = Inspect(r).State is ContainerState.Running or ContainerState.Paused or ContainerState.Created && Store.ReadState(r.Id) is not null;
            var batch = reader.ReadNew(final: !running);
            foreach (var e in batch) write(e with { ContainerName = r.Name });
            if (!running) return;
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
    }
}

/// <summary>What Invoke-ContainerCommand runs inside a running container.</summary>
public sealed class ExecOptions
{
    public IReadOnlyList<string> Command { get; set; } = [];
    /// <summary>Added to (or replacing in) the container's environment.</summary>
    public IDictionary<string, string?> Env { get; set; } = new Dictionary<string, string?>();
    public string? WorkingDir { get; set; }
    /// <summary>User inside the container (resolved against the image); the container's user when null.</summary>
    public string? User { get; set; }
    /// <summary>Connects the process to this session's terminal (stdio inherited) instead of capturing its output.</summary>
    public bool Inherit { get; set; }
    /// <summary>Gives the process a pseudo-terminal of the container (its stdin, stdout and stderr; TERM=xterm unless set).
    /// Init relays it to this session's stdio (raw mode when that is a terminal); its output has one stream.</summary>
    public bool Tty { get; set; }
}
