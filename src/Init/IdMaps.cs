using System.Diagnostics.CodeAnalysis;
using Containers.Core.Runtime.Plan;
using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init;

/// <summary>Writes a child's uid/gid maps from the parent: directly, or through newuidmap/newgidmap for subordinate ranges.</summary>
internal static unsafe class IdMaps
{
    /// <summary>Maps container id 0 to the caller's own uid and gid (the one mapping an unprivileged user may write). Returns an error or null.</summary>
    public static string? WriteSingle(int pid, uint uid, uint gid) =>
        Write(pid, [new LinuxIdMapping { ContainerId = 0, HostId = uid, Size = 1 }], [new LinuxIdMapping { ContainerId = 0, HostId = gid, Size = 1 }], null, null);

    /// <summary>Writes both maps; a helper path runs that helper (newuidmap/newgidmap) instead of writing the file.</summary>
    public static string? Write(int pid, List<LinuxIdMapping> uids, List<LinuxIdMapping> gids, string? newUidMap, string? newGidMap)
    {
        // gid_map needs setgroups denied when written directly without CAP_SETGID in the parent namespace.
        if (newGidMap is null && geteuid() != 0 && !TryWriteFile($"/proc/{pid}/setgroups", "deny", out string? e0)) return e0;
        string? error = newUidMap is null ? WriteFile($"/proc/{pid}/uid_map", uids) : RunHelper(newUidMap, pid, uids);
        if (error is not null) return "uid map: " + error;
        error = newGidMap is null ? WriteFile($"/proc/{pid}/gid_map", gids) : RunHelper(newGidMap, pid, gids);
        return error is null ? null : "gid map: " + error;
    }

    private static string? WriteFile(string path, List<LinuxIdMapping> maps)
    {
        var text = new System.Text.StringBuilder();
        foreach (var m in maps) text.Append(m.ContainerId).Append(' ').Append(m.HostId).Append(' ').Append(m.Size).Append('\n');
        return TryWriteFile(path, text.ToString(), out string? error) ? null : error;
    }

    public static bool TryWriteFile(string path, string content, [NotNullWhen(false)] out string? error)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(content);
        byte* p = NativeString.Of(path);
        int fd = open(p, O_WRONLY | O_CLOEXEC, 0);
        if (fd < 0) { error = $"{path}: {StrError(Errno)}"; return false; }
        nint n;
        fixed (byte* b = bytes) n = write(fd, b, bytes.Length);
        int err = Errno;
        close(fd);
        if (n != bytes.Length) { error = $"{path}: {StrError(err)}"; return false; }
        error = null;
        return true;
    }

    private static string? RunHelper(string helper, int pid, List<LinuxIdMapping> maps)
    {
        var args = new List<string> { helper, pid.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var m in maps) { args.Add(m.ContainerId.ToString(System.Globalization.CultureInfo.InvariantCulture)); args.Add(m.HostId.ToString(System.Globalization.CultureInfo.InvariantCulture)); args.Add(m.Size.ToString(System.Globalization.CultureInfo.InvariantCulture)); }
        int code = Spawn.Run(args, out string? stderr);
        return code == 0 ? null : $"{Path.GetFileName(helper)} exited {code}: {stderr?.Trim()}";
    }
}
