using System.Text.Json.Nodes;
using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Networking;
using Containers.Core.Networking.Cni;

namespace Containers.Core.Tests.Networking;

/// <summary>Configuration lists: parsing (podman's own file shape), what each plugin reads on stdin, and the network store in a temp dir.</summary>
public sealed class CniNetworkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cni-conf-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private NetworkStore Store() => new(ContainerPaths.FromEnvironment(_ => null, 0) with { CniConfigDir = _dir });

    private const string Podman = """
        {
          "cniVersion": "0.4.0",
          "name": "podman",
          "plugins": [
            { "type": "bridge", "bridge": "cni-podman0", "isGateway": true, "ipMasq": true,
              "ipam": { "type": "host-local", "routes": [{ "dst": "0.0.0.0/0" }], "ranges": [[{ "subnet": "10.88.0.0/16", "gateway": "10.88.0.1" }]] } },
            { "type": "portmap", "capabilities": { "portMappings": true } },
            { "type": "firewall" },
            { "type": "tuning" }
          ]
        }
        """;

    [Fact]
    public void ReadsPodmansDefaultList()
    {
        var n = CniNetwork.Parse(Podman, "/etc/cni/net.d/87-podman-bridge.conflist");
        Assert.Equal("podman", n.Name);
        Assert.Equal(["bridge", "portmap", "firewall", "tuning"], n.PluginTypes);
        Assert.Equal("10.88.0.0/16", Assert.Single(n.Subnets).ToString());
        Assert.Equal("cni-podman0", n.BridgeName);
    }

    [Fact]
    public void ReadsASinglePluginConfAsAListOfOne()
    {
        var n = CniNetwork.Parse("""{ "cniVersion": "0.3.1", "name": "one", "type": "macvlan", "ipam": { "type": "host-local", "subnet": "10.9.0.0/24" } }""", null);
        Assert.Equal(["macvlan"], n.PluginTypes);
        Assert.Equal("10.9.0.0/24", Assert.Single(n.Subnets).ToString());
        Assert.Null(n.Plugins[0]["name"]);
    }

    [Theory]
    [InlineData("{\n  \"name\": \"x\",\n  \"plugins\": [ oops ]\n}", "line 3")]
    [InlineData("[1]", "not a JSON object")]
    [InlineData("{ \"plugins\": [ { \"type\": \"bridge\" } ] }", "no \"name\"")]
    [InlineData("{ \"name\": \"x\", \"plugins\": [] }", "non-empty")]
    [InlineData("{ \"name\": \"x\", \"plugins\": [ { \"bridge\": \"b\" } ] }", "\"type\"")]
    public void AMalformedListNamesTheFileAndWhy(string text, string why)
    {
        var e = Assert.Throws<ContainersException>(() => CniNetwork.Parse(text, "/cni/x.conflist"));
        Assert.Equal("CniConfigInvalid", e.ErrorId);
        Assert.Contains("/cni/x.conflist", e.Message);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void EachPluginGetsTheListsNameVersionPrevResultAndOnlyItsCapabilities()
    {
        var list = CniNetwork.Parse(Podman, null);
        var a = new CniAttachment
        {
            Network = "podman", Config = list.Json,
            RuntimeConfig = new JsonObject { ["portMappings"] = new JsonArray(new JsonObject { ["hostPort"] = 8080 }), ["mac"] = "aa:bb:cc:dd:ee:ff" },
        };
        var prev = new JsonObject { ["cniVersion"] = "0.4.0", ["ips"] = new JsonArray() };
        var portmap = CniExecutor.PluginConfig(a, list.Plugins[1], prev);
        Assert.Equal("podman", (string?)portmap["name"]);
        Assert.Equal("0.4.0", (string?)portmap["cniVersion"]);
        Assert.Equal(8080, (int)portmap["runtimeConfig"]!["portMappings"]![0]!["hostPort"]!);
        Assert.Null(portmap["runtimeConfig"]!["mac"]); // portmap does not declare the mac capability
        Assert.NotNull(portmap["prevResult"]!["ips"]);
        var bridge = CniExecutor.PluginConfig(a, list.Plugins[0], null);
        Assert.Null(bridge["runtimeConfig"]);
        Assert.Null(bridge["prevResult"]);
        Assert.Null(list.Plugins[1]["name"]); // the stored list is not changed
    }

    [Theory]
    [InlineData("""{ "type": "tuning" }""", "{}", true)]
    [InlineData("""{ "type": "tuning", "name": "n", "cniVersion": "0.4.0" }""", "{}", true)]
    [InlineData("""{ "type": "tuning", "capabilities": { "mac": true } }""", "{}", true)]
    [InlineData("""{ "type": "tuning", "capabilities": { "mac": true } }""", """{ "mac": "aa:bb:cc:dd:ee:ff" }""", false)]
    [InlineData("""{ "type": "tuning", "sysctl": { "net.ipv4.conf.eth0.rp_filter": "0" } }""", "{}", false)]
    [InlineData("""{ "type": "tuning", "mtu": 1400 }""", "{}", false)]
    [InlineData("""{ "type": "firewall" }""", "{}", false)]
    public void OnlyATuningWithNothingToTuneIsSkipped(string plugin, string runtimeConfig, bool idle) =>
        Assert.Equal(idle, CniExecutor.IsIdleTuning(JsonNode.Parse(plugin)!.AsObject(), JsonNode.Parse(runtimeConfig)!.AsObject()));

    [Fact]
    public void CreateWritesAListPodmanWouldWriteAndRefusesOverlaps()
    {
        var store = Store();
        var n = store.Create(new NetworkCreateOptions { Name = "back", Subnet = "10.77.3.0/24", IPRange = "10.77.3.128/25", Labels = new Dictionary<string, string> { ["team"] = "db" } });
        Assert.Equal(Path.Combine(_dir, "back.conflist"), n.File);
        Assert.Equal(["bridge", "portmap", "firewall", "tuning"], n.PluginTypes);
        var range = n.Plugins[0]["ipam"]!["ranges"]![0]![0]!;
        Assert.Equal("10.77.3.1", (string?)range["gateway"]);
        Assert.Equal("10.77.3.129", (string?)range["rangeStart"]);
        Assert.Equal("10.77.3.254", (string?)range["rangeEnd"]);
        Assert.Equal("db", n.Labels["team"]);
        Assert.StartsWith("cni-podman", n.BridgeName);

        var e = Assert.Throws<ContainersException>(() => store.Create(new NetworkCreateOptions { Name = "wide", Subnet = "10.77.0.0/16" }));
        Assert.Equal("SubnetOverlap", e.ErrorId);
        Assert.Contains("back", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "wide.conflist")));
        Assert.Equal("NetworkExists", Assert.Throws<ContainersException>(() => store.Create(new NetworkCreateOptions { Name = "back", Subnet = "10.78.0.0/24" })).ErrorId);
        Assert.Equal("InvalidGateway", Assert.Throws<ContainersException>(() => store.Create(new NetworkCreateOptions { Name = "g", Subnet = "10.79.0.0/24", Gateway = "10.80.0.1" })).ErrorId);
        Assert.Equal("InvalidIPRange", Assert.Throws<ContainersException>(() => store.Create(new NetworkCreateOptions { Name = "r", Subnet = "10.79.0.0/24", IPRange = "10.80.0.0/25" })).ErrorId);
        Assert.Equal("InvalidSubnet", Assert.Throws<ContainersException>(() => store.Create(new NetworkCreateOptions { Name = "s", Subnet = "10.79.0.0/33" })).ErrorId);
        Assert.Equal("InvalidNetworkName", Assert.Throws<ContainersException>(() => store.Create(new NetworkCreateOptions { Name = "../x" })).ErrorId);
        Assert.Single(Directory.GetFiles(_dir, "*.conflist"));
    }

    [Fact]
    public void WithoutASubnetTheFirstFree1089SlashTwentyFourIsTakenAndInternalHasNoRouteOrMasquerade()
    {
        var store = Store();
        File.WriteAllText(Path.Combine(_dir, "87-podman.conflist"), Podman.Replace("10.88.0.0/16", "10.89.0.0/24", StringComparison.Ordinal));
        var n = store.Create(new NetworkCreateOptions { Name = "auto", Internal = true });
        Assert.Equal("10.89.1.0/24", Assert.Single(n.Subnets).ToString());
        Assert.False((bool)n.Plugins[0]["ipMasq"]!);
        Assert.False((bool)n.Plugins[0]["isGateway"]!);
        Assert.Null(n.Plugins[0]["ipam"]!["routes"]);
        Assert.NotEqual("cni-podman0", n.BridgeName);
    }

    [Fact]
    public void FindReportsAMalformedFileOfThatNameElseNotFound()
    {
        File.WriteAllText(Path.Combine(_dir, "bad.conflist"), "{ \"name\": ");
        var store = Store();
        Assert.Equal("CniConfigInvalid", Assert.Throws<ContainersException>(() => store.Find("bad")).ErrorId);
        Assert.Equal("NetworkNotFound", Assert.Throws<ContainersException>(() => store.Find("other")).ErrorId);
        Assert.Single(store.Load().Invalid);
    }

    [Fact]
    public void ContainersConfDefaultNetworkLaterFileWins()
    {
        string a = Path.Combine(_dir, "a.conf"), b = Path.Combine(_dir, "b.conf");
        File.WriteAllText(a, "[containers]\ndefault_network = \"wrong-table\"\n[network]\ndefault_network = \"first\"\n");
        File.WriteAllText(b, "# admin\n[network]\n  default_network = 'second' # comment\n[engine]\ndefault_network = \"no\"\n");
        Assert.Equal("second", ContainersConf.Read([a, b, Path.Combine(_dir, "missing.conf")]).DefaultNetwork);
        Assert.Equal("first", ContainersConf.Read([a]).DefaultNetwork);
        Assert.Null(ContainersConf.Read([Path.Combine(_dir, "missing.conf")]).DefaultNetwork);
    }
}
