using System.Net;
using System.Net.Sockets;
using Containers.Core.Errors;
using Containers.Core.Networking;
using Containers.Core.Networking.Rootless;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Networking;

/// <summary>
/// Rootless network modes and the helper's command line. The helpers are not run here (the Pester tests run them for
/// real); helper_binaries_dir points at a folder with files named pasta and slirp4netns, since only their presence counts.
/// </summary>
public sealed class RootlessNetworkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rootless-net-").FullName;

    public RootlessNetworkTests()
    {
        foreach (string helper in new[] { "pasta", "slirp4netns" }) File.WriteAllText(Path.Combine(_dir, helper), "");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private RootlessNetworkPlanner Planner(string? defaultCmd = null) => new(new ContainersConf(null, defaultCmd, [_dir]));

    private static readonly Dictionary<(int, string), string> NoneTaken = [];

    [Theory]
    [InlineData("pasta", "pasta", false, 0)]
    [InlineData("pasta:--map-gw", "pasta", true, 0)]
    [InlineData("slirp4netns", "slirp4netns", false, 65520)]
    [InlineData("slirp4netns:allow_host_loopback=true,mtu=1500", "slirp4netns", true, 1500)]
    public void ParsesModes(string network, string helper, bool hostLoopback, int mtu)
    {
        var m = RootlessNetworkMode.Parse(network);
        Assert.Equal(helper, m.Helper);
        Assert.Equal(hostLoopback, m.AllowHostLoopback);
        Assert.Equal(mtu, m.Mtu);
        Assert.True(RootlessNetworkMode.IsRootlessMode(network));
    }

    [Theory]
    [InlineData("pasta:-t,22")]
    [InlineData("pasta:--pid=/tmp/x")]
    [InlineData("pasta:--netns,/run/netns/x")]
    [InlineData("slirp4netns:mtu=9")]
    [InlineData("slirp4netns:cidr=fd00::/64")]
    [InlineData("slirp4netns:allow_host_loopback=yes")]
    [InlineData("slirp4netns:port_handler=rootlesskit")]
    public void RefusesOptionsItCannotHonour(string network)
    {
        var e = Assert.Throws<ContainersException>(() => RootlessNetworkMode.Parse(network));
        Assert.Equal("InvalidNetworkOption", e.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Theory]
    [InlineData("private")]
    [InlineData("pastanet")]
    [InlineData("container:pasta")]
    public void LeavesOtherNetworksAlone(string network) => Assert.False(RootlessNetworkMode.IsRootlessMode(network));

    [Fact]
    public void PastaForwardsOnlyThePublishedPortsAndKeepsTheHostLoopbackClosed()
    {
        var (plan, published) = Planner().Plan("pasta", PortMapping.ParseAll(["127.0.0.1::8080", "53/udp"]), _dir, "/unused", NoneTaken);
        Assert.Equal("pasta", plan.Kind);
        Assert.Equal(Path.Combine(_dir, "pasta"), plan.Path);
        Assert.Equal(NetworkHelperPlan.PidPlaceholder, plan.Args[^1]);
        // Not pasta's "auto" in either direction, and no way to the host's loopback through the gateway.
        Assert.Equal(["-T", "none", "-U", "none"], plan.Args.Skip(plan.Args.IndexOf("-T")).Take(4));
        Assert.Contains("--no-map-gw", plan.Args);
        int tcp = published[0].HostPort, udp = published[1].HostPort;
        Assert.NotEqual(0, tcp);
        Assert.Equal($"127.0.0.1/{tcp}:8080", plan.Args[plan.Args.IndexOf("-t") + 1]);
        Assert.Equal($"{udp}:53", plan.Args[plan.Args.IndexOf("-u") + 1]);
        Assert.Equal(Path.Combine(_dir, "pasta.pid"), plan.Args[plan.Args.IndexOf("--pid") + 1]);
    }

    [Fact]
    public void PastaWithoutPortsForwardsNone()
    {
        var (plan, _) = Planner().Plan("pasta:--map-gw,--mtu,1500", [], _dir, "/unused", NoneTaken);
        Assert.Equal("none", plan.Args[plan.Args.IndexOf("-t") + 1]);
        Assert.Equal("none", plan.Args[plan.Args.IndexOf("-u") + 1]);
        Assert.DoesNotContain("--no-map-gw", plan.Args);
        Assert.DoesNotContain("--map-gw", plan.Args); // ours, not pasta's (Debian 12's pasta does not know it)
        Assert.Equal(["--mtu", "1500"], plan.Args.Skip(plan.Args.IndexOf("--mtu")).Take(2));
    }

    [Fact]
    public void SlirpGetsEveryPortOfARangeAsAForward()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int free = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        string socket = Path.Combine(_dir, "s.sock");
        var (plan, _) = Planner().Plan("slirp4netns", PortMapping.ParseAll([$"127.0.0.1:{free}-{free + 1}:80-81"]), _dir, socket, NoneTaken);
        Assert.Contains("--disable-host-loopback", plan.Args);
        Assert.Contains("--ready-fd=3", plan.Args);
        Assert.Contains($"--api-socket={socket}", plan.Args);
        Assert.Equal([NetworkHelperPlan.PidPlaceholder, "tap0"], plan.Args[^2..]);
        Assert.Equal([(free, 80), (free + 1, 81)], plan.Forwards.Select(f => (f.HostPort, f.ContainerPort)));
        Assert.All(plan.Forwards, f => Assert.Equal("127.0.0.1", f.HostAddress));
    }

    [Fact]
    public void RefusesAHostPortInUseNamingWhoHoldsIt()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int busy = ((IPEndPoint)l.LocalEndpoint).Port;
        var e = Assert.Throws<ContainersException>(() => Planner().Plan("pasta", PortMapping.ParseAll([$"127.0.0.1:{busy}:80"]), _dir, "/unused", NoneTaken));
        Assert.Equal("HostPortInUse", e.ErrorId);
        Assert.Contains($"{busy}/tcp", e.Message, StringComparison.Ordinal);
        Assert.Contains($"(pid {Environment.ProcessId})", e.Message, StringComparison.Ordinal);

        var taken = new Dictionary<(int, string), string> { [(busy + 1, "tcp")] = "container web" };
        e = Assert.Throws<ContainersException>(() => Planner().Plan("pasta", PortMapping.ParseAll([$"{busy + 1}:80"]), _dir, "/unused", taken));
        Assert.Contains("by container web", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesWhatTheHelperCannotForward()
    {
        Assert.Equal("PublishProtocolNotSupported", Assert.Throws<ContainersException>(() => Planner().Validate("pasta", PortMapping.ParseAll(["80/sctp"]))).ErrorId);
        Assert.Equal("PublishProtocolNotSupported", Assert.Throws<ContainersException>(() => Planner().Validate("slirp4netns", PortMapping.ParseAll(["[::1]:8080:80"]))).ErrorId);
    }

    [Fact]
    public void NamesThePackageOfAMissingHelper()
    {
        File.Delete(Path.Combine(_dir, "slirp4netns"));
        var planner = new RootlessNetworkPlanner(new ContainersConf(null, null, [_dir]), searchPath: "/nonexistent");
        var e = Assert.Throws<ContainersException>(() => planner.Validate("slirp4netns", []));
        Assert.Equal("NetworkHelperNotFound", e.ErrorId);
        Assert.Contains("apt-get install slirp4netns", e.RecommendedAction, StringComparison.Ordinal);
        Assert.Equal("pasta", planner.DefaultNetwork());
    }

    [Fact]
    public void ReadsTheRootlessKeysOfContainersConfLaterFilesWinning()
    {
        string a = Path.Combine(_dir, "a.conf"), b = Path.Combine(_dir, "b.conf");
        File.WriteAllText(a, "[network]\ndefault_rootless_network_cmd = \"pasta\"\n[engine]\nhelper_binaries_dir = [\"/opt/a\", '/opt/b']\n");
        File.WriteAllText(b, "[network]\ndefault_network = \"podman\" # comment\ndefault_rootless_network_cmd = 'slirp4netns'\n");
        var conf = ContainersConf.Read([a, b, Path.Combine(_dir, "missing.conf")]);
        Assert.Equal("podman", conf.DefaultNetwork);
        Assert.Equal("slirp4netns", conf.DefaultRootlessNetworkCmd);
        Assert.Equal(["/opt/a", "/opt/b"], conf.HelperBinariesDirs!);
        Assert.Equal("slirp4netns", new RootlessNetworkPlanner(conf).DefaultNetwork());
    }

    [Fact]
    public void RefusesAnUnknownDefaultHelper()
    {
        var e = Assert.Throws<ContainersException>(() => Planner("vpnkit").DefaultNetwork());
        Assert.Equal("ContainersConfInvalid", e.ErrorId);
    }
}
