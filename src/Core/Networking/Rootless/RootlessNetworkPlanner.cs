using System.Globalization;
using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Networking.Rootless;

/// <summary>
/// Turns a rootless container's network mode and published ports into the <see cref="NetworkHelperPlan"/> Init runs:
/// pasta's or slirp4netns' full command line, host ports checked free (random ones picked), slirp4netns' forwards.
/// </summary>
/// <param name="searchPath">The PATH helpers are looked for in after helper_binaries_dir (null: this process's; a seam for tests).</param>
internal sealed class RootlessNetworkPlanner(ContainersConf config, string? searchPath = null)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<RootlessNetworkPlanner>();

    private IReadOnlyList<string> HelperDirs => config.HelperBinariesDirs ?? [];

    /// <summary>
    /// The network of a rootless container created without -Network: containers.conf's default_rootless_network_cmd, else
    /// pasta when installed, else slirp4netns, else <c>private</c> (loopback only, with a warning naming the package).
    /// </summary>
    public string DefaultNetwork()
    {
        if (config.DefaultRootlessNetworkCmd is { } configured)
            return configured is RootlessNetworkMode.Pasta or RootlessNetworkMode.Slirp4netns ? configured
                : throw new ContainersException("ContainersConfInvalid", ErrorKind.InvalidData,
                    $"containers.conf sets default_rootless_network_cmd = \"{configured}\", which is neither pasta nor slirp4netns.", configured, "Set it to \"pasta\" or \"slirp4netns\".");
        if (RootlessNetworkTools.TunProblem() is { } tun)
        {
            Log.Warning("The container gets a network namespace with loopback only: {Reason}", tun);
            return "private";
        }
        foreach (string helper in new[] { RootlessNetworkMode.Pasta, RootlessNetworkMode.Slirp4netns })
            if (RootlessNetworkTools.Find(helper, HelperDirs, searchPath) is not null) return helper;
        Log.Warning("Neither pasta nor slirp4netns is installed: the container gets a network namespace with loopback only. Install the Debian package passt for outbound networking.");
        return "private";
    }

    /// <summary>Checks the mode and its helper at create time (NetworkHelperNotFound names the package).</summary>
    public void Validate(string network, IReadOnlyList<PortMapping> ports)
    {
        var mode = RootlessNetworkMode.Parse(network);
        RootlessNetworkTools.Require(mode.Helper, HelperDirs, searchPath);
        if (RootlessNetworkTools.TunProblem() is { } tun)
            throw new ContainersException("TunDeviceUnavailable", ErrorKind.PermissionDenied, $"-Network {mode.Helper} needs a tap device: {tun}", "/dev/net/tun",
                "Make /dev/net/tun usable by every user (chmod 0666 /dev/net/tun, as udev sets it on Debian), or choose -Network private.");
        foreach (var m in ports)
        {
            if (m.Protocol == "sctp")
                throw new ContainersException("PublishProtocolNotSupported", ErrorKind.InvalidArgument, $"{mode.Helper} cannot forward sctp ({m}).", m.ToString(), "Publish tcp or udp ports.");
            if (mode.Helper == RootlessNetworkMode.Slirp4netns && m.HostIP?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
                throw new ContainersException("PublishProtocolNotSupported", ErrorKind.InvalidArgument, $"slirp4netns forwards IPv4 host addresses only ({m}).", m.ToString(), "Publish on an IPv4 address, or use -Network pasta.");
        }
    }

    /// <summary>
    /// The plan for one start, with every host port resolved (random ones picked now) and checked free. Files: pasta's pid
    /// file and slirp4netns' log in <paramref name="containerDir"/>, slirp4netns' API socket at <paramref name="apiSocket"/>.
    /// </summary>
    /// <param name="taken">Host ports (port, protocol) the helpers of this user's other running containers hold, with the
    /// holder's name: a helper's own descriptors cannot be read through /proc (pasta is not dumpable).</param>
    public (NetworkHelperPlan Plan, List<PortMapping> Published) Plan(string network, IReadOnlyList<PortMapping> ports, string containerDir, string apiSocket,
        IReadOnlyDictionary<(int, string), string> taken)
    {
        var mode = RootlessNetworkMode.Parse(network);
        Validate(network, ports);
        var published = new List<PortMapping>();
        foreach (var m in ports)
        {
            if (m.HostPort == 0)
            {
                // Random ports one by one: a range of random host ports need not be consecutive.
                foreach (var (_, container) in m.Ports())
                    published.Add(m with { HostPort = HostPorts.Random(m.Protocol, m.HostIP), ContainerPort = container, Range = 1 });
                continue;
            }
            foreach (var (host, _) in m.Ports())
            {
                if (taken.TryGetValue((host, m.Protocol), out string? holder)) throw HostPorts.InUse(host, m.Protocol, holder);
                HostPorts.EnsureFree(host, m.Protocol, m.HostIP);
            }
            published.Add(m);
        }
        var plan = new NetworkHelperPlan { Kind = mode.Helper, Path = RootlessNetworkTools.Require(mode.Helper, HelperDirs, searchPath) };
        if (mode.Helper == RootlessNetworkMode.Pasta) Pasta(plan, mode, published, containerDir);
        else Slirp(plan, mode, published, containerDir, apiSocket);
        return (plan, published);
    }

    private static void Pasta(NetworkHelperPlan plan, RootlessNetworkMode mode, List<PortMapping> published, string containerDir)
    {
        plan.PidFile = Path.Combine(containerDir, "pasta.pid");
        // Only the published ports, both ways: pasta's default ("auto") would forward every port the container or the
        // host listens on.
        var args = new List<string> { "--config-net", "--quiet", "--pid", plan.PidFile, "-T", "none", "-U", "none" };
        foreach (string proto in new[] { "tcp", "udp" })
        {
            var specs = published.Where(m => m.Protocol == proto).Select(PastaSpec).ToList();
            if (specs.Count == 0) specs.Add("none");
            foreach (string spec in specs) args.AddRange([proto == "tcp" ? "-t" : "-u", spec]);
        }
        if (!mode.AllowHostLoopback) args.Add("--no-map-gw");
        args.AddRange(mode.PastaOptions.Where(o => o != "--map-gw"));
        args.Add(NetworkHelperPlan.PidPlaceholder);
        plan.Args = args;
    }

    /// <summary>pasta's <c>[address/]host[-last]:container[-last]</c>.</summary>
    internal static string PastaSpec(PortMapping m)
    {
        string Span(int first) => m.Range == 1 ? first.ToString(CultureInfo.InvariantCulture) : $"{first}-{first + m.Range - 1}";
        return $"{(m.HostIP is { } ip ? ip + "/" : "")}{Span(m.HostPort)}:{Span(m.ContainerPort)}";
    }

    private static void Slirp(NetworkHelperPlan plan, RootlessNetworkMode mode, List<PortMapping> published, string containerDir, string apiSocket)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(apiSocket) > 107)
            throw new ContainersException("StatePathTooLong", ErrorKind.InvalidArgument, $"slirp4netns' API socket path {apiSocket} is longer than a unix socket allows (107 bytes).",
                apiSocket, "Point PSCONTAINERS_STATE_DIR (or XDG_RUNTIME_DIR) at a shorter directory.");
        plan.LogFile = Path.Combine(containerDir, "slirp4netns.log");
        plan.ApiSocket = apiSocket;
        var args = new List<string> { "--configure", $"--mtu={mode.Mtu.ToString(CultureInfo.InvariantCulture)}", "--ready-fd=3", $"--api-socket={apiSocket}" };
        if (!mode.AllowHostLoopback) args.Add("--disable-host-loopback");
        if (mode.EnableIpv6) args.Add("--enable-ipv6");
        if (mode.Cidr is { } cidr) args.Add($"--cidr={cidr}");
        // The sandbox keeps only /etc and /run of the host; it refuses a resolv.conf that links elsewhere.
        if (SandboxPossible()) args.AddRange(["--enable-sandbox", "--enable-seccomp"]);
        args.AddRange([NetworkHelperPlan.PidPlaceholder, "tap0"]);
        plan.Args = args;
        foreach (var m in published)
            foreach (var (host, container) in m.Ports())
                plan.Forwards.Add(new HostForward { Protocol = m.Protocol, HostAddress = m.HostIP?.ToString() ?? "0.0.0.0", HostPort = host, ContainerPort = container });
    }

    private static bool SandboxPossible()
    {
        var info = new FileInfo("/etc/resolv.conf");
        if (info.LinkTarget is not { } target) return true;
        string full = Path.GetFullPath(target, "/etc");
        return full.StartsWith("/etc/", StringComparison.Ordinal) || full.StartsWith("/run/", StringComparison.Ordinal);
    }
}
