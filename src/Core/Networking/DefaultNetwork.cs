using System.Globalization;
using System.Net;
using Containers.Core.Networking.Cni;

namespace Containers.Core.Networking;

/// <summary>
/// The bridge network a root container joins when neither -Network nor containers.conf's <c>default_network</c> says
/// otherwise, as podman's containers join its <c>podman</c> network. It is made on first use in the CNI directory (see
/// <see cref="NetworkStore.Resolve"/>), on <c>default_subnet</c> when configured, else on the first /16 from 10.90.0.0/16
/// to 10.99.0.0/16 that no network file and no host route covers: podman's default is 10.88.0.0/16 and the networks
/// podman and New-ContainerNetwork make take 10.89.x.0/24.
/// </summary>
internal static class DefaultNetwork
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<CniPluginRunner>();
    public const string Name = "pscontainers";

    /// <summary>Its bridge is the first free pscontainersN (podman's networks use cni-podmanN).</summary>
    public const string BridgePrefix = "pscontainers";

    /// <summary>
    /// What a root container joins without -Network: containers.conf's default_network, else this network, else (the bridge
    /// plugin is not installed) private, which <paramref name="warn"/> logs as a warning saying what to install.
    /// </summary>
    public static string ForRoot(ContainersConf conf, CniPluginRunner plugins, bool warn)
    {
        if (conf.DefaultNetwork is { } configured) return configured;
        if (plugins.Find("bridge") is not null) return Name;
        if (warn)
            Log.Warning("The CNI bridge plugin is not installed: the container gets a network namespace with loopback only. Install the Debian package containernetworking-plugins for the default network {Name}.", Name);
        return "private";
    }

    public static IEnumerable<IPNetwork> Subnets()
    {
        for (int b = 90; b <= 99; b++) yield return new IPNetwork(new IPAddress([10, (byte)b, 0, 0]), 16);
    }

    /// <summary>The IPv4 destinations of the host's main routing table (/proc/net/route) other than the default route.</summary>
    public static List<IPNetwork> HostRoutes(string file = "/proc/net/route")
    {
        var routes = new List<IPNetwork>();
        if (!File.Exists(file)) return routes;
        foreach (string line in File.ReadLines(file).Skip(1))
        {
            // Iface Destination Gateway Flags RefCnt Use Metric Mask ...: addresses in hex, in the host's (little-endian) order.
            string[] f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 8 || !uint.TryParse(f[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint dst)
                || !uint.TryParse(f[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint mask) || mask == 0) continue;
            routes.Add(new IPNetwork(new IPAddress(BitConverter.GetBytes(dst & mask)), System.Numerics.BitOperations.PopCount(mask)));
        }
        return routes;
    }
}
