using System.Globalization;
using System.Text;
using Containers.Core.Errors;

namespace Containers.Core.Runtime;

/// <summary>A user resolved against the image: numeric ids, supplementary groups and home.</summary>
internal sealed record ResolvedUser(uint Uid, uint Gid, IReadOnlyList<uint> AdditionalGids, string Home);

/// <summary>
/// Resolves <c>user</c>, <c>uid</c>, <c>user:group</c>, <c>uid:gid</c> against /etc/passwd and /etc/group of an image's
/// layers (top layer wins) or of a running container's root. The files are read through <see cref="ContainedFile"/>:
/// never outside the root, never a FIFO or a device, never more than 1 MiB.
/// </summary>
internal static class ImageUsers
{
    /// <param name="owner">Who the layers belong to, for messages ("image busybox:latest").</param>
    public static ResolvedUser Resolve(string? spec, IReadOnlyList<string> layersBottomToTop, string owner = "the image") =>
        Resolve(spec, relative => ReadLayers(layersBottomToTop, relative, owner), owner);

    /// <summary>Against the live root of a running container (<c>/proc/&lt;pid&gt;/root</c>): links resolve inside it as the
    /// container sees them. Falls back to the layers (with the container's upper directory on top) when that root cannot be opened.</summary>
    public static ResolvedUser ResolveInContainer(string? spec, int pid, IReadOnlyList<string> layersBottomToTop, string owner)
    {
        string root = "/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/root";
        return ContainedFile.CanOpen(root)
            ? Resolve(spec, relative => Parse(ContainedFile.Read(root, relative, owner)), owner)
            : Resolve(spec, layersBottomToTop, owner);
    }

    /// <summary>User names by uid from the /etc/passwd of a running container (its live root, read as <see cref="ResolveInContainer"/>
    /// reads it); empty when the root is gone or the file is missing or refused.</summary>
    public static IReadOnlyDictionary<uint, string> NamesInContainer(int pid, string owner)
    {
        var names = new Dictionary<uint, string>();
        string root = "/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/root";
        try
        {
            foreach (string[] p in Parse(ContainedFile.Read(root, "etc/passwd", owner)))
                if (p.Length >= 3 && uint.TryParse(p[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint uid)) names.TryAdd(uid, p[0]);
        }
        catch (Exception e) when (e is ContainersException or IOException) { }
        return names;
    }

    /// <summary>A group name of the image's /etc/group, or a number (-GroupAdd).</summary>
    public static uint ResolveGroup(string group, IReadOnlyList<string> layersBottomToTop, string owner)
    {
        if (uint.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out uint gid)) return gid;
        string[]? entry = ReadLayers(layersBottomToTop, "etc/group", owner).FirstOrDefault(g => g.Length >= 3 && g[0] == group);
        if (entry is not null && uint.TryParse(entry[2], NumberStyles.None, CultureInfo.InvariantCulture, out gid)) return gid;
        throw new ContainersException("GroupNotFound", ErrorKind.NotFound,
            $"The group '{group}' is not in /etc/group of {owner}.", group, "Give a group the image defines, or a numeric gid.");
    }

