using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Containers.Core.Errors;

namespace Containers.Core.Networking;

/// <summary>
/// Host ports for -Publish: a random free one for host port 0, and a check that a fixed one is free. The portmap
/// plugin only writes DNAT rules, which would silently shadow a host service on the same port, so the port is tried first.
/// </summary>
internal static class HostPorts
{
    /// <summary>A free port the kernel picks (bind to port 0).</summary>
    public static int Random(string protocol, IPAddress? ip)
    {
        using var s = Open(protocol, ip);
        s.Bind(new IPEndPoint(ip ?? IPAddress.Any, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    /// <summary>Throws <c>HostPortInUse</c> naming the holder (process or container) when the port cannot be bound.</summary>
    public static void EnsureFree(int port, string protocol, IPAddress? ip)
    {
        if (protocol == "sctp") return; // no portable probe; the plugin reports a clash itself
        try
        {
            using var s = Open(protocol, ip);
            s.Bind(new IPEndPoint(ip ?? IPAddress.Any, port));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw InUse(port, protocol, Holder(port, protocol));
        }
    }

    public static ContainersException InUse(int port, string protocol, string? holder) =>
        new("HostPortInUse", ErrorKind.ResourceUnavailable,
            $"Host port {port}/{protocol} is already in use{(holder is null ? "" : " by " + holder)}.", $"{port}/{protocol}",
            "Publish on another host port, or stop what holds it.");

    private static Socket Open(string protocol, IPAddress? ip) =>
        new(ip?.AddressFamily ?? AddressFamily.InterNetwork, protocol == "udp" ? SocketType.Dgram : SocketType.Stream, protocol == "udp" ? ProtocolType.Udp : ProtocolType.Tcp);

    /// <summary>"process NAME (pid N)" holding a socket on the port, from /proc/net and the fds of /proc; null when unknown.</summary>
    internal static string? Holder(int port, string protocol)
    {
        var inodes = new HashSet<string>();
        foreach (string table in new[] { protocol, protocol + "6" })
        {
            string file = "/proc/net/" + table;
            if (!File.Exists(file)) continue;
            foreach (string line in File.ReadLines(file).Skip(1))
            {
                string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 9 && int.TryParse(f[1].Split(':')[^1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int p) && p == port
                    && (protocol != "tcp" || f[3] == "0A"))
                    inodes.Add("socket:[" + f[9] + "]");
            }
        }
        if (inodes.Count == 0) return null;
        foreach (string proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out int pid)) continue;
            try
            {
                foreach (string fd in Directory.EnumerateFileSystemEntries(Path.Combine(proc, "fd")))
                    if (new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target))
                        return $"process {File.ReadAllText(Path.Combine(proc, "comm")).Trim()} (pid {pid})";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return null;
    }
}
