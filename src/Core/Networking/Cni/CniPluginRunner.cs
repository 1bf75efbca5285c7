using System.Diagnostics;
using System.Text.Json.Nodes;
using Containers.Core.Errors;

namespace Containers.Core.Networking.Cni;

/// <summary>
/// Runs one CNI plugin binary the way the CNI spec describes: the command and the container in environment variables
/// (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH), the network configuration on stdin,
/// a result (or an error object) on stdout.
/// </summary>
internal sealed class CniPluginRunner(IReadOnlyList<string> pluginDirs)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<CniPluginRunner>();

    public IReadOnlyList<string> PluginDirs { get; } = pluginDirs;

    /// <summary>The plugin's binary, or null when no plugin directory has it.</summary>
    public string? Find(string type) =>
        type.Contains('/') ? null : PluginDirs.Select(d => Path.Combine(d, type)).FirstOrDefault(File.Exists);

    /// <summary>Every plugin found in the plugin directories, by name.</summary>
    public IReadOnlyList<string> Available() =>
        PluginDirs.Where(Directory.Exists).SelectMany(Directory.EnumerateFiles).Select(Path.GetFileName).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Throws <c>CniPluginNotFound</c> unless every plugin of the network exists.</summary>
    public void EnsurePlugins(CniNetwork network)
    {
        foreach (string type in network.PluginTypes)
            if (Find(type) is null) throw NotFound(type, network.Name);
    }

    private ContainersException NotFound(string type, string network) =>
        new("CniPluginNotFound", ErrorKind.NotFound, $"The CNI plugin '{type}' of network '{network}' is not in {string.Join(", ", PluginDirs)}.", type,
            "Install the Debian package containernetworking-plugins (apt-get install containernetworking-plugins), or set PSCONTAINERS_CNI_PLUGIN_DIR to the directory that has it.");

    /// <summary>Runs the plugin; returns its stdout as JSON (null when it printed nothing, as DEL does). A failure is <c>CniPluginFailed</c>.</summary>
    public async Task<JsonObject?> RunAsync(string command, JsonObject config, string containerId, string netns, string ifName, string? args, string network, CancellationToken ct)
    {
        string type = (string?)config["type"] ?? "";
        string binary = Find(type) ?? throw NotFound(type, network);
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["CNI_COMMAND"] = command;
        psi.Environment["CNI_CONTAINERID"] = containerId;
        psi.Environment["CNI_NETNS"] = netns;
        psi.Environment["CNI_IFNAME"] = ifName;
        psi.Environment["CNI_PATH"] = string.Join(':', PluginDirs);
        if (args is not null) psi.Environment["CNI_ARGS"] = args;
        // iptables lives in /usr/sbin; a caller's PATH without it would fail portmap and firewall obscurely.
        string path = psi.Environment.TryGetValue("PATH", out var p) && !string.IsNullOrEmpty(p) ? p : "/usr/bin:/bin";
        if (!path.Split(':').Contains("/usr/sbin")) psi.Environment["PATH"] = path + ":/usr/sbin:/sbin";

        var sw = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.StandardInput.WriteAsync(config.ToJsonString()).ConfigureAwait(false);
        process.StandardInput.Close();
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        string output = await stdout.ConfigureAwait(false), errors = await stderr.ConfigureAwait(false);
        Log.Debug("CNI {Command} {Plugin} for {Network}/{IfName}: exit {Exit} in {Ms} ms", command, type, network, ifName, process.ExitCode, sw.ElapsedMilliseconds);
        JsonObject? json = null;
        try { json = string.IsNullOrWhiteSpace(output) ? null : JsonNode.Parse(output) as JsonObject; }
        catch (System.Text.Json.JsonException) { }
        if (process.ExitCode == 0) return json;
        string message = json?["msg"] is { } msg ? $"{msg}{(json["details"] is { } d && d.ToString().Length > 0 ? ": " + d : "")} (code {json["code"]})" : (errors + output).Trim();
        throw new ContainersException("CniPluginFailed", ErrorKind.ResourceUnavailable,
            $"The CNI plugin '{type}' failed {command} on network '{network}': {message}", network,
            "Read the plugin's message; Get-ContainerNetwork shows the network's plugins.");
    }
}
