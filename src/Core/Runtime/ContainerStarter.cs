using System.Text.Json;
using Containers.Core.Cgroups;
using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Networking;
using Containers.Core.Networking.Rootless;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// Start: writes the container's <see cref="LaunchPlan"/> (its cgroup made, its layers, its stdio mode) and has
/// <see cref="InitLauncher"/> run it. The caller holds the container's lock.
/// </summary>
internal sealed class ContainerStarter(ContainerStore store, ICgroupManager cgroups, ContainerStateResolver resolver, InitLauncher launcher, ContainerNetworking networking, ContainerPaths? paths = null)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerStarter>();

    /// <summary>See <see cref="ContainerRuntime.HandshakeOnCaller"/>.</summary>
    public bool HandshakeOnCaller { get; init; }

    /// <summary>
    /// With <paramref name="attach"/>, the container shares this process's stdin, stdout and stderr (and terminal) and
    /// the call returns when it exits; otherwise it runs detached under its monitor and the call returns once the
    /// command was exec'd.
    /// </summary>
    public async Task<Container> StartAsync(ContainerRecord r, bool attach, CancellationToken ct)
    {
        var c = resolver.Inspect(r);
        if (c.State.IsActive() || c.State == ContainerState.Restarting)
            throw new ContainersException("ContainerAlreadyRunning", ErrorKind.InvalidState, $"Container {c} is already running.", c.Name);
        launcher.EnsureExists();

        var previous = store.ReadState(r.Id);
        CgroupLifetime.AwaitPreviousMonitor(previous);
        ContainerServices.ResetForStart(store, r.Id);
        IReadOnlyList<string> procs = [];
        // Leftovers of a run whose monitor was killed or of a start that died: Create finds them (mkdir says EEXIST) and
        // removes them first, so a first start looks at no hierarchy before its mkdirs. As root the monitor gets its
        // command before the cgroups exist and prepares the start from the plan while this thread makes them (about 0.4 ms
        // of cgroupfs work each, side by side on two CPUs); it makes the container on Go. Rootless, a cgroup that cannot
        // be made means none (the plan must say so), and an attached run's monitor reads the terminal, not a go byte.
        bool cgroupsAlongside = cgroups.Enabled && !r.Rootless && !attach;
        if (cgroupsAlongside) procs = cgroups.ProcsFiles(r.Id);
        else if (cgroups.Enabled)
        {
            try { procs = cgroups.Create(r.Id, BundleBuilder.ToLinux(r.Resources)); }
            catch (ContainersException e) when (r.Rootless)
            {
                Log.Warning("The container runs without a cgroup and without limits: {Reason}", e.Message);
            }
        }
        else if (BundleBuilder.ToLinux(r.Resources) is not null)
            Log.Warning("Container {Name} runs without resource limits: {Reason}", r.Name, (cgroups as NoCgroupManager)?.Reason);

        var plan = new LaunchPlan
        {
            ContainerId = r.Id,
            BundleDir = store.BundleDir(r.Id),
            StateDir = store.Dir(r.Id),
            LogPath = store.LogPath(r.Id),
            Rootfs = Layers(r),
            CgroupProcsFiles = [.. procs],
            Stdio = attach ? StdioMode.Inherit : StdioMode.Log,
        };
        ContainerServices.AddToPlan(plan, r, store);
        if (r.Rootless && store.ReadSpec(r.Id)?.Linux?.UidMappings?.Count > 1)
        {
            plan.NewUidMap = InitLauncher.FindIdMapTool("newuidmap");
            plan.NewGidMap = InitLauncher.FindIdMapTool("newgidmap");
        }
        if (r.Rootless && RootlessNetworkMode.IsRootlessMode(r.Network))
        {
            try { plan.NetworkHelper = PlanRootlessNetwork(r); }
            catch { cgroups.Remove(r.Id); throw; }
        }
        // Not fsynced: the plan is rewritten by every start and read at once by the monitor we spawn.
        ContainerStore.AtomicWrite(store.PlanPath(r.Id), JsonSerializer.SerializeToUtf8Bytes(plan, PlanJsonContext.Default.LaunchPlan), durable: false);

        await JoinNetworkAsync(r, ct).ConfigureAwait(false);
        if (attach)
        {
            // The container has ended when an attached run returns; this start holds the lock, so detach here.
            try { return await RunAttachedAsync(r, ct).ConfigureAwait(false); }
            finally { if (r.NetworkSettings is not null) await networking.DetachAsync(r, CancellationToken.None).ConfigureAwait(false); }
        }
        LaunchResult result;
        try
        {
            // The monitor gets its command on this thread (a thread-pool hop before it delayed every start). The handshake read
            // blocks (Handshake watches ct itself and kills the monitor on Ctrl+C): off this thread unless the caller said
            // otherwise, as a caller of StartAsync may do something else meanwhile (cancel it, start another).
            var monitor = launcher.Begin(store.PlanPath(r.Id), r.Name, awaitGo: cgroupsAlongside);
            if (cgroupsAlongside)
            {
                try { cgroups.Create(r.Id, BundleBuilder.ToLinux(r.Resources)); }
                catch
                {
                    InitLauncher.Abandon(monitor);
                    throw;
                }
                InitLauncher.Go(monitor);
            }
            result = HandshakeOnCaller ? launcher.Handshake(monitor, r.Name, ct)
                : await Task.Run(() => launcher.Handshake(monitor, r.Name, ct), CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            // The monitor was killed (timeout, Ctrl+C) or never reported: whatever state it wrote is not a container's.
            cgroups.Remove(r.Id);
            try { File.Delete(store.StatePath(r.Id)); } catch (IOException) { }
            if (r.NetworkSettings is not null) await networking.DetachAsync(r, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        if (result.Error is not null)
        {
            cgroups.Remove(r.Id);
            if (r.NetworkSettings is not null) await networking.DetachAsync(r, CancellationToken.None).ConfigureAwait(false);
            string id = result.ErrorId ?? "ContainerStartFailed";
            var kind = id == "CommandNotFound" ? ErrorKind.NotFound : ErrorKind.ResourceUnavailable;
            throw new ContainersException(id, kind, $"Container {r.Name} failed to start: {result.Error}", r.Name);
        }
        Log.Information("Started container {Name} ({Id}), pid {Pid}", r.Name, r.Id[..12], result.Pid);
        return resolver.Inspect(r);
    }

    /// <summary>The image's layers and the container's upper, with the store's mount points layer: the container's /etc variant
    /// when it has one and it can be made, else the plain one.</summary>
    private RootfsLayers Layers(ContainerRecord r)
    {
        var layers = new RootfsLayers { LowerDirs = [.. r.LayerDirectories], UpperDir = store.UpperDir(r.Id), WorkDir = store.WorkDir(r.Id) };
        if (r.EtcMountPoints is { } etc && MountPointsLayer.EnsureEtc(store.DataDir(), etc) is { } variant)
        {
            layers.MountPointsDir = variant;
            layers.MountPointsEtc = etc.Names;
        }
        else layers.MountPointsDir = MountPointsLayer.Ensure(store.DataDir());
        return layers;
    }

    /// <summary>CNI networks: the namespace made and configured now. container:NAME: config.json points at that container's
    /// namespace. A container of a pod: config.json points at its infra's IPC and UTS namespaces too.</summary>
    private async Task JoinNetworkAsync(ContainerRecord r, CancellationToken ct)
    {
        if (r.NetworkSettings is not null)
        {
            try { await networking.AttachAsync(r, ct).ConfigureAwait(false); }
            catch { cgroups.Remove(r.Id); throw; }
        }
        // A container of a pod joins the IPC and UTS namespaces its pod shares through the infra's pid.
        var podNamespaces = (r.PodShare ?? []).Where(k => k is "ipc" or "uts").ToList();
        bool sharesNetwork = r.Network.StartsWith("container:", StringComparison.Ordinal);
        if (!sharesNetwork && podNamespaces.Count == 0) return;
        string other = sharesNetwork ? r.Network[10..] : store.InfraOf(r)?.Name ?? "";
        var peer = store.Find(other) is { } o ? resolver.Inspect(o) : null;
        if (peer is not { State: ContainerState.Running or ContainerState.Paused })
        {
            cgroups.Remove(r.Id);
            if (r.NetworkSettings is not null) await networking.DetachAsync(r, CancellationToken.None).ConfigureAwait(false);
            throw new ContainersException("NetworkContainerNotRunning", ErrorKind.InvalidState,
                $"Container {r.Name} shares the namespaces of '{other}', which is not running.", other, $"Start-Container {other} first.");
        }
        var spec = store.ReadSpec(r.Id)!;
        if (sharesNetwork) BundleBuilder.JoinNetworkNamespace(spec, $"/proc/{peer.Pid}/ns/net");
        foreach (string kind in podNamespaces) BundleBuilder.JoinNamespace(spec, kind, $"/proc/{peer.Pid}/ns/{kind}");
        ContainerStore.AtomicWrite(store.SpecPath(r.Id), JsonSerializer.SerializeToUtf8Bytes(spec, PlanJsonContext.Default.RuntimeSpec), durable: false);
    }

    /// <summary>pasta or slirp4netns for this run: its command line, the published ports resolved and checked free.</summary>
    private NetworkHelperPlan PlanRootlessNetwork(ContainerRecord r)
    {
        // The API socket lives in the runtime directory: a unix socket path holds 107 bytes, the store's paths are long.
        string socket = Path.Combine(paths?.StateDir ?? store.Root, "net", r.Id[..12] + ".sock");
        Directory.CreateDirectory(Path.GetDirectoryName(socket)!);
        var conf = ContainersConf.Read(paths?.ContainersConfFiles ?? []);
        var (helper, published) = new RootlessNetworkPlanner(conf).Plan(r.Network, PortMapping.ParseAll(r.RootlessPublish ?? []), store.Dir(r.Id), socket, RootlessPortsTaken(r));
        helper.Published = [.. published.Select(p => p.ToSpec())];
        return helper;
    }

    /// <summary>The host ports the helpers of the other running rootless containers publish, by container name.</summary>
    private Dictionary<(int, string), string> RootlessPortsTaken(ContainerRecord r)
    {
        var taken = new Dictionary<(int, string), string>();
        if (r.RootlessPublish is not { Count: > 0 }) return taken;
        foreach (var other in store.List().Where(o => o.Id != r.Id && o.RootlessPublish is { Count: > 0 }))
            if (resolver.Inspect(other).State.IsActive())
                foreach (var spec in store.ReadPlan(other.Id)?.NetworkHelper?.Published ?? [])
                    if (PortMapping.Parse(spec) is var m)
                        foreach (var (host, _) in m.Ports()) taken[(host, m.Protocol)] = "container " + other.Name;
        return taken;
    }

    /// <summary>Inherit mode: Init runs in the foreground on our stdio and exits with the container's exit code.</summary>
    private async Task<Container> RunAttachedAsync(ContainerRecord r, CancellationToken ct)
    {
        await launcher.RunAttachedAsync(store.PlanPath(r.Id), r.Name).ConfigureAwait(false);
        var c = await resolver.WaitForExitAsync(r, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
        if (c.State == ContainerState.Exited && c.ExitCode is 126 or 127 && c.Error is not null)
        {
            cgroups.Remove(r.Id);
            throw new ContainersException(c.ExitCode == 127 ? "CommandNotFound" : "CommandNotExecutable", c.ExitCode == 127 ? ErrorKind.NotFound : ErrorKind.PermissionDenied,
                $"Container {r.Name} failed to start: {c.Error ?? "the command cannot be run"}", r.Name);
        }
        return c;
    }
}
