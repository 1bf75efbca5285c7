using Containers.Core.Cgroups;
using Containers.Core.Errors;
using Containers.Core.Native;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>A host device given to a container with <c>-Device</c>: the node made in its /dev and the rule allowing it.</summary>
public sealed class ContainerDevice
{
    public string HostPath { get; set; } = "";
    /// <summary>Where the node is made inside the container (under /dev).</summary>
    public string Path { get; set; } = "";
    /// <summary><c>c</c> or <c>b</c>.</summary>
    public string Type { get; set; } = "c";
    public long Major { get; set; }
    public long Minor { get; set; }
    /// <summary>Granted access, a combination of r, w and m.</summary>
    public string Access { get; set; } = "rwm";
    /// <summary>Permission bits of the host node.</summary>
    public uint FileMode { get; set; }

    public override string ToString() => HostPath + ":" + Path + ":" + Access;
}

/// <summary>Parses <c>-Device</c> values and turns them into the OCI config's <c>linux.devices</c> and <c>linux.resources.devices</c> entries.</summary>
internal static class DeviceGrants
{
    /// <summary>
    /// <c>/dev/host[:/dev/container][:access]</c>, as docker and podman take it. The host path must be a
    /// character or block device (links followed). Throws InvalidDevice, DeviceNotFound, NotADevice, InvalidDeviceAccess.
    /// </summary>
    public static ContainerDevice Parse(string value)
    {
        string[] parts = value.Split(':');
        string host = parts[0];
        string? target = null, access = null;
        if (parts.Length == 2)
        {
            if (parts[1].StartsWith('/')) target = parts[1];
            else access = parts[1];
        }
        else if (parts.Length == 3) (target, access) = (parts[1], parts[2]);
        target ??= host;
        if (parts.Length > 3 || !host.StartsWith('/'))
            throw BadSyntax(value);
        int bits = DeviceRules.AccessBits(access);
        if (FileSystemCalls.StatDevice(host) is not { } st)
            throw new ContainersException("DeviceNotFound", ErrorKind.NotFound, $"The device '{host}' does not exist.", host,
                "Check the path: -Device takes a host device node such as /dev/fuse.");
        uint type = st.Mode & FileSystemCalls.S_IFMT;
        if (type is not (FileSystemCalls.S_IFCHR or FileSystemCalls.S_IFBLK))
            throw new ContainersException("NotADevice", ErrorKind.InvalidArgument, $"'{host}' is not a character or block device.", host,
                "-Device takes a device node; use -Volume to mount files and directories.");
        // Init makes device nodes only in the container's /dev (a tmpfs of its own).
        if (!target.StartsWith("/dev/", StringComparison.Ordinal) || target.Split('/').Contains(".."))
            throw BadSyntax(value);
        return new ContainerDevice
        {
            HostPath = host,
            Path = target,
            Type = type == FileSystemCalls.S_IFCHR ? "c" : "b",
            Major = (long)(((st.Rdev >> 8) & 0xfff) | ((st.Rdev >> 32) & ~0xfffUL)),
            Minor = (long)((st.Rdev & 0xff) | ((st.Rdev >> 12) & ~0xffUL)),
            Access = DeviceRules.AccessText(bits),
            FileMode = st.Mode & 0xfff,
        };
    }

    private static ContainersException BadSyntax(string value) =>
        new("InvalidDevice", ErrorKind.InvalidArgument, $"'{value}' is not a device of the form /dev/host[:/dev/container][:rwm].", value,
            "Give the host device's absolute path, optionally a path under /dev in the container, and the access (r, w, m).");

    /// <summary>Parses every value; two devices at one container path are refused.</summary>
    public static List<ContainerDevice> ParseAll(IEnumerable<string> values)
    {
        var devices = values.Select(Parse).ToList();
        var dup = devices.GroupBy(d => d.Path).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null)
            throw new ContainersException("InvalidDevice", ErrorKind.InvalidArgument, $"Two devices are given for '{dup.Key}'.", dup.Key);
        return devices;
    }

    /// <summary>The node Init makes in the container's /dev.</summary>
    public static LinuxDevice Node(ContainerDevice d) =>
        new() { Path = d.Path, Type = d.Type, Major = d.Major, Minor = d.Minor, FileMode = d.FileMode, Uid = 0, Gid = 0 };

    /// <summary>The cgroup rule allowing it.</summary>
    public static LinuxDeviceCgroup Rule(ContainerDevice d) =>
        new() { Allow = true, Type = d.Type, Major = d.Major, Minor = d.Minor, Access = d.Access };
}
