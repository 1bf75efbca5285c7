using Containers.Core.Cgroups;
using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// Remove: the directory moved into the store's trash in one rename and deleted in the background (<see cref="ContainerTrash"/>);
/// a container with files of subordinate ids has its record deleted first (so a half-removed directory is never listed),
/// then its directory, through <see cref="InitLauncher.RemoveTreeInUserNamespace"/> when this user cannot.
/// </summary>
internal sealed class ContainerRemover(ContainerStore store, ICgroupManager cgroups, ContainerStateResolver resolver, ContainerStopper stopper, InitLauncher launcher)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerRemover>();

    public async Task RemoveAsync(ContainerRecord r, bool force, CancellationToken ct)
    {
        (List<LinuxIdMapping> Uids, List<LinuxIdMapping> Gids)? maps;
        bool trashed;
        using var storeLock = await store.LockStoreAsync(ct).ConfigureAwait(false);
        using (var lk = await store.LockContainerAsync(r.Id, ct).ConfigureAwait(false))
        {
            var c = resolver.Inspect(r, out var seen);
            // Restarting: its monitor waits to start it again; the stop request ends that before the directory goes.
            if (c.State.IsActive() || c.State == ContainerState.Restarting)
            {
                if (!force)
                    throw new ContainersException("ContainerRunning", ErrorKind.InvalidState, $"Container {c} is running.", c.Name,
                        "Stop it first, or use -Force.");
                await stopper.StopAsync(r, TimeSpan.Zero, ct).ConfigureAwait(false);
            }
            else if (r.NetworkSettings is not null) await stopper.StopAsync(r, TimeSpan.Zero, ct).ConfigureAwait(false); // CNI DEL of a leftover attachment
            if (r.Rootless && store.ReadState(r.Id) is { NetworkHelperPid: > 0 } s)
                Networking.Rootless.NetworkHelperLifetime.AwaitEnd(s, store.ReadPlan(r.Id)?.NetworkHelper?.ApiSocket, TimeSpan.FromSeconds(2));
            ReleaseCgroups(r, c.State, seen);
            CgroupParentRelease.Later(cgroups);
            // Read before anything is deleted: the bundle goes with the directory.
            maps = r.Rootless ? SubordinateIdMaps(r) : null;
            // One rename takes the whole container out of the store (files of subordinate ids need the deletion below,
            // in a user namespace); otherwise the record goes first, so a half-removed directory is never listed.
            trashed = maps is null && ContainerTrash.Move(store, r.Id);
            store.DeleteRecord(r, trashed ? ContainerTrash.PathOf(store, r.Id) : null);
            CgroupLifetime.Forget(r.Id);
        }
        if (trashed)
        {
            ContainerTrash.EmptyLater(store);
            Removed(r);
            return;
        }
        string dir = store.Dir(r.Id);
        try
        {
            try { ContainerStore.DeleteTree(dir); }
            catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && maps is { } m)
            {
                // Files the container wrote as a subordinate id (chown 1000, a process running as uid 1000) sit in
                // directories this user does not own: only root of a user namespace with the same maps may unlink them.
                Log.Debug("Deleting {Dir} as this user failed ({Reason}); deleting it in a user namespace with the container's id maps", dir, e.Message);
                launcher.RemoveTreeInUserNamespace(dir, m.Uids, m.Gids);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainersException("ContainerRemoveFailed", ErrorKind.ResourceUnavailable,
                $"Container {r.Name} was removed but its directory {store.Dir(r.Id)} could not be deleted: {e.Message}", r.Name);
        }
        Removed(r);
    }

    /// <summary>An exited container's monitor removes its cgroups as its last act: a run already found without leftovers (by
    /// the Inspect above), or whose last directory is gone (<see cref="CgroupLifetime.Released"/>), needs no second look.
    /// Otherwise what is there goes now, without waiting for a monitor that may still be at it (a busy cgroup keeps it
    /// trying for seconds) or may be killed before it is done.</summary>
    /// <param name="r">The container.</param>
    /// <param name="state">Its state as the Inspect above resolved it.</param>
    /// <param name="seen">The state file that Inspect read (final once Exited: the container's lock is held, and only a start writes a new one).</param>
    private void ReleaseCgroups(ContainerRecord r, ContainerState state, ContainerRuntimeState? seen)
    {
        if (state == ContainerState.Exited && (CgroupLifetime.KnownClean(r.Id, seen) || CgroupLifetime.Released(cgroups, r.Id))) return;
        cgroups.Remove(r.Id);
    }

    private void Removed(ContainerRecord r)
    {
        Log.Information("Removed container {Name} ({Id})", r.Name, r.Id[..12]);
        store.Event("remove", r);
    }

    /// <summary>The uid and gid maps of a container that maps subordinate ranges (more than the user's own id); null otherwise.</summary>
    private (List<LinuxIdMapping> Uids, List<LinuxIdMapping> Gids)? SubordinateIdMaps(ContainerRecord r) =>
        store.ReadSpec(r.Id)?.Linux is { UidMappings: { Count: > 1 } uids, GidMappings: { Count: > 0 } gids } ? (uids, gids) : null;
}
