using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Containers.Core.Errors;

namespace Containers.Core.Networking.Rootless;

/// <summary>
/// Host ports for rootless publishing: a free port for a random mapping (host port 0), and a check that a named port is
/// free before the helper is started, so the error names the port and, when this user may see it, the process holding it.
/// </summary>
internal static class HostPorts
{
    /// <summary>Throws HostPortInUse when the port cannot be bound on the mapping's address.</summary>
    public static void EnsureFree(PortMapping m, int hostPort)
    {
        using var socket = Open(m);
        try
        {
            socket.Bind(new IPEndPoint(m.HostIP ?? IPAddress.Any, hostPort));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            string holder = Holder(m.Protocol, hostPort) is { } h ? $" by {h}" : "";
            string why = e.SocketErrorCode == SocketError.AccessDenied
                ? $"Host port {hostPort}/{m.Protocol} is privileged: an unprivileged user may not listen on it."
                : $"Host port {hostPort}/{m.Protocol} is already in use{holder}.";
            throw new ContainersException("HostPortInUse", ErrorKind.ResourceUnavailable, why, $"{hostPort}/{m.Protocol}",
                "Publish another host port (or let one be chosen: -Publish :containerPort), or stop what holds it.");
        }
    }

    /// <summary>A port the kernel picks as free now on the mapping's address (a random host port).</summary>
    public static int PickFree(PortMapping m)
    {
        using var socket = Open(m);
        socket.Bind(new IPEndPoint(m.HostIP ?? IPAddress.Any, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static Socket Open(PortMapping m)
    {
        var family = m.HostIP?.AddressFamily ?? AddressFamily.InterNetwork;
        var socket = m.Protocol == "udp" ? new Socket(family, SocketType.Dgram, ProtocolType.Udp) : new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        // As the helper binds it: a port with connections only in TIME_WAIT is free.
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        return socket;
    }

    /// <summary>"python3 (pid 1234)" for the process holding a bound port, when /proc lets us see its descriptors.</summary>
    internal static string? Holder(string protocol, int port, string proc = "/proc")
    {
        var inodes = new HashSet<string>();
        foreach (string table in new[] { protocol, protocol + "6" })
        {
            string file = Path.Combine(proc, "net", table);
            if (!File.Exists(file)) continue;
            foreach (string line in File.ReadLines(file).Skip(1))
            {
                string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // local_address is HEXIP:HEXPORT; a TCP holder listens (state 0A), a UDP one is bound (07).
                if (f.Length > 9 && int.TryParse(f[1].Split(':')[^1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int p) && p == port
                    && f[3] is "0A" or "07" && f[9] != "0")
                    inodes.Add($"socket:[{f[9]}]");
            }
        }
        if (inodes.Count == 0) return null;
        foreach (string dir in Directory.EnumerateDirectories(proc))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                foreach (string fd in Directory.EnumerateFileSystemEntries(Path.Combine(dir, "fd")))
                    if (new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target))
                        return $"{File.ReadAllText(Path.Combine(dir, "comm")).Trim()} (pid {pid})";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return null;
    }
}