    private static ResolvedUser Resolve(string? spec, Func<string, List<string[]>> readTable, string owner)
    {
        if (string.IsNullOrEmpty(spec)) spec = "0";
        string userPart = spec, groupPart = "";
        int colon = spec.IndexOf(':');
        if (colon >= 0) { userPart = spec[..colon]; groupPart = spec[(colon + 1)..]; }

        var passwd = readTable("etc/passwd");
        var groups = readTable("etc/group");

        uint uid, gid;
        string home = "/";
        string? userName = null;
        string[]? entry = passwd.FirstOrDefault(p => p.Length >= 6 && p[0] == userPart);
        if (entry is null && uint.TryParse(userPart, NumberStyles.None, CultureInfo.InvariantCulture, out uint numeric))
            entry = passwd.FirstOrDefault(p => p.Length >= 6 && p[2] == userPart) ?? [];
        if (entry is null)
            throw new ContainersException("UserNotFound", ErrorKind.NotFound,
                $"The user '{userPart}' is not in /etc/passwd of {owner}.", spec,
                "Give a user the image defines, or a numeric uid.");
        if (entry.Length >= 6)
        {
            userName = entry[0];
            uid = uint.Parse(entry[2], CultureInfo.InvariantCulture);
            gid = uint.TryParse(entry[3], CultureInfo.InvariantCulture, out uint g) ? g : 0;
            home = entry.Length > 5 && entry[5].Length > 0 ? entry[5] : "/";
        }
        else
        {
            uid = uint.Parse(userPart, CultureInfo.InvariantCulture);
            gid = 0;
        }

        if (groupPart.Length > 0)
        {
            string[]? grp = groups.FirstOrDefault(g => g.Length >= 3 && g[0] == groupPart);
            if (grp is not null) gid = uint.Parse(grp[2], CultureInfo.InvariantCulture);
            else if (uint.TryParse(groupPart, NumberStyles.None, CultureInfo.InvariantCulture, out uint ng)) gid = ng;
            else throw new ContainersException("GroupNotFound", ErrorKind.NotFound,
                $"The group '{groupPart}' is not in /etc/group of {owner}.", spec, "Give a group the image defines, or a numeric gid.");
        }

        var extra = new List<uint>();
        if (userName is not null)
            foreach (string[] g in groups)
                if (g.Length >= 4 && g[3].Split(',').Contains(userName) && uint.TryParse(g[2], CultureInfo.InvariantCulture, out uint eg) && eg != gid && !extra.Contains(eg))
                    extra.Add(eg);
        return new ResolvedUser(uid, gid, extra, home);
    }

    /// <summary>The rows of the topmost layer's copy of <paramref name="relative"/> (none when no layer has it). A link is
    /// followed inside its own layer only; one whose target is in another layer is refused rather than guessed.</summary>
    private static List<string[]> ReadLayers(IReadOnlyList<string> layers, string relative, string owner)
    {
        string dir = Path.GetDirectoryName(relative)!, name = Path.GetFileName(relative);
        for (int i = layers.Count - 1; i >= 0; i--)
        {
            // A whiteout in an upper layer hides the file below: a .wh. file, or an overlay-form 0:0 character device.
            if (LayerEntry(layers[i], Path.Combine(dir, ".wh." + name)) is not null) return [];
            if (LayerEntry(layers[i], relative) is not { } entry) continue;
            if (entry.IsCharDevice && entry.Rdev == 0) return [];
            return Parse(ContainedFile.Read(layers[i], relative, owner)
                ?? throw new ContainersException("ContainerFileUnreadable", ErrorKind.InvalidData,
                    $"/{relative} of {owner} is a symbolic link to a file outside its layer; it was not read.", owner,
                    $"Make /{relative} a regular file in the image."));
        }
        return [];
    }

    /// <summary>lstat of <paramref name="relative"/> resolved inside <paramref name="layer"/> (the last component not followed).</summary>
    private static Native.FileStatus? LayerEntry(string layer, string relative)
    {
        int root = Native.FileSystemCalls.OpenAt(Native.FileSystemCalls.AT_FDCWD, layer, Native.FileSystemCalls.O_PATH | Native.FileSystemCalls.O_DIRECTORY);
        try
        {
            string parent = Path.GetDirectoryName(relative) is { Length: > 0 } d ? d : ".";
            int dirFd = Native.FileSystemCalls.OpenBeneath(root, parent, Native.FileSystemCalls.O_PATH | Native.FileSystemCalls.O_DIRECTORY, 0,
                Native.FileSystemCalls.RESOLVE_IN_ROOT | Native.FileSystemCalls.RESOLVE_NO_MAGICLINKS);
            try { return Native.FileSystemCalls.StatAt(dirFd, Path.GetFileName(relative)); }
            finally { Native.FileSystemCalls.Close(dirFd); }
        }
        catch (Native.NativeCallException e) when (e.Errno is Native.FileSystemCalls.ENOENT_ or Native.FileSystemCalls.ENOTDIR_) { return null; }
        finally { Native.FileSystemCalls.Close(root); }
    }

    private static List<string[]> Parse(byte[]? content) =>
        content is null ? [] : Encoding.UTF8.GetString(content).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split(':')).ToList();
}
