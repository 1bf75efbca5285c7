using System.Globalization;

namespace Containers.Core.Cgroups;

/// <summary>
/// The file operations the cgroup managers do, as a seam: the real cgroupfs, or (in tests) a plain
/// directory tree shaped like one, where directories holding files can only be removed recursively.
/// </summary>
internal class CgroupFileSystem
{
    public static CgroupFileSystem Real { get; } = new();

    public virtual bool DirectoryExists(string path) => Directory.Exists(path);
    public virtual bool FileExists(string path) => File.Exists(path);
    public virtual void CreateDirectory(string path) => Directory.CreateDirectory(path);

    /// <summary>mkdir(2) of one cgroup, its parent not made: false when it was there already; DirectoryNotFoundException
    /// when the parent is gone.</summary>
    public virtual bool MakeDirectory(string path)
    {
        try
        {
            Native.FileSystemCalls.MkdirAt(Native.FileSystemCalls.AT_FDCWD, path, 0x1ED /* 0755 */);
            return true;
        }
        catch (Native.NativeCallException e) when (e.Errno == Native.FileSystemCalls.EEXIST_) { return false; }
        catch (Native.NativeCallException e) when (e.Errno == Native.FileSystemCalls.ENOENT_) { throw new DirectoryNotFoundException(e.Message, e); }
    }

    /// <summary>
    /// Makes a container's cgroup <paramref name="dir"/> under the shared parent, which another process may rmdir at any
    /// time while it is empty (<see cref="ICgroupManager.RemoveParentIfEmpty"/>): when it went between our mkdir of the
    /// parent and of the child, both are made again, <paramref name="prepareParent"/> (enabling controllers) run on each.
    /// False when <paramref name="dir"/> was there already (left by a start or a monitor that died).
    /// </summary>
    public bool CreateUnderParent(string dir, Action<string>? prepareParent = null)
    {
        // Nothing to prepare: the parent usually exists, so the child's mkdir comes first (one system call, not three).
        if (prepareParent is null)
            try { return MakeDirectory(dir); }
            catch (DirectoryNotFoundException) { }
        string parent = Path.GetDirectoryName(dir)!;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                // .NET's CreateDirectory says "already exists" when the parent went between its mkdir's EEXIST and its
                // check that the path is a directory: the same race, retried the same way.
                CreateDirectory(parent);
                prepareParent?.Invoke(parent);
                return MakeDirectory(dir);
            }
            // ENOENT means the parent was gone when we made the child, even if a third process has made it again since.
            catch (IOException e) when (attempt < 20 && (e is DirectoryNotFoundException or FileNotFoundException || !DirectoryExists(parent))) { }
        }
    }

    /// <summary>rmdir of the shared parent unless a container's cgroup is still in it (EBUSY) or it is gone; never throws.</summary>
    public bool TryRemoveEmpty(string path)
    {
        try
        {
            RemoveDirectory(path);
            return true;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>rmdir(2) of a cgroup (cgroupfs removes its control files with it).</summary>
    public virtual void RemoveDirectory(string path) => Directory.Delete(path, recursive: false);

    public virtual string Read(string path) => Native.ControlFiles.ReadText(path);

    /// <summary>One write(2) of the value, as the kernel expects for control files.</summary>
    public virtual void Write(string path, string value) => Native.ControlFiles.WriteEach(path, [value]);

    /// <summary>One write(2) per value, in order, on one open file (the device list: one rule per write).</summary>
    public virtual void WriteEach(string path, IReadOnlyList<string> values)
    {
        if (values.Count > 0) Native.ControlFiles.WriteEach(path, values);
    }

    /// <summary>Loads a BPF cgroup device program and attaches it to a cgroup2 directory (bpf(2); a test tree records it instead).</summary>
    public virtual void AttachDeviceProgram(string dir, ulong[] program) => Native.Bpf.AttachDeviceProgram(dir, program, "MIT");

    public virtual IEnumerable<string> SubDirectories(string path) =>
        Directory.Exists(path) ? Directory.EnumerateDirectories(path) : [];

    internal string? TryRead(string path)
    {
        // Read at once: a missing file fails the open (no stat before it).
        try { return Read(path); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    internal long? TryReadLong(string path)
    {
        string? text = TryRead(path)?.Trim();
        if (text is null) return null;
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : null;
    }

    internal IReadOnlyList<int> ReadPids(string procsFile)
    {
        string? text = TryRead(procsFile);
        if (text is null) return [];
        var pids = new List<int>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (int.TryParse(line, NumberStyles.Integer, CultureInfo.InvariantCulture, out int pid)) pids.Add(pid);
        return pids;
    }

    /// <summary>The value of "key N" in a flat-keyed file (memory.events, cpu.stat, memory.oom_control).</summary>
    internal static long? KeyedValue(string? text, string key)
    {
        if (text is null) return null;
        foreach (string line in text.Split('\n'))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v))
                return v;
        }
        return null;
    }
}
