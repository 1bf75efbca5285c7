using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Native;
using Containers.Core.Networking;
using Containers.Core.Networking.Cni;

namespace Containers.Core.Runtime;

/// <summary>What a running container's CNI setup left to undo: its namespace file and one attachment per network.</summary>
internal sealed class NetworkState
{
    public string Netns { get; set; } = "";
    public List<CniAttachment> Attachments { get; set; } = [];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(NetworkState))]
internal sealed partial class NetworkStateJsonContext : JsonSerializerContext
{
}

/// <summary>
/// A container's CNI networks over its life. Start makes a network namespace (an nsfs file under the state directory,
/// <c>netns/ID</c>), runs ADD for each network into it and keeps what DEL needs in the container's own directory
/// (<c>networks.json</c>: the configuration list as it was, the runtime arguments and the result; libcni keeps the
/// same under /var/lib/cni/results, which this module does not write). Stop, remove, and the first look at a
/// container whose monitor died run DEL and remove the namespace. The IPAM leases are host-local's, shared with podman.
/// </summary>
internal sealed class ContainerNetworking(ContainerStore store, ContainerPaths paths)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerNetworking>();
    public const string StateFile = "networks.json";

    public NetworkStore Networks { get; } = new(paths);

    public string NetnsPath(string id) => Path.Combine(paths.StateDir, "netns", id);

    public NetworkState? ReadState(string id)
    {
        string file = Path.Combine(store.Dir(id), StateFile);
        try { return JsonSerializer.Deserialize(File.ReadAllBytes(file), NetworkStateJsonContext.Default.NetworkState); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        catch (JsonException e) { Log.Warning("Unreadable network state {File}: {Reason}", file, e.Message); return null; }
    }

    /// <summary>Makes the namespace and runs ADD for every network; on failure nothing stays configured.</summary>
    public async Task AttachAsync(ContainerRecord r, CancellationToken ct)
    {
        var settings = r.NetworkSettings!;
        if (ReadState(r.Id) is not null) await DetachAsync(r, ct).ConfigureAwait(false); // a previous run's leftovers
        var networks = settings.Networks.Select(Networks.Resolve).ToList();
        foreach (var n in networks) Networks.Plugins.EnsurePlugins(n);
        var ports = ResolvePorts(r, settings);
        var state = new NetworkState { Netns = NetnsPath(r.Id) };
        NetworkNamespaces.Create(state.Netns);
        try
        {
            for (int i = 0; i < networks.Count; i++)
            {
                var a = new CniAttachment
                {
                    Network = networks[i].Name, IfName = "eth" + i, Config = networks[i].Json,
                    Aliases = [r.Name, r.Id[..12], .. settings.Aliases],
                    Args = i == 0 ? Args(settings) : "IgnoreUnknown=1",
                };
                // Published ports go through the first network that has a portmap plugin (one DNAT per host port).
                if (ports.Count > 0 && !state.Attachments.Any(x => x.Ports.Count > 0) && networks[i].PluginTypes.Contains("portmap"))
                {
                    a.RuntimeConfig["portMappings"] = new System.Text.Json.Nodes.JsonArray(ports.SelectMany(m => m.Ports().Select(p => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
                    {
                        ["hostPort"] = p.Host, ["containerPort"] = p.Container, ["protocol"] = m.Protocol, ["hostIP"] = m.HostIP?.ToString() ?? "",
                    })).ToArray());
                    a.Ports = ports.Select(m => m.ToSpec()).ToList();
                }
                state.Attachments.Add(a);
                await new CniExecutor(Networks.Plugins).AddAsync(a, r.Id, state.Netns, ct).ConfigureAwait(false);
                Save(r.Id, state);
            }
            if (ports.Count > 0 && !state.Attachments.Any(x => x.Ports.Count > 0))
                throw new ContainersException("PublishNeedsPortmap", ErrorKind.InvalidArgument,
                    $"None of the networks {string.Join(", ", settings.Networks)} has a portmap plugin, so -Publish cannot be honoured.", r.Name,
                    "Use a network made by New-ContainerNetwork (bridge), or add portmap to the configuration list.");
        }
        catch
        {
            state.Attachments.RemoveAll(a => a.Result is null);
            await UndoAsync(r.Id, state, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        Save(r.Id, state);
        Log.Information("Attached {Name} to {Networks}: {Addresses}", r.Name, settings.Networks, state.Attachments.SelectMany(a => a.Addresses));
        PeerHosts.Refresh(this, store, r.Id);
    }

    /// <summary>Connect-ContainerNetwork: ADD one more network to a running container (next free ethN) and keep it in its record.</summary>
    public async Task ConnectAsync(ContainerRecord r, string network, IReadOnlyList<string> aliases, CancellationToken ct)
    {
        var state = ReadState(r.Id);
        if (r.NetworkSettings is null || state is null)
            throw new ContainersException("ContainerNotOnCniNetwork", ErrorKind.InvalidState,
                $"Container {r.Name} is not running on a CNI network (its network is '{r.Network}').", r.Name,
                "Start it, or create it with -Network and a network name.");
        if (state.Attachments.Any(a => a.Network == network))
            throw new ContainersException("AlreadyConnected", ErrorKind.AlreadyExists, $"Container {r.Name} is already on network '{network}'.", network);
        var n = Networks.Resolve(network);
        Networks.Plugins.EnsurePlugins(n);
        int index = 0;
        while (state.Attachments.Any(a => a.IfName == "eth" + index)) index++;
        var a = new CniAttachment { Network = n.Name, IfName = "eth" + index, Config = n.Json, Args = "IgnoreUnknown=1", Aliases = [r.Name, r.Id[..12], .. r.NetworkSettings.Aliases, .. aliases] };
        await new CniExecutor(Networks.Plugins).AddAsync(a, r.Id, state.Netns, ct).ConfigureAwait(false);
        state.Attachments.Add(a);
        Save(r.Id, state);
        r.NetworkSettings.Networks.Add(n.Name);
        r.Network = string.Join(',', r.NetworkSettings.Networks);
        store.Write(r);
        PeerHosts.Refresh(this, store, r.Id);
        Log.Information("Connected {Name} to {Network} as {IfName}", r.Name, n.Name, a.IfName);
    }

    /// <summary>Disconnect-ContainerNetwork: DEL one network of a container (running or not) and drop it from its record.</summary>
    public async Task DisconnectAsync(ContainerRecord r, string network, CancellationToken ct)
    {
        if (r.NetworkSettings?.Networks.Contains(network) != true)
            throw new ContainersException("NotConnected", ErrorKind.NotFound, $"Container {r.Name} is not on network '{network}'.", network);
        if (r.NetworkSettings.Networks.Count == 1)
            throw new ContainersException("LastNetwork", ErrorKind.InvalidState, $"'{network}' is the only network of container {r.Name}.", network,
                "Connect it to another network first, or remove the container.");
        if (ReadState(r.Id) is { } state && state.Attachments.FirstOrDefault(a => a.Network == network) is { } a)
        {
            await new CniExecutor(Networks.Plugins).DelAsync(a, r.Id, state.Netns, ct).ConfigureAwait(false);
            state.Attachments.Remove(a);
            Save(r.Id, state);
        }
        r.NetworkSettings.Networks.Remove(network);
        r.Network = string.Join(',', r.NetworkSettings.Networks);
        store.Write(r);
        PeerHosts.Refresh(this, store, r.Id, network);
        Log.Information("Disconnected {Name} from {Network}", r.Name, network);
    }

    /// <summary>The names of this module's containers whose record names the network.</summary>
    public List<string> ContainersOn(string network, List<ContainerRecord>? all = null) =>
        (all ?? store.List()).Where(r => r.NetworkSettings?.Networks.Contains(network) == true).Select(r => r.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>DEL on every network, the namespace removed, the state file deleted; peers forget the container's names.</summary>
    public async Task DetachAsync(ContainerRecord r, CancellationToken ct)
    {
        if (ReadState(r.Id) is not { } state) return;
        await UndoAsync(r.Id, state, ct).ConfigureAwait(false);
        PeerHosts.Refresh(this, store, r.Id);
        Log.Information("Detached {Name} from its networks", r.Name);
    }

    /// <summary>For the state resolver: an exited container (its monitor maybe killed) still attached is detached, unless its lock is held.</summary>
    public void ReleaseLeftovers(ContainerRecord r)
    {
        if (r.NetworkSettings is null || !File.Exists(Path.Combine(store.Dir(r.Id), StateFile))) return;
        using var held = store.TryLockContainer(r.Id);
        if (held is null) return;
        try { DetachAsync(r, CancellationToken.None).GetAwaiter().GetResult(); }
        catch (ContainersException e) { Log.Warning("Releasing the networks of exited container {Name} failed: {Reason}", r.Name, e.Message); }
    }

    private async Task UndoAsync(string id, NetworkState state, CancellationToken ct)
    {
        ContainersException? first = null;
        foreach (var a in Enumerable.Reverse(state.Attachments))
        {
            try { await new CniExecutor(Networks.Plugins).DelAsync(a, id, state.Netns, ct).ConfigureAwait(false); }
            catch (ContainersException e) { first ??= e; }
        }
        if (first is not null)
        {
            // Keep the state (DEL is retried by the next stop, remove or look) and the namespace DEL needs.
            Save(id, state);
            throw first;
        }
        NetworkNamespaces.Remove(state.Netns);
        File.Delete(Path.Combine(store.Dir(id), StateFile));
    }

    private void Save(string id, NetworkState state) =>
        ContainerStore.AtomicWrite(Path.Combine(store.Dir(id), StateFile), JsonSerializer.SerializeToUtf8Bytes(state, NetworkStateJsonContext.Default.NetworkState), durable: false);

    private static string Args(ContainerNetworkSettings s) =>
        "IgnoreUnknown=1" + (s.IPAddress is null ? "" : ";IP=" + s.IPAddress) + (s.MacAddress is null ? "" : ";MAC=" + s.MacAddress);

    /// <summary>The -Publish mappings with random host ports chosen and fixed ones checked against the host and this module's containers.</summary>
    private List<PortMapping> ResolvePorts(ContainerRecord r, ContainerNetworkSettings s)
    {
        var taken = new Dictionary<(int, string), string>();
        foreach (var other in store.List().Where(o => o.Id != r.Id && o.NetworkSettings is not null))
            foreach (var spec in ReadState(other.Id)?.Attachments.SelectMany(a => a.Ports) ?? [])
                if (PortMapping.Parse(spec) is var m)
                    foreach (var (host, _) in m.Ports()) taken[(host, m.Protocol)] = "container " + other.Name;
        var result = new List<PortMapping>();
        foreach (var m in PortMapping.ParseAll(s.Publish))
        {
            if (m.HostPort == 0)
            {
                // Random ports one by one: a range of random host ports need not be consecutive.
                foreach (var (_, container) in m.Ports())
                    result.Add(m with { HostPort = HostPorts.Random(m.Protocol, m.HostIP), ContainerPort = container, Range = 1 });
                continue;
            }
            foreach (var (host, _) in m.Ports())
            {
                if (taken.TryGetValue((host, m.Protocol), out string? holder)) throw HostPorts.InUse(host, m.Protocol, holder);
                HostPorts.EnsureFree(host, m.Protocol, m.HostIP);
            }
            result.Add(m);
        }
        return result;
    }

    /// <summary>-Publish's specs, and with -PublishAll the image's EXPOSE ports (random host ports); all parsed, so a bad one fails here.</summary>
    public static List<string> PublishSpecs(ContainerCreateOptions o, IReadOnlyList<string> exposed)
    {
        var publish = o.Publish.ToList();
        if (o.PublishAll) publish.AddRange(exposed.Select(e => e.Split('/') is [var port, var proto] ? port + "/" + proto : e));
        PortMapping.ParseAll(publish);
        return publish;
    }

    /// <summary>The CNI settings for New-Container (null for none, host, private, container:), validated before anything is written.</summary>
    public ContainerNetworkSettings? Plan(ContainerCreateOptions o, string mode, IReadOnlyList<string> exposed)
    {
        bool rootlessMode = Networking.Rootless.RootlessNetworkMode.IsRootlessMode(mode);
        bool cni = mode is not ("none" or "host" or "private") && !mode.StartsWith("container:", StringComparison.Ordinal) && !rootlessMode;
        var publish = PublishSpecs(o, exposed);
        if (!cni)
        {
            if (publish.Count > 0 && !rootlessMode)
                throw new ContainersException("PublishNeedsNetwork", ErrorKind.InvalidArgument,
                    $"-Publish needs {(paths.Rootless ? "-Network pasta or slirp4netns" : "a CNI network")}; the container's network is '{mode}', where nothing can be published.", mode,
                    paths.Rootless ? "Leave -Network out (rootless containers get pasta or slirp4netns), or leave -Publish out." : "Give -Network with a network name (Get-ContainerNetwork), or leave -Publish out.");
            if (o.IPAddress is not null || o.MacAddress is not null || o.NetworkAliases.Count > 0)
                throw new ContainersException("NetworkOptionNeedsNetwork", ErrorKind.InvalidArgument,
                    $"-IPAddress, -MacAddress and -NetworkAlias need a CNI network; the container's network is '{mode}'.", mode);
            return null;
        }
        if (paths.Rootless)
            throw new ContainersException("NetworkNeedsRoot", ErrorKind.NotSupported, $"CNI networks ('{mode}') need root.", mode,
                "Run as root, or use the default rootless networking.");
        var names = mode.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        foreach (string n in names) Networks.Plugins.EnsurePlugins(Networks.Resolve(n));
        if (o.IPAddress is not null && !IPAddress.TryParse(o.IPAddress, out _))
            throw new ContainersException("InvalidIPAddress", ErrorKind.InvalidArgument, $"'{o.IPAddress}' is not an IP address.", o.IPAddress);
        if (o.MacAddress is not null && !System.Text.RegularExpressions.Regex.IsMatch(o.MacAddress, "^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$"))
            throw new ContainersException("InvalidMacAddress", ErrorKind.InvalidArgument, $"'{o.MacAddress}' is not a MAC address (aa:bb:cc:dd:ee:ff).", o.MacAddress);
        return new ContainerNetworkSettings
        {
            Networks = names, IPAddress = o.IPAddress, MacAddress = o.MacAddress?.ToLowerInvariant(), Aliases = [.. o.NetworkAliases], Publish = publish,
        };
    }
}
