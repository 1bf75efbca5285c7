namespace Containers.Core.Cgroups;

/// <summary>
/// The shared <c>pscontainers</c> parent goes a moment after the last container's removal instead of with it: a script
/// that removes a container and starts the next (create, start, wait, remove in a loop) had the parent removed and made
/// again in every hierarchy each time, 20 cgroupfs mkdirs and rmdirs (about 0.4 ms) per container. Each removal asks for
/// the release; it runs once no removal asked for <see cref="Delay"/>, and at the latest when the session exits. A session
/// killed meanwhile leaves the empty parent to the next removal in any session. The release itself is unchanged
/// (<see cref="ICgroupManager.RemoveParentIfEmpty"/>: a live child keeps the parent).
/// </summary>
internal static class CgroupParentRelease
{
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(2);

    private static readonly Lock Gate = new();
    /// <summary>Each session's cmdlets make managers of their own: one pending release per set of parents (its hierarchies' paths).</summary>
    private static readonly Dictionary<string, ICgroupManager> Pending = new(StringComparer.Ordinal);
    private static Timer? s_timer;

    static CgroupParentRelease() => AppDomain.CurrentDomain.ProcessExit += (_, _) => ReleaseNow();

    /// <summary>Removes the empty parent of <paramref name="cgroups"/> once no other removal asked for <paramref name="delay"/>
    /// (<see cref="Delay"/> when null).</summary>
    public static void Later(ICgroupManager cgroups, TimeSpan? delay = null)
    {
        string parents = string.Join('\n', cgroups.ProcsFiles(""));
        lock (Gate)
        {
            Pending[parents] = cgroups;
            s_timer ??= new Timer(_ => ReleaseNow());
            s_timer.Change(delay ?? Delay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Runs the pending releases now (the session exits).</summary>
    public static void ReleaseNow()
    {
        ICgroupManager[] due;
        lock (Gate)
        {
            due = [.. Pending.Values];
            Pending.Clear();
        }
        foreach (var cgroups in due) cgroups.RemoveParentIfEmpty();
    }
}
