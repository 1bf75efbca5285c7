using System.Globalization;
using System.Net;
using Containers.Core.Errors;

namespace Containers.Core.Networking.Rootless;

/// <summary>
/// A rootless <c>-Network</c> value, written as podman writes it: <c>pasta</c> or <c>pasta:OPTION,OPTION...</c> (options
/// handed to pasta, e.g. <c>pasta:--map-gw</c> to let the container reach the host's loopback through its gateway
/// address), or <c>slirp4netns</c> / <c>slirp4netns:allow_host_loopback=true,mtu=1500,cidr=10.1.2.0/24,enable_ipv6=true</c>.
/// Defaults keep the host's loopback closed to the container (pasta <c>--no-map-gw</c>, slirp4netns
/// <c>--disable-host-loopback</c>), as podman's do.
/// </summary>
internal sealed record RootlessNetworkMode(string Helper, IReadOnlyList<string> PastaOptions, bool AllowHostLoopback, int Mtu, string? Cidr, bool EnableIpv6)
{
    public const string Pasta = "pasta";
    public const string Slirp4netns = "slirp4netns";

    /// <summary>pasta options that decide its lifetime, namespaces, ports or logging: Core sets those itself.</summary>
    private static readonly string[] ReservedPastaOptions =
        ["-f", "--foreground", "-P", "--pid", "--netns", "--userns", "--netns-only", "--no-netns-quit", "--config-net", "-t", "--tcp-ports",
         "-u", "--udp-ports", "-T", "--tcp-ns", "-U", "--udp-ns", "-l", "--log-file", "--runas", "-d", "--debug", "--trace", "-p", "--pcap"];

    /// <summary>True for <c>pasta</c>, <c>slirp4netns</c> and their forms with options.</summary>
    public static bool IsRootlessMode(string network) =>
        network is Pasta or Slirp4netns || network.StartsWith(Pasta + ":", StringComparison.Ordinal) || network.StartsWith(Slirp4netns + ":", StringComparison.Ordinal);

    /// <summary>Parses a value for which <see cref="IsRootlessMode"/> holds; throws InvalidNetworkOption for a bad option.</summary>
    public static RootlessNetworkMode Parse(string network)
    {
        int colon = network.IndexOf(':');
        string helper = colon < 0 ? network : network[..colon];
        string[] options = colon < 0 ? [] : network[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (helper == Pasta)
        {
            foreach (string o in options)
                if (ReservedPastaOptions.Contains(o.Split('=')[0]))
                    throw Bad(network, $"pasta option {o} is set by the module itself (ports come from -Publish)");
            return new RootlessNetworkMode(Pasta, options, options.Contains("--map-gw"), 0, null, false);
        }
        var mode = new RootlessNetworkMode(Slirp4netns, [], false, 65520, null, false);
        foreach (string o in options)
        {
            int eq = o.IndexOf('=');
            string key = eq < 0 ? o : o[..eq], value = eq < 0 ? "" : o[(eq + 1)..];
            mode = key switch
            {
                "allow_host_loopback" => mode with { AllowHostLoopback = Bool(network, o, value) },
                "enable_ipv6" => mode with { EnableIpv6 = Bool(network, o, value) },
                "mtu" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int mtu) && mtu is >= 1280 and <= 65521 => mode with { Mtu = mtu },
                "cidr" when IsIpv4Cidr(value) => mode with { Cidr = value },
                "mtu" or "cidr" => throw Bad(network, $"'{o}' has a bad value (mtu 1280-65521, cidr an IPv4 network like 10.0.2.0/24)"),
                _ => throw Bad(network, $"'{key}' is not a slirp4netns option (allow_host_loopback, enable_ipv6, mtu, cidr)"),
            };
        }
        return mode;
    }

    private static bool Bool(string network, string option, string value) => value switch
    {
        "true" => true,
        "false" => false,
        _ => throw Bad(network, $"'{option}' must be true or false"),
    };

    private static bool IsIpv4Cidr(string value) =>
        value.Split('/') is [var ip, var bits] && IPAddress.TryParse(ip, out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
        && int.TryParse(bits, NumberStyles.None, CultureInfo.InvariantCulture, out int b) && b is >= 8 and <= 30;

    private static ContainersException Bad(string network, string why) =>
        new("InvalidNetworkOption", ErrorKind.InvalidArgument, $"'{network}': {why}.", network,
            "Write -Network pasta[:pasta options] or slirp4netns[:allow_host_loopback=true,mtu=N,cidr=A.B.C.D/N,enable_ipv6=true].");
}
