using System.Collections.Concurrent;

namespace Containers.Core.Images;

/// <summary>The parsed images.json that lookups and listings share.</summary>
internal sealed partial class ImageStore
{
    /// <summary>
    /// images.json of each store as this session last parsed it, with the file's inode, change time and size then. The file
    /// is only ever replaced (a new file renamed over it), so one stat tells whether the parsed copy is still its content:
    /// New-Container looks its image up twice (the pull policy, then the create), each a read and parse of the whole
    /// database before. Kept only when the change time is old enough to be trusted (<see cref="Native.FileStat.IsRacy"/>).
    /// </summary>
    private static readonly ConcurrentDictionary<string, (long Inode, long Ctime, long Size, ImageDatabase Db)> Parsed = new(StringComparer.Ordinal);

    /// <summary>images.json for a reader that changes nothing (callers must not modify it); <see cref="Mutate"/> parses its own.</summary>
    private ImageDatabase ReadDatabase()
    {
        string path = DatabasePath;
        // Stat before the read: a file replaced in between is parsed under the older key, which the next stat no longer matches.
        bool known = Native.FileStat.TryGet(path, out long inode, out _, out long ctime, out long size);
        if (known && Parsed.TryGetValue(path, out var hit) && hit.Inode == inode && hit.Ctime == ctime && hit.Size == size) return hit.Db;
        var db = LoadDatabase();
        if (known && !Native.FileStat.IsRacy(ctime)) Parsed[path] = (inode, ctime, size, db);
        else Parsed.TryRemove(path, out _);
        return db;
    }
}
