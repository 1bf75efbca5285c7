using Containers.Core.Errors;
using Containers.Core.Networking;
using Containers.Core.Networking.Cni;

namespace Containers.Core.Runtime;

/// <summary>The CNI network verbs (New/Get/Remove/Connect/Disconnect-ContainerNetwork) over <see cref="ContainerNetworking"/>.</summary>
public sealed partial class ContainerRuntime
{
    public ContainerNetwork CreateNetwork(NetworkCreateOptions options)
    {
        if (_paths.Rootless)
            throw new ContainersException("NetworkNeedsRoot", ErrorKind.PermissionDenied, "CNI networks are made by root (they write to the CNI configuration directory and the host's iptables).", options.Name);
        return Describe(Networking.Networks.Create(options), []);
    }

    /// <summary>Every network that loads; <paramref name="invalid"/> gets the files that do not (file and line).</summary>
    public List<ContainerNetwork> ListNetworks(out List<ContainersException> invalid)
    {
        var (networks, bad) = Networking.Networks.Load();
        invalid = bad;
        var all = Store.List();
        return networks.Select(n => Describe(n, all)).ToList();
    }

    /// <summary>Deletes the network's file. In use by a container: refused, unless <paramref name="force"/>, which stops the running ones first (their records keep the name).</summary>
    public async Task RemoveNetworkAsync(string name, bool force, CancellationToken ct)
    {
        var n = Networking.Networks.Find(name);
        var users = Networking.ContainersOn(n.Name);
        if (users.Count > 0 && !force)
            throw new ContainersException("NetworkInUse", ErrorKind.InvalidState,
                $"Network '{n.Name}' is used by {string.Join(", ", users)}.", n.Name, "Remove those containers first, or use -Force to stop them and remove the network.");
        foreach (string user in users)
            await StopAsync(user, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        Networking.Networks.Delete(n);
    }

    public async Task<Container> ConnectNetworkAsync(string nameOrId, string network, IReadOnlyList<string> aliases, CancellationToken ct)
    {
        var r = Store.Get(nameOrId);
        using var lk = await Store.LockContainerAsync(r.Id, ct).ConfigureAwait(false);
        if (!Inspect(r).State.IsActive())
            throw new ContainersException("ContainerNotRunning", ErrorKind.InvalidState, $"Container {r.Name} is not running.", r.Name, "Start it first.");
        await Networking.ConnectAsync(r, network, aliases, ct).ConfigureAwait(false);
        return Inspect(r);
    }

    public async Task<Container> DisconnectNetworkAsync(string nameOrId, string network, CancellationToken ct)
    {
        var r = Store.Get(nameOrId);
        using var lk = await Store.LockContainerAsync(r.Id, ct).ConfigureAwait(false);
        await Networking.DisconnectAsync(r, network, ct).ConfigureAwait(false);
        return Inspect(r);
    }

    private ContainerNetwork Describe(CniNetwork n, List<ContainerRecord> all)
    {
        var plugins = n.Plugins;
        var first = plugins.Count > 0 ? plugins[0] : null;
        return new ContainerNetwork
        {
            Name = n.Name,
            Driver = (string?)first?["type"] ?? "",
            Subnets = n.Subnets.Select(s => s.ToString()).ToList(),
            Plugins = n.PluginTypes,
            Bridge = n.BridgeName,
            Internal = first?["isGateway"] is System.Text.Json.Nodes.JsonValue g && g.TryGetValue(out bool gateway) && !gateway,
            Labels = n.Labels,
            File = n.File ?? "",
            Containers = Networking.ContainersOn(n.Name, all),
        };
    }
}
