using Containers.Core.Cgroups;
using Containers.Core.Native;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// An exited container holds no cgroup. Its monitor removes the directories as its last act (after recording the exit
/// and the OOM count); Start-Container creates them again with the limits. This covers the two gaps: a monitor killed
/// before its last act (the next look at the exited container removes the empty leftovers), and a start racing a
/// monitor that is still finishing (the start waits for it, so it cannot remove the new cgroups).
/// </summary>
internal sealed class CgroupLifetime(ICgroupManager cgroups, ContainerStore store)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<CgroupLifetime>();

    /// <summary>The state of each exited container last found without leftover cgroups.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, ContainerRuntimeState> Clean = new();

    /// <summary>Removes the empty cgroup directories an exited container's dead monitor left. Never kills anything; skipped
    /// while the container's lock is held (a start may be creating fresh ones). <paramref name="cgroupIds"/>, when given,
    /// is a listing's one look at every hierarchy (<see cref="ICgroupManager.ListContainerIds"/>), asked only when needed.</summary>
    public void ReleaseLeftovers(string id, ContainerRuntimeState state, Lazy<IReadOnlySet<string>>? cgroupIds = null)
    {
        // The store hands out the same parsed Stopped state while its file is unchanged: once that state was found to
        // leave nothing behind, listing the container again needs no look at every cgroup hierarchy.
        if (!cgroups.Enabled || Clean.TryGetValue(id, out var done) && ReferenceEquals(done, state)) return;
        // A listing knows which containers have a cgroup at all: most exited ones need no look at their monitor.
        if (cgroupIds is not null && !cgroupIds.Value.Contains(id)) { Clean[id] = state; return; }
        if (MonitorRunning(state)) return;
        if (cgroupIds is null && Released(cgroups, id)) { Clean[id] = state; return; }
        using var held = store.TryLockContainer(id);
        if (held is null) return;
        bool removed = true;
        foreach (string procs in cgroups.ProcsFiles(id))
        {
            string dir = Path.GetDirectoryName(procs)!;
            try { Directory.Delete(dir, recursive: false); }
            catch (DirectoryNotFoundException) { }
            catch (IOException e)
            {
                // The rest stay too: removals go in order (ICgroupManager.Remove).
                removed = false;
                Log.Debug("Leftover cgroup {Dir} of exited container {Id} stays: {Reason}", dir, id, e.Message);
                break;
            }
        }
        if (removed) Clean[id] = state;
        Log.Debug("Removed the leftover cgroups of exited container {Id}", id);
    }

    /// <summary>Whether the stopped run <paramref name="state"/> records was already found to leave no cgroup behind (the same
    /// run: a state read again, not the store's cached copy, when it was written a moment ago). Only a start makes the
    /// cgroups again, and it deletes the state first.</summary>
    public static bool KnownClean(string id, ContainerRuntimeState? state) =>
        state is { Status: ContainerStatus.Stopped } && Clean.TryGetValue(id, out var done) && (ReferenceEquals(done, state)
            || done.MonitorPid == state.MonitorPid && done.StartedAt == state.StartedAt && done.FinishedAt == state.FinishedAt && done.RestartCount == state.RestartCount);

    /// <summary>
    /// Whether the container's cgroup directories are all gone, from one look at the last of them: every removal goes in
    /// the order of <see cref="ICgroupManager.ProcsFiles"/> and stops where it fails (the monitor's last act, Remove, a
    /// failed create), so the last one missing means the others are too. An exited container's monitor is usually still
    /// at its last act when it is removed: one lookup instead of one per hierarchy (cgroupfs lookups of just-removed
    /// directories cost 10-20 us each).
    /// </summary>
    public static bool Released(ICgroupManager cgroups, string id) =>
        cgroups.ProcsFiles(id) is not [.., var last] || !Directory.Exists(Path.GetDirectoryName(last));

    /// <summary>Drops what this session remembers of a removed container.</summary>
    public static void Forget(string id) => Clean.TryRemove(id, out _);

    /// <summary>Whether this session remembers the container as clean (tests: nothing outlives a removal).</summary>
    internal static bool Remembers(string id) => Clean.ContainsKey(id);

    /// <summary>Waits (at most 10 s) for the monitor of the previous run to finish its last act.</summary>
    public static void AwaitPreviousMonitor(ContainerRuntimeState? state)
    {
        if (state is { Status: ContainerStatus.Stopped } && MonitorRunning(state)) Processes.WaitForExit(state.MonitorPid, 10_000);
    }

    private static bool MonitorRunning(ContainerRuntimeState s) =>
        s.MonitorPid > 0 && Processes.Exists(s.MonitorPid) && Processes.State(s.MonitorPid) is not ('Z' or 'X' or null);
}
