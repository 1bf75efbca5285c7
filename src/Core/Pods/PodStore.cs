using System.Text.Json;
using Containers.Core.Configuration;
using Containers.Core.Errors;
using Containers.Core.Runtime;

namespace Containers.Core.Pods;

/// <summary>
/// The pod records under <c>pods/</c> of the data root, one directory per pod (<c>&lt;id&gt;/pod.json</c>, private like the
/// container store). One lock file (<c>pods/.lock</c>) is held while a pod is created or removed and while a container
/// joins one, so names stay unique and a pod being removed gains no container. Order: the pod lock, then the container
/// store's lock.
/// </summary>
internal sealed class PodStore(ContainerPaths paths) : IPodDirectory
{
    private const string RecordFile = "pod.json";
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<PodStore>();

    public string Root { get; } = Path.Combine(paths.DataDir, "pods");

    public string Dir(string id) => Path.Combine(Root, id);
    private string RecordPath(string id) => Path.Combine(Dir(id), RecordFile);

    public async Task<IDisposable> LockAsync(CancellationToken ct) =>
        await FileLock.AcquireAsync(Path.Combine(Root, ".lock"), ct).ConfigureAwait(false);

    public PodMembership Resolve(string nameOrId) => Get(nameOrId).Membership();

    public List<PodRecord> List()
    {
        if (!Directory.Exists(Root)) return [];
        return Directory.EnumerateDirectories(Root).Select(Path.GetFileName).Where(n => n is not null && NameGenerator.IsFullId(n))
            .Select(n => Read(n!)).OfType<PodRecord>().OrderBy(p => p.Created).ToList();
    }

    public PodRecord? Read(string id)
    {
        try { return JsonSerializer.Deserialize(File.ReadAllBytes(RecordPath(id)), PodJsonContext.Default.PodRecord); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        catch (JsonException e)
        {
            Log.Warning("The pod record {Path} is not readable: {Error}", RecordPath(id), e.Message);
            return null;
        }
    }

    /// <summary>A full id, an exact name, or a unique id prefix; null when nothing matches (an ambiguous prefix throws).</summary>
    public PodRecord? Find(string nameOrId, List<PodRecord>? all = null)
    {
        all ??= List();
        if (all.FirstOrDefault(p => p.Name == nameOrId || p.Id == nameOrId) is { } exact) return exact;
        string lower = nameOrId.ToLowerInvariant();
        if (lower.Length == 0 || !lower.All(char.IsAsciiHexDigitLower)) return null;
        var matches = all.Where(p => p.Id.StartsWith(lower, StringComparison.Ordinal)).ToList();
        if (matches.Count > 1)
            throw new ContainersException("AmbiguousPodId", ErrorKind.InvalidArgument,
                $"The id prefix '{nameOrId}' matches {matches.Count} pods.", nameOrId, "Give more digits of the id, or the name.");
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>Like <see cref="Find"/> but throws PodNotFound.</summary>
    public PodRecord Get(string nameOrId) =>
        Find(nameOrId) ?? throw NotFound(nameOrId);

    public static ContainersException NotFound(string nameOrId) => new("PodNotFound", ErrorKind.NotFound,
        $"No pod has the name or id '{nameOrId}'.", nameOrId, "List pods with Get-ContainerPod, or create one with New-ContainerPod.");

    /// <summary>Writes the record durably (the pod exists from then on).</summary>
    public void Write(PodRecord record)
    {
        PrivateStore.EnsureDirectory(Root);
        PrivateStore.CreateDirectory(Dir(record.Id));
        AtomicFile.Write(RecordPath(record.Id), JsonSerializer.SerializeToUtf8Bytes(record, PodJsonContext.Default.PodRecord), PrivateStore.FileMode);
    }

    /// <summary>The record first (so a half-removed pod is never listed), then its directory.</summary>
    public void Delete(string id)
    {
        File.Delete(RecordPath(id));
        DirectoryTree.Delete(Dir(id));
    }

    /// <summary>The empty, read-only lower layer of every infra container (it runs no command, so it needs no files).</summary>
    public string InfraRootfs()
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        string dir = Path.Combine(Root, ".infra-rootfs");
        PrivateStore.EnsureDirectory(Root);
        Directory.CreateDirectory(dir, (UnixFileMode)0x1ED);
        return dir;
    }
}
