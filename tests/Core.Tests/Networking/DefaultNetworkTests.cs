using System.Diagnostics;
using System.Net;
using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Networking;

namespace Containers.Core.Tests.Networking;

/// <summary>The default bridge network: made on first use in the CNI directory, once under concurrent first uses, on a subnet no network and no host route holds.</summary>
public sealed class DefaultNetworkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cni-default-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string CniDir => Path.Combine(_dir, "net.d");
    private string ConfFile => Path.Combine(_dir, "containers.conf");

    private NetworkStore Store() => new(ContainerPaths.FromEnvironment(_ => null, 0) with { CniConfigDir = CniDir, ContainersConfFiles = [ConfFile] });

    /// <summary>The host's IPv4 routes as ip(8) prints them (the oracle for what /proc/net/route is read as).</summary>
    private static HashSet<string> IpRoutes()
    {
        var psi = new ProcessStartInfo("ip", ["-4", "route", "show", "table", "main"]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).Where(d => d != "default")
            .Select(d => d.Contains('/', StringComparison.Ordinal) ? d : d + "/32")];
    }

    [Fact]
    public void HostRoutesAreWhatIpRoutePrints()
    {
        // Other tests add and remove bridges at the same time: compare a reading that did not change around ip's.
        for (int attempt = 0; ; attempt++)
        {
            var before = DefaultNetwork.HostRoutes().Select(r => r.ToString()).ToHashSet();
            var ip = IpRoutes();
            var after = DefaultNetwork.HostRoutes().Select(r => r.ToString()).ToHashSet();
            if (!before.SetEquals(after) && attempt < 5) continue;
            Assert.Equal(ip.Order(), after.Order());
            Assert.NotEmpty(after); // at least the routes of this machine's interfaces
            return;
        }
    }

    [Fact]
    public void FirstUseMakesABridgeOnAFreeSubnetAndLaterUsesReuseIt()
    {
        Directory.CreateDirectory(CniDir);
        File.WriteAllText(Path.Combine(CniDir, "90-taken.conflist"),
            """{ "cniVersion": "0.4.0", "name": "taken", "plugins": [ { "type": "bridge", "bridge": "cni-podman9", "ipam": { "type": "host-local", "ranges": [[{ "subnet": "10.90.0.0/16" }]] } } ] }""");
        var store = Store();
        Assert.Null(store.TryFind(DefaultNetwork.Name));

        var n = store.Resolve(DefaultNetwork.Name);

        Assert.Equal(Path.Combine(CniDir, "pscontainers.conflist"), n.File);
        Assert.Equal(["bridge", "portmap", "firewall", "tuning"], n.PluginTypes);
        Assert.StartsWith("pscontainers", n.BridgeName);
        var subnet = Assert.Single(n.Subnets);
        Assert.Equal(16, subnet.PrefixLength);
        Assert.Equal(10, subnet.BaseAddress.GetAddressBytes()[0]);
        Assert.InRange(subnet.BaseAddress.GetAddressBytes()[1], 91, 99); // 10.90 is the other file's
        foreach (string route in IpRoutes()) Assert.False(NetworkStore.Overlaps(IPNetwork.Parse(route), subnet), $"{subnet} overlaps the host route {route}");
        Assert.NotEqual(new IPNetwork(IPAddress.Parse("10.88.0.0"), 16), subnet); // podman's default

        var again = Store().Resolve(DefaultNetwork.Name);
        Assert.Equal(subnet, Assert.Single(again.Subnets));
        Assert.Single(Directory.GetFiles(CniDir, "pscontainers*"));
    }

    [Fact]
    public void ConcurrentFirstUsesMakeOneNetwork()
    {
        var subnets = new System.Collections.Concurrent.ConcurrentBag<IPNetwork>();
        using var go = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, 6).Select(_ => new Thread(() => { go.Wait(); subnets.Add(Assert.Single(Store().Resolve(DefaultNetwork.Name).Subnets)); })).ToList();
        threads.ForEach(t => t.Start());
        go.Set();
        threads.ForEach(t => t.Join());
        Assert.Equal(6, subnets.Count);
        Assert.Single(subnets.Distinct());
        Assert.Single(Directory.GetFiles(CniDir, "*.conflist"));
    }

    [Fact]
    public void ContainersConfNamesTheDefaultAndItsSubnet()
    {
        File.WriteAllText(ConfFile, "[network]\ndefault_network = \"corp\"\ndefault_subnet = \"10.123.4.0/24\" # the admin's\n");
        var store = Store();
        var n = store.Resolve("corp");
        Assert.Equal("10.123.4.0/24", Assert.Single(n.Subnets).ToString());
        Assert.Equal("10.123.4.1", (string?)n.Plugins[0]["ipam"]!["ranges"]![0]![0]!["gateway"]);
        // Only the default is made on first use: another unknown name stays an error, and pscontainers is no longer special.
        Assert.Equal("NetworkNotFound", Assert.Throws<ContainersException>(() => store.Resolve("other")).ErrorId);
        Assert.Equal("NetworkNotFound", Assert.Throws<ContainersException>(() => store.Resolve(DefaultNetwork.Name)).ErrorId);
        Assert.Single(Directory.GetFiles(CniDir, "*.conflist"));
    }

    [Fact]
    public void AMalformedFileOfTheDefaultNetworkIsReportedNotReplaced()
    {
        Directory.CreateDirectory(CniDir);
        string file = Path.Combine(CniDir, "pscontainers.conflist");
        File.WriteAllText(file, "{ \"name\": \"pscontainers\",\n  \"plugins\": [ oops ] }");
        var e = Assert.Throws<ContainersException>(() => Store().Resolve(DefaultNetwork.Name));
        Assert.Equal("CniConfigInvalid", e.ErrorId);
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
        Assert.Contains("oops", File.ReadAllText(file), StringComparison.Ordinal);
    }

    [Fact]
    public void ADefaultSubnetThatOverlapsOrNoFreeSubnetIsATypedErrorAndWritesNothing()
    {
        Directory.CreateDirectory(CniDir);
        File.WriteAllText(Path.Combine(CniDir, "wide.conflist"),
            """{ "cniVersion": "0.4.0", "name": "wide", "plugins": [ { "type": "bridge", "ipam": { "type": "host-local", "ranges": [[{ "subnet": "10.64.0.0/10" }]] } } ] }""");
        var e = Assert.Throws<ContainersException>(() => Store().Resolve(DefaultNetwork.Name));
        Assert.Equal("NoFreeSubnet", e.ErrorId);
        Assert.Contains("default_subnet", e.RecommendedAction, StringComparison.Ordinal);

        File.WriteAllText(ConfFile, "[network]\ndefault_subnet = \"10.100.0.0/16\"\n");
        Assert.Equal("SubnetOverlap", Assert.Throws<ContainersException>(() => Store().Resolve(DefaultNetwork.Name)).ErrorId);
        Assert.Equal(["wide.conflist"], Directory.GetFiles(CniDir, "*.conflist").Select(Path.GetFileName));
    }
}
