using System.Net;
using System.Text;
using Containers.Core.Errors;

namespace Containers.Core.Networking;

/// <summary>
/// Writes a container's /etc/hosts, /etc/hostname and /etc/resolv.conf, once, at create, into the
/// container's own directory (never the image's files, never rewritten later).
/// </summary>
internal static class HostsFiles
{
    /// <summary>Parses <c>name:ip</c> entries of -AddHost.</summary>
    public static (string Name, IPAddress Address) ParseAddHost(string entry)
    {
        int colon = entry.IndexOf(':');
        if (colon <= 0 || !IPAddress.TryParse(entry[(colon + 1)..].Trim('[', ']'), out var ip) || entry[..colon].Any(char.IsWhiteSpace))
            throw new ContainersException("InvalidAddHost", ErrorKind.InvalidArgument,
                $"'{entry}' is not a host entry of the form name:address.", entry, "Give -AddHost 'db:10.0.0.5'.");
        return (entry[..colon], ip);
    }

    /// <summary>The hosts file: loopback names, the container's hostname, then -AddHost entries in order.</summary>
    public static string Hosts(string hostname, string network, IEnumerable<string> addHosts, string hostHostsFile = "/etc/hosts")
    {
        var sb = new StringBuilder();
        if (network == "host" && File.Exists(hostHostsFile))
        {
            string host = File.ReadAllText(hostHostsFile);
            sb.Append(host);
            if (!host.EndsWith('\n')) sb.Append('\n');
        }
        else
        {
            sb.Append("127.0.0.1\tlocalhost\n");
            sb.Append("::1\tlocalhost ip6-localhost ip6-loopback\n");
        }
        sb.Append("127.0.1.1\t").Append(hostname).Append('\n');
        foreach (string entry in addHosts)
        {
            var (name, ip) = ParseAddHost(entry);
            sb.Append(ip).Append('\t').Append(name).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// resolv.conf: the -Dns servers when given, else the host's file. Loopback name servers of the host
    /// are dropped unless the container shares the host's network (they would not answer inside).
    /// </summary>
    public static string ResolvConf(IReadOnlyList<string> dns, string network, string hostResolvConf = "/etc/resolv.conf")
    {
        var sb = new StringBuilder();
        if (dns.Count > 0)
        {
            foreach (string server in dns)
            {
                if (!IPAddress.TryParse(server, out var ip))
                    throw new ContainersException("InvalidDnsServer", ErrorKind.InvalidArgument, $"'{server}' is not an IP address.", server);
                sb.Append("nameserver ").Append(ip).Append('\n');
            }
            if (File.Exists(hostResolvConf))
                foreach (string line in File.ReadLines(hostResolvConf))
                    if (line.StartsWith("search ", StringComparison.Ordinal) || line.StartsWith("options ", StringComparison.Ordinal))
                        sb.Append(line).Append('\n');
            return sb.ToString();
        }
        if (!File.Exists(hostResolvConf)) return "";
        foreach (string line in File.ReadLines(hostResolvConf))
        {
            string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (network != "host" && parts is ["nameserver", var addr, ..] && IPAddress.TryParse(addr, out var ip) && IPAddress.IsLoopback(ip))
                continue;
            sb.Append(line).Append('\n');
        }
        return sb.ToString();
    }
}
