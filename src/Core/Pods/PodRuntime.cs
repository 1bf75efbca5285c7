using Containers.Core.Errors;
using Containers.Core.Runtime;

namespace Containers.Core.Pods;

/// <summary>
/// Pods: a shared network, IPC and UTS namespace held by an infra container (Init pausing in them, with its own monitor,
/// as podman's infra container), and a cgroup parent under which the pod's containers' cgroups go (<see cref="PodCgroups"/>).
/// The network and published ports are the infra's; containers join with New-Container -Pod. Start runs the infra first,
/// stop ends it last, remove takes the pod's containers, the infra and the cgroup parent.
/// </summary>
internal sealed class PodRuntime(ContainerRuntime runtime, PodStore pods)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<PodRuntime>();

    /// <summary>What the infra shows as its image: it has none, its only layer is an empty directory.</summary>
    public const string InfraImage = "pscontainers-pause";

    public PodStore Store => pods;

    public async Task<ContainerPod> CreateAsync(PodCreateOptions o, CancellationToken ct)
    {
        // Each rootless container has a user namespace of its own, which may not join the namespaces another one owns.
        if (runtime.Paths.Rootless)
            throw new ContainersException("PodRootlessUnsupported", ErrorKind.NotSupported,
                "Pods need root here: a rootless container's user namespace cannot join the IPC and UTS namespaces of another container's.",
                o.Name, "Run the pod's containers as root, or share a network between rootless containers with -Network container:NAME.");
        if (o.Name is not null && !NameGenerator.IsValidName(o.Name))
            throw new ContainersException("InvalidPodName", ErrorKind.InvalidArgument,
                $"'{o.Name}' is not a valid pod name: use letters, digits, '_', '.' and '-', starting with a letter or digit.", o.Name);
        var share = Share(o.Share);
        if (!share.Contains("net") && (o.Network is not null || o.Publish.Count > 0))
            throw new ContainersException("PodNetworkNotShared", ErrorKind.InvalidArgument,
                "-Network and -Publish belong to a pod whose containers share its network; -Share leaves out net.", string.Join(',', share),
                "Add net to -Share, or give -Network and -Publish to each New-Container.");

        using var podLock = await pods.LockAsync(ct).ConfigureAwait(false);
        var all = pods.List();
        if (o.Name is not null && all.Any(p => p.Name == o.Name))
            throw new ContainersException("PodNameInUse", ErrorKind.AlreadyExists, $"The name '{o.Name}' is already used by another pod.", o.Name,
                "Choose another -Name or remove the other pod with Remove-ContainerPod.");
        string id;
        do id = NameGenerator.NewId(); while (all.Any(p => p.Id == id));
        string name = o.Name ?? NameGenerator.NewName(n => all.Any(p => p.Name == n));
        var record = new PodRecord
        {
            Id = id, Name = name, Created = DateTimeOffset.UtcNow, InfraName = PodMembership.InfraNameOf(id),
            Hostname = string.IsNullOrEmpty(o.Hostname) ? name : o.Hostname, Labels = new Dictionary<string, string>(o.Labels), Share = share,
            Network = o.Network, Publish = [.. o.Publish], AddHost = [.. o.AddHost], Dns = [.. o.Dns],
        };
        var infraOptions = new ContainerCreateOptions
        {
            Image = InfraImage, Name = record.InfraName, Command = ["pause"], User = "0", Hostname = share.Contains("uts") ? record.Hostname : null,
            Network = o.Network, Publish = o.Publish, AddHost = o.AddHost, Dns = o.Dns, PodInfra = record.Membership(),
        };
        var image = new RuntimeImage("", InfraImage, null, [pods.InfraRootfs()]);
        var infra = await runtime.CreateFromAsync(infraOptions, image, ct).ConfigureAwait(false);
        record.InfraId = infra.Id;
        try { pods.Write(record); }
        catch
        {
            await runtime.RemoveRecordAsync(infra, force: true, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        Log.Information("Created pod {Name} ({Id}), infra {Infra}", name, id[..12], record.InfraName);
        Event("create", record);
        return ToPod(record, [runtime.Inspect(infra)]);
    }

    /// <summary>ipc, net and uts unless given; anything else is refused (Init joins only these by path).</summary>
    internal static List<string> Share(IReadOnlyList<string>? given)
    {
        if (given is null) return [.. PodMembership.Shareable];
        var share = given.SelectMany(s => s.Split(',')).Select(s => s.Trim().ToLowerInvariant()).Where(s => s.Length > 0).Distinct().Order(StringComparer.Ordinal).ToList();
        if (share.FirstOrDefault(s => !PodMembership.Shareable.Contains(s)) is { } bad)
            throw new ContainersException("PodShareUnsupported", ErrorKind.NotSupported,
                $"-Share {bad}: a pod here shares only {string.Join(", ", PodMembership.Shareable)}.", bad, "Give -Share with ipc, net and uts only.");
        return share;
    }

    public List<ContainerPod> List()
    {
        var records = runtime.Store.List();
        return pods.List().Select(p => ToPod(p, records.Where(r => r.PodId == p.Id).Select(runtime.Inspect).ToList())).ToList();
    }

    public ContainerPod Inspect(PodRecord pod) => ToPod(pod, Members(pod).Select(runtime.Inspect).ToList());

    private List<ContainerRecord> Members(PodRecord pod) => runtime.Store.List().Where(r => r.PodId == pod.Id).ToList();

    private static ContainerPod ToPod(PodRecord p, List<Container> containers)
    {
        var infra = containers.FirstOrDefault(c => c.Id == p.InfraId);
        return new ContainerPod
        {
            Id = p.Id, Name = p.Name, Created = p.Created.LocalDateTime, InfraId = p.InfraId, InfraName = p.InfraName, Hostname = p.Hostname,
            Share = p.Share.AsReadOnly(), Labels = p.Labels.AsReadOnly(), Network = infra?.Network ?? p.Network ?? "",
            Ports = infra?.Ports ?? [], Status = ContainerPod.StatusOf([.. containers.Select(c => c.State)]),
            Containers = containers.Where(c => c.Id != p.InfraId).OrderBy(c => c.Created).Select(c => c.Name).ToList(),
            NumberOfContainers = containers.Count,
        };
    }

    /// <summary>The infra first, then every container not running; one that fails does not keep the others from starting.</summary>
    public async Task<ContainerPod> StartAsync(PodRecord pod, CancellationToken ct)
    {
        var members = Members(pod);
        var infra = members.FirstOrDefault(r => r.Id == pod.InfraId) ?? throw InfraMissing(pod);
        if (!runtime.Inspect(infra).State.IsActive()) await runtime.StartAsync(infra.Id, ct).ConfigureAwait(false);
        ContainersException? failed = null;
        foreach (var r in members.Where(r => r.Id != pod.InfraId).OrderBy(r => r.Created))
        {
            if (runtime.Inspect(r).State.IsActive()) continue;
            try { await runtime.StartAsync(r.Id, ct).ConfigureAwait(false); }
            catch (ContainersException e) { failed ??= e; Log.Warning("Pod {Pod}: container {Name} did not start: {Error}", pod.Name, r.Name, e.Message); }
        }
        Event("start", pod);
        if (failed is not null) throw failed;
        Log.Information("Started pod {Name}", pod.Name);
        return Inspect(pod);
    }

    /// <summary>The containers (at once, each with the timeout), then the infra.</summary>
    public async Task<ContainerPod> StopAsync(PodRecord pod, TimeSpan timeout, CancellationToken ct)
    {
        var members = Members(pod);
        await Task.WhenAll(members.Where(r => r.Id != pod.InfraId && IsRunning(r)).Select(r => runtime.StopAsync(r.Id, timeout, ct))).ConfigureAwait(false);
        if (members.FirstOrDefault(r => r.Id == pod.InfraId) is { } infra && IsRunning(infra))
            await runtime.StopAsync(infra.Id, timeout, ct).ConfigureAwait(false);
        Log.Information("Stopped pod {Name}", pod.Name);
        Event("stop", pod);
        return Inspect(pod);
    }

    private bool IsRunning(ContainerRecord r) => runtime.Inspect(r).State is var s && (s.IsActive() || s == ContainerState.Restarting);

    /// <summary>
    /// Refused while a container of the pod runs, unless <paramref name="force"/> (which kills them). The containers go
    /// first, the infra last, then the cgroup parent and the record; a failure part way leaves a pod that a second
    /// Remove-ContainerPod finishes.
    /// </summary>
    public async Task RemoveAsync(PodRecord pod, bool force, CancellationToken ct)
    {
        using var podLock = await pods.LockAsync(ct).ConfigureAwait(false);
        if (pods.Read(pod.Id) is null) throw PodStore.NotFound(pod.Name);
        var members = Members(pod);
        var running = members.Where(IsRunning).Select(r => r.Id == pod.InfraId ? r.Name + " (infra)" : r.Name).ToList();
        if (running.Count > 0 && !force)
            throw new ContainersException("PodRunning", ErrorKind.InvalidState,
                $"Pod {pod} has running containers: {string.Join(", ", running)}.", pod.Name, $"Stop it first with Stop-ContainerPod {pod.Name}, or use -Force.");
        foreach (var r in members.OrderBy(r => r.Id == pod.InfraId))
            await runtime.RemoveRecordAsync(r, force, ct).ConfigureAwait(false);
        if (runtime.Cgroups is PodCgroups cgroups) cgroups.RemoveParent(pod.Id);
        pods.Delete(pod.Id);
        Log.Information("Removed pod {Name} ({Id})", pod.Name, pod.Id[..12]);
        Event("remove", pod);
    }

    /// <summary>A pod event in the journal (podman's pod create, start, stop, remove).</summary>
    private void Event(string action, PodRecord pod) => Events.EventLog.Write(runtime.Paths.DataDir, Events.Journal.EventTypes.Pod, action, pod.Id, pod.Name);

    private static ContainersException InfraMissing(PodRecord pod) => new("PodInfraMissing", ErrorKind.InvalidData,
        $"The infra container {pod.InfraName} of pod {pod} is gone.", pod.Name, $"Remove the pod with Remove-ContainerPod {pod.Name} -Force and create it again.");
}
