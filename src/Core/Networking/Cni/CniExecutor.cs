using System.Text.Json.Nodes;
using Containers.Core.Errors;

namespace Containers.Core.Networking.Cni;

/// <summary>
/// One container's interface on one network, as ADD made it: what DEL and CHECK need later (the configuration list
/// as it was, the runtime arguments and the result), kept in the container's own directory (<c>networks.json</c>, see ContainerNetworking).
/// </summary>
internal sealed class CniAttachment
{
    public string Network { get; set; } = "";
    public string IfName { get; set; } = "eth0";
    /// <summary>The configuration list at ADD time: DEL works with it even after the network's file is gone.</summary>
    public JsonObject Config { get; set; } = [];
    /// <summary>Capability arguments (portMappings ...), given only to plugins that declare the capability.</summary>
    public JsonObject RuntimeConfig { get; set; } = [];
    /// <summary>CNI_ARGS (<c>IgnoreUnknown=1;IP=...;MAC=...</c>), or null.</summary>
    public string? Args { get; set; }
    /// <summary>The list's result of ADD (the last plugin's), given to DEL and CHECK as prevResult.</summary>
    public JsonObject? Result { get; set; }
    /// <summary>Host ports this attachment published (random ones resolved), as <see cref="PortMapping.ToSpec"/> writes them.</summary>
    public List<string> Ports { get; set; } = [];
    /// <summary>Names peers on the network may use for this container (its name and -NetworkAlias).</summary>
    public List<string> Aliases { get; set; } = [];

    /// <summary>The addresses the result gave (without prefix length).</summary>
    public IEnumerable<string> Addresses =>
        (Result?["ips"] as JsonArray ?? []).OfType<JsonObject>().Select(ip => ((string?)ip["address"])?.Split('/')[0]).OfType<string>();
}

/// <summary>Runs a configuration list: ADD plugin by plugin chaining prevResult; DEL in reverse with the cached result; CHECK.</summary>
internal sealed class CniExecutor(CniPluginRunner runner)
{
    /// <summary>ADD through every plugin; a failure DELs what the earlier plugins did before it is thrown.</summary>
    public async Task AddAsync(CniAttachment a, string containerId, string netns, CancellationToken ct)
    {
        JsonObject? prev = null;
        try
        {
            foreach (var plugin in Plugins(a))
                prev = await runner.RunAsync("ADD", PluginConfig(a, plugin, prev), containerId, netns, a.IfName, a.Args, a.Network, ct).ConfigureAwait(false) ?? prev;
        }
        catch (ContainersException)
        {
            a.Result = prev;
            await DelAsync(a, containerId, netns, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        a.Result = prev;
    }

    /// <summary>DEL through every plugin in reverse order. Every plugin is asked even when one fails; the first failure is thrown at the end.</summary>
    public async Task DelAsync(CniAttachment a, string containerId, string netns, CancellationToken ct)
    {
        ContainersException? first = null;
        foreach (var plugin in Plugins(a).Reverse())
        {
            try { await runner.RunAsync("DEL", PluginConfig(a, plugin, UsesPrevResultOnDel(a) ? a.Result : null), containerId, netns, a.IfName, a.Args, a.Network, ct).ConfigureAwait(false); }
            catch (ContainersException e) { first ??= e; }
        }
        if (first is not null) throw first;
    }

    /// <summary>CHECK (CNI 0.4.0 and later): every plugin verifies what ADD made is still in place.</summary>
    public async Task CheckAsync(CniAttachment a, string containerId, string netns, CancellationToken ct)
    {
        if (!UsesPrevResultOnDel(a)) return;
        foreach (var plugin in Plugins(a))
            await runner.RunAsync("CHECK", PluginConfig(a, plugin, a.Result), containerId, netns, a.IfName, a.Args, a.Network, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The plugins to run, in list order, without a <c>tuning</c> that has nothing to tune: podman's lists (and ours) end
    /// with a bare one, whose ADD and DEL are two process runs that change nothing and pass the result through.
    /// </summary>
    private static IEnumerable<JsonObject> Plugins(CniAttachment a) =>
        (a.Config["plugins"] as JsonArray ?? []).OfType<JsonObject>().Where(p => !IsIdleTuning(p, a.RuntimeConfig));

    /// <summary>A tuning plugin with no setting of its own (sysctl, mac, mtu, promisc ...) and no capability argument to apply.</summary>
    internal static bool IsIdleTuning(JsonObject plugin, JsonObject runtimeConfig) =>
        (string?)plugin["type"] == "tuning"
        && plugin.All(kv => kv.Key is "type" or "name" or "cniVersion"
            || (kv.Key == "capabilities" && kv.Value is JsonObject caps && !caps.Any(c => c.Value is JsonValue v && v.TryGetValue(out bool on) && on && runtimeConfig[c.Key] is not null)));

    /// <summary>0.1-0.3 plugins know no prevResult on DEL and no CHECK.</summary>
    private static bool UsesPrevResultOnDel(CniAttachment a) =>
        (string?)a.Config["cniVersion"] is not { } v || !(v.StartsWith("0.1", StringComparison.Ordinal) || v.StartsWith("0.2", StringComparison.Ordinal) || v.StartsWith("0.3", StringComparison.Ordinal));

    /// <summary>What one plugin reads on stdin: its own object plus the list's name and version, prevResult and its capabilities' runtimeConfig.</summary>
    internal static JsonObject PluginConfig(CniAttachment a, JsonObject plugin, JsonObject? prev)
    {
        var conf = plugin.DeepClone().AsObject();
        conf["name"] = a.Network;
        conf["cniVersion"] = a.Config["cniVersion"]?.DeepClone() ?? "0.4.0";
        conf.Remove("prevResult");
        if (prev is not null) conf["prevResult"] = prev.DeepClone();
        var runtime = new JsonObject();
        if (plugin["capabilities"] is JsonObject caps)
            foreach (var (key, enabled) in caps)
                if (enabled is JsonValue v && v.TryGetValue(out bool on) && on && a.RuntimeConfig[key] is { } value)
                    runtime[key] = value.DeepClone();
        conf.Remove("runtimeConfig");
        if (runtime.Count > 0) conf["runtimeConfig"] = runtime;
        return conf;
    }
}
