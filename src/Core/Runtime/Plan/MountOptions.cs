namespace Containers.Core.Runtime.Plan;

/// <summary>
/// A runtime-spec mount's <c>options</c> split into mount(2) flags, propagation flags and the data
/// string, as mount(8) understands them. Unknown words go to the data string (tmpfs <c>mode=</c>, <c>size=</c> ...).
/// </summary>
internal sealed class MountOptions
{
    public const ulong MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_SYNCHRONOUS = 16, MS_REMOUNT = 32,
        MS_MANDLOCK = 64, MS_DIRSYNC = 128, MS_NOSYMFOLLOW = 256, MS_NOATIME = 1024, MS_NODIRATIME = 2048, MS_BIND = 4096,
        MS_MOVE = 8192, MS_REC = 16384, MS_SILENT = 32768, MS_UNBINDABLE = 1 << 17, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19,
        MS_SHARED = 1 << 20, MS_RELATIME = 1 << 21, MS_STRICTATIME = 1 << 24, MS_LAZYTIME = 1 << 25;

    /// <summary>Flags for the mount itself (MS_RDONLY, MS_NOSUID ...).</summary>
    public ulong Flags { get; private set; }
    /// <summary>Propagation to apply after mounting (MS_PRIVATE | MS_REC ...), 0 for none.</summary>
    public ulong Propagation { get; private set; }
    /// <summary>A bind mount (<c>bind</c>, <c>rbind</c> or type <c>bind</c>).</summary>
    public bool Bind { get; private set; }
    /// <summary>Recursive bind (<c>rbind</c>).</summary>
    public bool Recursive { get; private set; }
    /// <summary>Comma-joined filesystem-specific options.</summary>
    public string Data { get; private set; } = "";

    private static readonly Dictionary<string, (bool Clear, ulong Flag)> FlagWords = new(StringComparer.Ordinal)
    {
        ["ro"] = (false, MS_RDONLY), ["rw"] = (true, MS_RDONLY),
        ["nosuid"] = (false, MS_NOSUID), ["suid"] = (true, MS_NOSUID),
        ["nodev"] = (false, MS_NODEV), ["dev"] = (true, MS_NODEV),
        ["noexec"] = (false, MS_NOEXEC), ["exec"] = (true, MS_NOEXEC),
        ["sync"] = (false, MS_SYNCHRONOUS), ["async"] = (true, MS_SYNCHRONOUS),
        ["dirsync"] = (false, MS_DIRSYNC),
        ["remount"] = (false, MS_REMOUNT),
        ["mand"] = (false, MS_MANDLOCK), ["nomand"] = (true, MS_MANDLOCK),
        ["noatime"] = (false, MS_NOATIME), ["atime"] = (true, MS_NOATIME),
        ["nodiratime"] = (false, MS_NODIRATIME), ["diratime"] = (true, MS_NODIRATIME),
        ["relatime"] = (false, MS_RELATIME), ["norelatime"] = (true, MS_RELATIME),
        ["strictatime"] = (false, MS_STRICTATIME), ["nostrictatime"] = (true, MS_STRICTATIME),
        ["lazytime"] = (false, MS_LAZYTIME), ["nolazytime"] = (true, MS_LAZYTIME),
        ["nosymfollow"] = (false, MS_NOSYMFOLLOW), ["symfollow"] = (true, MS_NOSYMFOLLOW),
    };

    private static readonly Dictionary<string, ulong> PropagationWords = new(StringComparer.Ordinal)
    {
        ["private"] = MS_PRIVATE, ["rprivate"] = MS_PRIVATE | MS_REC,
        ["shared"] = MS_SHARED, ["rshared"] = MS_SHARED | MS_REC,
        ["slave"] = MS_SLAVE, ["rslave"] = MS_SLAVE | MS_REC,
        ["unbindable"] = MS_UNBINDABLE, ["runbindable"] = MS_UNBINDABLE | MS_REC,
    };

    /// <summary>Options that runtimes accept and that need nothing from mount(2) here.</summary>
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal) { "defaults", "tmpcopyup", "notmpcopyup", "z", "Z", "U", "copy", "nocopy" };

    public static MountOptions Parse(RuntimeMount mount)
    {
        var result = new MountOptions { Bind = mount.Type is "bind" or "rbind" };
        if (mount.Type == "rbind") result.Recursive = true;
        var data = new List<string>();
        foreach (string raw in mount.Options ?? [])
        {
            string o = raw.Trim();
            if (o.Length == 0 || Ignored.Contains(o)) continue;
            if (o == "bind") { result.Bind = true; continue; }
            if (o == "rbind") { result.Bind = true; result.Recursive = true; continue; }
            if (FlagWords.TryGetValue(o, out var f))
            {
                result.Flags = f.Clear ? result.Flags & ~f.Flag : result.Flags | f.Flag;
                continue;
            }
            if (PropagationWords.TryGetValue(o, out ulong prop)) { result.Propagation = prop; continue; }
            data.Add(o);
        }
        result.Data = string.Join(',', data);
        return result;
    }
}
