using System.Globalization;
using System.Net;
using Containers.Core.Errors;

namespace Containers.Core.Networking;

/// <summary>
/// One parsed <c>-Publish</c> spec: <c>[hostIP:][hostPort:]containerPort[/protocol]</c>, where either port may be a
/// range <c>first-last</c>. <see cref="Range"/> consecutive ports are published, from <see cref="HostPort"/> to
/// <see cref="ContainerPort"/> onwards; a <see cref="HostPort"/> of 0 asks for a random free host port per port.
/// Rootful and rootless publishing both consume this type; the parser is the only way to make one from text.
/// </summary>
/// <param name="HostIP">The host address to listen on; null means every address.</param>
/// <param name="HostPort">The first host port, or 0 for a random port chosen at start.</param>
/// <param name="ContainerPort">The first port inside the container.</param>
/// <param name="Protocol"><c>tcp</c>, <c>udp</c> or <c>sctp</c>, lower case.</param>
/// <param name="Range">How many consecutive ports, at least 1.</param>
public sealed record PortMapping(IPAddress? HostIP, int HostPort, int ContainerPort, string Protocol = "tcp", int Range = 1)
{
    private const string ErrorId = "InvalidPortMapping";
    private static readonly string[] Protocols = ["tcp", "udp", "sctp"];

    /// <summary>The pairs (host port, container port) this mapping publishes; host port 0 means random.</summary>
    public IEnumerable<(int Host, int Container)> Ports() =>
        Enumerable.Range(0, Range).Select(i => (HostPort == 0 ? 0 : HostPort + i, ContainerPort + i));

    /// <summary>As <c>podman ps</c> shows it: <c>127.0.0.1:8080-8081-&gt;80-81/tcp</c>, <c>0.0.0.0:8080-&gt;80/tcp</c>.</summary>
    public override string ToString()
    {
        string ip = HostIP is null ? "0.0.0.0" : HostIP.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{HostIP}]" : HostIP.ToString();
        return $"{ip}:{Span(HostPort)}->{Span(ContainerPort)}/{Protocol}";
    }

    /// <summary>The spec form <see cref="Parse"/> reads back (<c>127.0.0.1:8080-8081:80-81/tcp</c>), for storing.</summary>
    public string ToSpec()
    {
        string ip = HostIP is null ? "" : (HostIP.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{HostIP}]" : HostIP.ToString()) + ":";
        return HostPort == 0 && ip.Length == 0 ? $"{Span(ContainerPort)}/{Protocol}" : $"{ip}{(HostPort == 0 ? "" : Span(HostPort))}:{Span(ContainerPort)}/{Protocol}";
    }

    private string Span(int first) => Range == 1 || first == 0 ? first.ToString(CultureInfo.InvariantCulture) : $"{first}-{first + Range - 1}";

    /// <summary>
    /// Parses one spec. Throws <see cref="ContainersException"/> <c>InvalidPortMapping</c> (InvalidArgument) for a
    /// malformed address, port outside 1-65535, unknown protocol, or host and container ranges of different lengths.
    /// </summary>
    public static PortMapping Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string rest = spec.Trim();
        string protocol = "tcp";
        int slash = rest.LastIndexOf('/');
        if (slash >= 0)
        {
            protocol = rest[(slash + 1)..].ToLowerInvariant();
            if (!Protocols.Contains(protocol)) throw Bad(spec, $"protocol '{rest[(slash + 1)..]}' is not tcp, udp or sctp");
            rest = rest[..slash];
        }

        IPAddress? ip = null;
        if (rest.StartsWith('['))
        {
            int close = rest.IndexOf(']');
            if (close < 0 || close + 1 >= rest.Length || rest[close + 1] != ':' || !IPAddress.TryParse(rest[1..close], out ip))
                throw Bad(spec, "an IPv6 host address is written [address]:hostPort:containerPort");
            rest = rest[(close + 2)..];
            if (!rest.Contains(':')) throw Bad(spec, "a host address needs a host port field (which may be empty) before the container port");
        }

        string[] parts = rest.Split(':');
        string hostPart = "";
        string containerPart;
        switch (parts.Length)
        {
            case 1 when ip is null: containerPart = parts[0]; break;
            case 2: (hostPart, containerPart) = (parts[0], parts[1]); break;
            case 3 when ip is null:
                if (!IPAddress.TryParse(parts[0], out ip) || parts[0].Length == 0)
                    throw Bad(spec, $"'{parts[0]}' is not an IP address");
                (hostPart, containerPart) = (parts[1], parts[2]);
                break;
            default: throw Bad(spec, "the form is [hostIP:][hostPort:]containerPort[/protocol]");
        }

        var (containerFirst, containerCount) = PortSpan(spec, containerPart, "container port");
        if (hostPart.Length == 0) return new PortMapping(ip, 0, containerFirst, protocol, containerCount);
        var (hostFirst, hostCount) = PortSpan(spec, hostPart, "host port");
        if (hostCount != containerCount)
            throw Bad(spec, $"the host range has {hostCount} ports and the container range {containerCount}");
        return new PortMapping(ip, hostFirst, containerFirst, protocol, containerCount);
    }

    /// <summary>
    /// Parses every spec and refuses two that publish the same host port, address and protocol
    /// (<c>PortMappingConflict</c>, InvalidArgument).
    /// </summary>
    public static IReadOnlyList<PortMapping> ParseAll(IEnumerable<string> specs)
    {
        var all = specs.Select(Parse).ToList();
        var seen = new HashSet<(string, int, string)>();
        foreach (var m in all)
            foreach (var (host, _) in m.Ports())
                if (host != 0 && !seen.Add((m.HostIP?.ToString() ?? "", host, m.Protocol)))
                    throw new ContainersException("PortMappingConflict", ErrorKind.InvalidArgument,
                        $"Host port {host}/{m.Protocol} is published twice.", m.ToString(), "Publish each host port once.");
        return all;
    }

    private static (int First, int Count) PortSpan(string spec, string text, string what)
    {
        int dash = text.IndexOf('-');
        int first = Port(spec, dash < 0 ? text : text[..dash], what);
        if (dash < 0) return (first, 1);
        int last = Port(spec, text[(dash + 1)..], what);
        if (last < first) throw Bad(spec, $"the {what} range {text} ends before it starts");
        return (first, last - first + 1);
    }

    private static int Port(string spec, string text, string what) =>
        text.Length > 0 && text.All(char.IsAsciiDigit) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is >= 1 and <= 65535
            ? p
            : throw Bad(spec, $"{what} '{text}' is not a number from 1 to 65535");

    private static ContainersException Bad(string spec, string why) =>
        new(ErrorId, ErrorKind.InvalidArgument, $"'{spec}' is not a port mapping: {why}.", spec,
            "Write -Publish as [hostIP:][hostPort:]containerPort[/tcp|udp|sctp], e.g. 8080:80 or 127.0.0.1:8080:80/tcp.");
}
