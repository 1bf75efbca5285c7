using Containers.Core.Errors;

namespace Containers.Core.Runtime.RunOptions;

/// <summary>
/// <c>-Sysctl name=value</c>: only the kernel settings a container's own namespaces hold (the IPC namespace's
/// kernel.msg*, kernel.sem, kernel.shm* and fs.mqueue.*; the network namespace's net.*), as Docker and podman allow.
/// Anything else would change the host for everyone and is refused.
/// </summary>
internal static class Sysctls
{
    private static readonly string[] Ipc = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"];

    public static Dictionary<string, string> Parse(IEnumerable<string> items, bool ownNetwork)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string item in items)
        {
            int eq = item.IndexOf('=');
            string name = eq < 0 ? "" : item[..eq].Trim().Replace('/', '.');
            if (name.Length == 0 || name.Split('.').Any(p => p.Length == 0 || p == ".."))
                throw new ContainersException("InvalidSysctl", ErrorKind.InvalidArgument, $"'{item}' is not a sysctl: write name=value, e.g. net.ipv4.ip_forward=1.", item);
            bool net = name.StartsWith("net.", StringComparison.Ordinal);
            if (!(Ipc.Contains(name) || name.StartsWith("fs.mqueue.", StringComparison.Ordinal) || net))
                throw new ContainersException("SysctlNotNamespaced", ErrorKind.PermissionDenied,
                    $"The sysctl '{name}' is not held by the container's namespaces: setting it would change the host.", item,
                    "Only kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and net.* (with a network namespace of its own) can be set for a container.");
            if (net && !ownNetwork)
                throw new ContainersException("SysctlNeedsNetworkNamespace", ErrorKind.InvalidArgument,
                    $"The sysctl '{name}' belongs to the network namespace, and this container shares the host's (-Network host).", item,
                    "Use -Network private or none, or leave the net.* setting out.");
            result[name] = item[(eq + 1)..];
        }
        return result;
    }
}
