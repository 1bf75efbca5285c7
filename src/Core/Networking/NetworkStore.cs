using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Networking.Cni;

namespace Containers.Core.Networking;

/// <summary>
/// The CNI networks of the configuration directory (shared with podman 4): list, find by name, write a new
/// configuration list podman 4.3 would write (bridge + host-local + portmap + firewall + tuning), delete one.
/// </summary>
internal sealed class NetworkStore(ContainerPaths paths)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<NetworkStore>();
    private static readonly string[] Extensions = [".conflist", ".conf", ".json"];
    public static readonly string[] Drivers = ["bridge", "macvlan", "ipvlan"];

    public string ConfigDir { get; } = paths.CniConfigDir;
    public CniPluginRunner Plugins { get; } = new(paths.CniPluginDirs);

    /// <summary>Every network that loads, in file-name order (libcni's); files that do not load come back as errors.</summary>
    public (List<CniNetwork> Networks, List<ContainersException> Invalid) Load()
    {
        var networks = new List<CniNetwork>();
        var invalid = new List<ContainersException>();
        if (!Directory.Exists(ConfigDir)) return (networks, invalid);
        foreach (string file in Directory.EnumerateFiles(ConfigDir).Where(f => Extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal))
        {
            try
            {
                var n = CniNetwork.Load(file);
                if (networks.Any(x => x.Name == n.Name)) Log.Debug("Network {Name} of {File} is already defined by an earlier file; ignored", n.Name, file);
                else networks.Add(n);
            }
            catch (ContainersException e) { invalid.Add(e); }
            catch (IOException e) { Log.Warning("Cannot read {File}: {Reason}", file, e.Message); }
        }
        return (networks, invalid);
    }

    public List<CniNetwork> List() => Load().Networks;

    public CniNetwork? TryFind(string name) => List().FirstOrDefault(n => n.Name == name);

    /// <summary>The network, or <c>NetworkNotFound</c>; a malformed file of that name is reported as itself (file and line).</summary>
    public CniNetwork Find(string name)
    {
        var (networks, invalid) = Load();
        if (networks.FirstOrDefault(n => n.Name == name) is { } found) return found;
        if (invalid.FirstOrDefault(e => e.Target is string f && Path.GetFileNameWithoutExtension(f) == name) is { } bad) throw bad;
        throw new ContainersException("NetworkNotFound", ErrorKind.NotFound, $"There is no network named '{name}' in {ConfigDir}.", name,
            "Get-ContainerNetwork lists the networks; New-ContainerNetwork makes one.");
    }

    /// <summary>
    /// The network by name, for a container to join. The default network (containers.conf's <c>default_network</c>, else
    /// <see cref="DefaultNetwork.Name"/>) is made when it does not exist yet, under the directory's lock: of two first
    /// uses at once, one makes it and the other finds it.
    /// </summary>
    public CniNetwork Resolve(string name)
    {
        if (TryFind(name) is { } found) return found;
        var conf = ContainersConf.Read(paths.ContainersConfFiles);
        if (name != (conf.DefaultNetwork ?? DefaultNetwork.Name)) return Find(name);
        Directory.CreateDirectory(ConfigDir);
        using var lk = LockDirectory();
        try { return Find(name); } // another first use made it meanwhile; a malformed file of that name is reported as itself
        catch (ContainersException e) when (e.ErrorId == "NetworkNotFound") { }
        Log.Information("Making the default network {Name} on first use", name);
        return CreateLocked(new NetworkCreateOptions { Name = name, Subnet = conf.DefaultSubnet }, DefaultNetwork.Subnets(), DefaultNetwork.BridgePrefix);
    }

    /// <summary>Writes a new configuration list; refuses a taken name, an overlapping subnet or a gateway outside it.</summary>
    public CniNetwork Create(NetworkCreateOptions o)
    {
        Directory.CreateDirectory(ConfigDir);
        using var lk = LockDirectory();
        return CreateLocked(o, PodmanSubnets(), "cni-podman");
    }

    private FileLock LockDirectory() => FileLock.Acquire(Path.Combine(ConfigDir, "cni.lock"));

    private CniNetwork CreateLocked(NetworkCreateOptions o, IEnumerable<IPNetwork> candidates, string bridgePrefix)
    {
        if (!NameRule(o.Name))
            throw new ContainersException("InvalidNetworkName", ErrorKind.InvalidArgument,
                $"'{o.Name}' is not a valid network name: use letters, digits, '_', '.' and '-', starting with a letter or digit.", o.Name);
        if (!Drivers.Contains(o.Driver))
            throw new ContainersException("InvalidNetworkDriver", ErrorKind.InvalidArgument, $"'{o.Driver}' is not a driver; use bridge, macvlan or ipvlan.", o.Driver);
        var existing = List();
        if (existing.Any(n => n.Name == o.Name) || Extensions.Any(e => File.Exists(Path.Combine(ConfigDir, o.Name + e))))
            throw new ContainersException("NetworkExists", ErrorKind.AlreadyExists, $"A network named '{o.Name}' already exists in {ConfigDir}.", o.Name,
                "Choose another -Name, or remove the network first.");
        var taken = existing.SelectMany(n => n.Subnets.Select(s => (Net: n, Subnet: s))).ToList();
        IPNetwork subnet = o.Subnet is null ? FreeSubnet(candidates, [.. taken.Select(t => t.Subnet), .. DefaultNetwork.HostRoutes()]) : ParseSubnet(o.Subnet);
        if (taken.FirstOrDefault(t => Overlaps(t.Subnet, subnet)) is { Net: not null } clash)
            throw new ContainersException("SubnetOverlap", ErrorKind.InvalidArgument,
                $"The subnet {subnet} overlaps {clash.Subnet} of network '{clash.Net.Name}' ({clash.Net.File}).", o.Subnet ?? subnet.ToString(),
                "Choose a subnet no other network uses.");
        var range = new JsonObject { ["subnet"] = subnet.ToString() };
        IPAddress? gateway = o.Gateway is null ? null : ParseAddressIn(o.Gateway, subnet, "Gateway");
        if (gateway is not null || !o.Internal) range["gateway"] = (gateway ?? FirstHost(subnet)).ToString();
        if (o.IPRange is not null)
        {
            var ipRange = ParseSubnet(o.IPRange);
            if (!subnet.Contains(ipRange.BaseAddress) || ipRange.PrefixLength < subnet.PrefixLength)
                throw new ContainersException("InvalidIPRange", ErrorKind.InvalidArgument, $"The range {ipRange} is not inside the subnet {subnet}.", o.IPRange);
            range["rangeStart"] = FirstHost(ipRange).ToString();
            range["rangeEnd"] = LastHost(ipRange).ToString();
        }
        var ipam = new JsonObject { ["type"] = "host-local" };
        if (!o.Internal) ipam["routes"] = new JsonArray(new JsonObject { ["dst"] = subnet.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "::/0" : "0.0.0.0/0" });
        ipam["ranges"] = new JsonArray(new JsonArray(range));

        var plugins = new JsonArray();
        if (o.Driver == "bridge")
        {
            plugins.Add(new JsonObject
            {
                ["type"] = "bridge", ["bridge"] = FreeBridgeName(existing, bridgePrefix), ["isGateway"] = !o.Internal, ["ipMasq"] = !o.Internal,
                ["hairpinMode"] = true, ["ipam"] = ipam,
            });
            plugins.Add(new JsonObject { ["type"] = "portmap", ["capabilities"] = new JsonObject { ["portMappings"] = true } });
            plugins.Add(new JsonObject { ["type"] = "firewall", ["backend"] = "" });
        }
        else
        {
            // The master defaults to the interface of the host's default route (macvlan and ipvlan plugins).
            plugins.Add(new JsonObject { ["type"] = o.Driver, ["ipam"] = ipam });
        }
        plugins.Add(new JsonObject { ["type"] = "tuning" });
        var list = new JsonObject { ["cniVersion"] = "0.4.0", ["name"] = o.Name, ["plugins"] = plugins };
        if (o.Labels.Count > 0)
            list["args"] = new JsonObject { ["podman_labels"] = new JsonObject(o.Labels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) };

        string file = Path.Combine(ConfigDir, o.Name + ".conflist");
        string text = list.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        AtomicFile.Write(file, Encoding.UTF8.GetBytes(text), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Log.Information("Created network {Name} ({Subnet}) in {File}", o.Name, subnet, file);
        return CniNetwork.Load(file);
    }

    /// <summary>
    /// Deletes the network's file (the caller checked it is unused), then what the plugins leave behind once nothing
    /// is attached, as podman does: the bridge device (else a later network on the same subnet routes into the
    /// stale bridge) and host-local's state directory when it holds no lease.
    /// </summary>
    public void Delete(CniNetwork n)
    {
        if (n.File is null) return;
        File.Delete(n.File);
        Log.Information("Removed network {Name} ({File})", n.Name, n.File);
        if (n.BridgeName is { } bridge && !List().Any(o => o.BridgeName == bridge) && Directory.Exists("/sys/class/net/" + bridge)
            && !Directory.EnumerateFileSystemEntries($"/sys/class/net/{bridge}/brif").Any())
        {
            using var ip = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip", ["link", "delete", bridge]) { RedirectStandardError = true });
            ip?.WaitForExit();
            Log.Debug("Deleted bridge {Bridge}: exit {Exit}", bridge, ip?.ExitCode);
        }
        string ipam = Path.Combine(HostLocalDir, n.Name);
        if (Directory.Exists(ipam) && !Directory.EnumerateFiles(ipam).Select(Path.GetFileName).Any(f => IPAddress.TryParse(f, out _)))
            Directory.Delete(ipam, recursive: true);
    }

    /// <summary>host-local's default dataDir: one directory per network, a file per leased address.</summary>
    public const string HostLocalDir = "/var/lib/cni/networks";

    public static bool NameRule(string name) =>
        name.Length is > 0 and <= 200 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    public static bool Overlaps(IPNetwork a, IPNetwork b) =>
        a.BaseAddress.AddressFamily == b.BaseAddress.AddressFamily && (a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress));

    private static IPNetwork ParseSubnet(string text)
    {
        if (!IPNetwork.TryParse(text, out var n))
        {
            // 10.1.2.3/24 is read as its network (podman does the same).
            int slash = text.IndexOf('/');
            if (slash < 0 || !IPAddress.TryParse(text[..slash], out var ip) || !int.TryParse(text[(slash + 1)..], out int len) || len < 0 || len > (ip.GetAddressBytes().Length * 8))
                throw new ContainersException("InvalidSubnet", ErrorKind.InvalidArgument, $"'{text}' is not a subnet in CIDR notation.", text, "Write it as 10.89.5.0/24.");
            byte[] bytes = ip.GetAddressBytes();
            for (int i = 0; i < bytes.Length; i++)
                bytes[i] &= (byte)(i * 8 >= len ? 0 : i * 8 + 8 <= len ? 0xFF : 0xFF << (8 - (len - i * 8)));
            n = new IPNetwork(new IPAddress(bytes), len);
        }
        if (n.PrefixLength > (n.BaseAddress.GetAddressBytes().Length * 8) - 2)
            throw new ContainersException("InvalidSubnet", ErrorKind.InvalidArgument, $"The subnet {n} is too small for a gateway and a container.", text);
        return n;
    }

    private static IPAddress ParseAddressIn(string text, IPNetwork subnet, string what) =>
        IPAddress.TryParse(text, out var ip) && subnet.Contains(ip) ? ip
            : throw new ContainersException("Invalid" + what, ErrorKind.InvalidArgument, $"'{text}' is not an address inside the subnet {subnet}.", text);

    private static IPAddress FirstHost(IPNetwork n) => Offset(n.BaseAddress, 1);

    private static IPAddress LastHost(IPNetwork n)
    {
        byte[] b = n.BaseAddress.GetAddressBytes();
        for (int bit = n.PrefixLength; bit < b.Length * 8; bit++) b[bit / 8] |= (byte)(0x80 >> (bit % 8));
        return Offset(new IPAddress(b), -1);
    }

    private static IPAddress Offset(IPAddress ip, int delta)
    {
        byte[] b = ip.GetAddressBytes();
        var n = new System.Numerics.BigInteger(b, isUnsigned: true, isBigEndian: true) + delta;
        byte[] r = n.ToByteArray(isUnsigned: true, isBigEndian: true);
        byte[] full = new byte[b.Length];
        r.AsSpan(Math.Max(0, r.Length - b.Length)).CopyTo(full.AsSpan(Math.Max(0, b.Length - r.Length)));
        return new IPAddress(full);
    }

    /// <summary>10.89.N.0/24, as podman chooses for the networks it makes.</summary>
    private static IEnumerable<IPNetwork> PodmanSubnets()
    {
        for (int i = 0; i < 256; i++) yield return new IPNetwork(new IPAddress([10, 89, (byte)i, 0]), 24);
    }

    /// <summary>The first candidate that overlaps no other network's subnet and no host route; the caller can give the subnet instead.</summary>
    private static IPNetwork FreeSubnet(IEnumerable<IPNetwork> candidates, List<IPNetwork> taken)
    {
        var list = candidates.ToList();
        return list.FirstOrDefault(c => !taken.Any(t => Overlaps(t, c))) is { PrefixLength: > 0 } free ? free
            : throw new ContainersException("NoFreeSubnet", ErrorKind.ResourceUnavailable,
                $"Every subnet from {list[0]} to {list[^1]} is taken by a network or a host route.", null,
                "Give -Subnet, or default_subnet under [network] in containers.conf for the default network.");
    }

    /// <summary>PREFIX + the lowest N that no network file and no host interface uses (cni-podmanN is podman's naming, so both tools agree).</summary>
    private static string FreeBridgeName(List<CniNetwork> existing, string prefix)
    {
        var used = existing.Select(n => n.BridgeName).OfType<string>().ToHashSet();
        for (int i = prefix == "cni-podman" ? 1 : 0; ; i++)
        {
            string name = prefix + i;
            if (!used.Contains(name) && !Directory.Exists("/sys/class/net/" + name)) return name;
        }
    }
}
