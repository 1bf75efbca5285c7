using Containers.Core.Errors;
using Containers.Core.Volumes;

namespace Containers.Core.Runtime;

/// <summary>
/// The named volumes with what only the runtime knows: which containers mount each (their records), and how to delete
/// files a rootless container wrote as subordinate ids. Removal holds the container store's lock, which create holds
/// while it makes and copies up volumes, so a volume is never removed under a container being created with it.
/// </summary>
internal sealed class ContainerVolumes(ContainerRuntime runtime)
{
    private readonly VolumeStore _store = new(runtime.Paths);

    public ContainerVolume Create(string name, IReadOnlyDictionary<string, string>? labels)
    {
        var record = _store.Create(name, labels);
        return _store.ToVolume(record, []);
    }

    public List<ContainerVolume> List()
    {
        var records = runtime.Store.List();
        return _store.List().Select(v => _store.ToVolume(v, Users(v.Name, records))).ToList();
    }

    /// <summary>The volume, or VolumeNotFound.</summary>
    public ContainerVolume Get(string name) =>
        _store.Read(name) is { } v ? _store.ToVolume(v, Users(name, runtime.Store.List())) : throw NotFound(name);

    /// <summary>Removes an unused volume; in use, VolumeInUse unless <paramref name="force"/>, which removes those containers first (as podman volume rm -f).</summary>
    public async Task RemoveAsync(string name, bool force, CancellationToken ct)
    {
        if (_store.Read(name) is null) throw NotFound(name);
        if (force)
            foreach (var r in UserRecords(name, runtime.Store.List()))
                await runtime.RemoveAsync(r.Id, force: true, ct).ConfigureAwait(false);
        using (await runtime.Store.LockStoreAsync(ct).ConfigureAwait(false))
        {
            var users = Users(name, runtime.Store.List());
            if (users.Count > 0)
                throw new ContainersException("VolumeInUse", ErrorKind.InvalidState,
                    $"The volume '{name}' is used by container(s) {string.Join(", ", users)}.", name,
                    "Remove those containers first, or use -Force to remove them with the volume.");
            Delete(name);
        }
    }

    /// <summary>Every volume with its bytes (measured by <paramref name="size"/>).</summary>
    internal List<(ContainerVolume Volume, long Size)> WithSizes(Func<IEnumerable<string>, long> size) =>
        List().Select(v => (v, size([_store.Dir(v.Name)]))).ToList();

    private void Delete(string name)
    {
        try { _store.Delete(name); }
        catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && runtime.Paths.Rootless)
        {
            // Files a container wrote as a subordinate id: only root of a user namespace with the user's maps may unlink them.
            var maps = runtime.IdMaps.For(0, 0);
            runtime.RemoveTreeInUserNamespace(_store.Dir(name), maps.Uid, maps.Gid);
        }
    }

    private static List<string> Users(string name, List<ContainerRecord> records) => UserRecords(name, records).Select(r => r.Name).ToList();

    private static IEnumerable<ContainerRecord> UserRecords(string name, List<ContainerRecord> records) =>
        records.Where(r => r.Mounts.Any(m => m.Type == VolumeSpec.VolumeType && m.Volume == name)).OrderBy(r => r.Name, StringComparer.Ordinal);

    internal static ContainersException NotFound(string name) =>
        new("VolumeNotFound", ErrorKind.NotFound, $"No volume is named '{name}'.", name, "List volumes with Get-ContainerVolume.");
}
