using System.Text.Json;
using Containers.Core.Configuration;
using Containers.Core.Errors;

namespace Containers.Core.Volumes;

/// <summary>
/// Named volumes under the data root, laid out as podman lays them out: <c>volumes/&lt;name&gt;/_data</c> (what containers
/// mount) with <c>volume.json</c> beside it. A volume appears by rename of a complete directory, so a reader never sees
/// half of one and two creators of the same name cannot both win. Which containers use a volume is read from their
/// records by the caller (Runtime), which also guards removal against a concurrent create with the container store's lock.
/// </summary>
internal sealed class VolumeStore(ContainerPaths paths)
{
    public const string LocalDriver = "local";
    public const string DataDirName = "_data";
    private const string RecordFile = "volume.json";
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<VolumeStore>();

    public string Root { get; } = Path.Combine(paths.DataDir, "volumes");

    public string Dir(string name) => Path.Combine(Root, name);
    public string DataPath(string name) => Path.Combine(Root, name, DataDirName);
    private string RecordPath(string name) => Path.Combine(Root, name, RecordFile);
    /// <summary>Held while a volume's content is copied up (outside the volume's directory, so removal leaves nothing behind).</summary>
    private string LockPath(string name) => Path.Combine(Root, ".locks", name + ".lock");

    /// <summary>podman's rule: a letter or digit, then letters, digits, <c>_ . -</c>.</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 128 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    public static void Validate(string name)
    {
        if (!IsValidName(name))
            throw new ContainersException("InvalidVolumeName", ErrorKind.InvalidArgument,
                $"'{name}' is not a valid volume name: use letters, digits, '_', '.' and '-', starting with a letter or digit.", name,
                "Give a volume name such as pgdata, or an absolute host path to bind (e.g. (Resolve-Path ./dir).Path).");
    }

    public bool Exists(string name) => IsValidName(name) && File.Exists(RecordPath(name));

    /// <summary>Creates the volume; VolumeExists when the name is taken.</summary>
    public VolumeRecord Create(string name, IReadOnlyDictionary<string, string>? labels)
    {
        Validate(name);
        var record = new VolumeRecord { Name = name, Created = DateTimeOffset.UtcNow };
        foreach (var (k, v) in labels ?? new Dictionary<string, string>()) record.Labels[k] = v;
        if (!TryCreate(record))
            throw new ContainersException("VolumeExists", ErrorKind.AlreadyExists, $"A volume named '{name}' already exists.", name,
                "Use it as it is (-Volume name:/path), or remove it first with Remove-ContainerVolume.");
        Log.Information("Created volume {Name}", name);
        return record;
    }

    /// <summary>The volume of that name, made when missing (first use by -Volume); <paramref name="created"/> says which.</summary>
    public VolumeRecord GetOrCreate(string name, out bool created)
    {
        Validate(name);
        created = false;
        if (Read(name) is { } existing) return existing;
        var record = new VolumeRecord { Name = name, Created = DateTimeOffset.UtcNow };
        if (TryCreate(record))
        {
            created = true;
            Log.Information("Created volume {Name} on first use", name);
            return record;
        }
        return Read(name) ?? throw new ContainersException("VolumeUnreadable", ErrorKind.InvalidData, $"The volume '{name}' has no readable record.", name);
    }

    /// <summary>Builds the whole volume in a private temp directory and renames it into place; false when the name exists.</summary>
    private bool TryCreate(VolumeRecord record)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        PrivateStore.EnsureDirectory(Root);
        string temp = Path.Combine(Root, ".new-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            PrivateStore.CreateDirectory(temp);
            // The data directory is what containers see: 0755 like podman's, whatever the umask.
            Directory.CreateDirectory(Path.Combine(temp, DataDirName), (UnixFileMode)0x1ED);
            AtomicFile.Write(Path.Combine(temp, RecordFile), JsonSerializer.SerializeToUtf8Bytes(record, VolumeJsonContext.Default.VolumeRecord), PrivateStore.FileMode);
            if (Directory.Exists(Dir(record.Name))) return false;
            try { Directory.Move(temp, Dir(record.Name)); }
            catch (IOException) when (Directory.Exists(Dir(record.Name))) { return false; }
            return true;
        }
        finally
        {
            if (Directory.Exists(temp)) DirectoryTree.Delete(temp);
        }
    }

    public VolumeRecord? Read(string name)
    {
        if (!IsValidName(name)) return null;
        try { return JsonSerializer.Deserialize(File.ReadAllBytes(RecordPath(name)), VolumeJsonContext.Default.VolumeRecord); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        catch (JsonException e)
        {
            Log.Warning("The volume record {Path} is not readable: {Error}", RecordPath(name), e.Message);
            return null;
        }
    }

    public List<VolumeRecord> List()
    {
        if (!Directory.Exists(Root)) return [];
        return Directory.EnumerateDirectories(Root).Select(Path.GetFileName).Where(n => n is not null && IsValidName(n))
            .Select(n => Read(n!)).OfType<VolumeRecord>().OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

    public ContainerVolume ToVolume(VolumeRecord r, IReadOnlyList<string> inUseBy) => new()
    {
        Name = r.Name, Mountpoint = DataPath(r.Name), Labels = r.Labels, CreatedAt = r.Created.LocalDateTime, InUseBy = inUseBy,
    };

    /// <summary>
    /// Copies what the image has at <paramref name="destination"/> into the volume the first time a container mounts it, when
    /// the volume is still empty (podman's copy-up); under the volume's own file lock, so two containers created at once
    /// with a new volume copy once. Later mounts find the flag cleared and copy nothing.
    /// </summary>
    public async Task CopyUpAsync(string name, IReadOnlyList<string> layerDirectoriesBottomFirst, string destination, bool rootless,
        (uint Uid, uint Gid)? owner, CancellationToken ct)
    {
        using var volumeLock = await FileLock.AcquireAsync(LockPath(name), ct).ConfigureAwait(false);
        var record = Read(name);
        if (record is null || !record.NeedsCopyUp) return;
        string data = DataPath(name);
        if (!Directory.EnumerateFileSystemEntries(data).Any())
        {
            string staging = Path.Combine(Dir(name), ".copyup-" + Guid.NewGuid().ToString("N")[..12]);
            try
            {
                await Task.Run(() => VolumeCopyUp.Copy(layerDirectoriesBottomFirst, destination, staging, data, rootless, owner, ct), ct).ConfigureAwait(false);
            }
            finally
            {
                if (Directory.Exists(staging)) DirectoryTree.Delete(staging);
            }
        }
        record.NeedsCopyUp = false;
        AtomicFile.Write(RecordPath(name), JsonSerializer.SerializeToUtf8Bytes(record, VolumeJsonContext.Default.VolumeRecord), PrivateStore.FileMode);
    }

    /// <summary>Deletes the volume's directory as this user (the caller falls back to a user namespace for subordinate ids).</summary>
    public void Delete(string name)
    {
        // The record goes first: a half-deleted volume is never listed.
        File.Delete(RecordPath(name));
        DirectoryTree.Delete(Dir(name));
        try { File.Delete(LockPath(name)); } catch (IOException) { }
        Log.Information("Removed volume {Name}", name);
    }
}
