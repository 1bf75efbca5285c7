using System.Diagnostics;
using Containers.Core.Cgroups;
using Containers.Core.Native;
using Containers.Core.Networking.Rootless;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// Turns a record and Init's state file into the live <see cref="Container"/>: detects stale state (reboot, a vanished or
/// reused pid, a killed monitor) and waits for an exit on the monitor's pidfd. No daemon: every call reads afresh.
/// </summary>
internal sealed class ContainerStateResolver(ContainerStore store, ICgroupManager cgroups)
{
    /// <summary>CNI networking: an exited container still attached (its monitor killed, or it ended on its own) is detached on sight.</summary>
    internal ContainerNetworking? Networking { get; init; }

    /// <param name="r">The container's record.</param>
    /// <param name="cgroupIds">A listing's one look at the cgroup hierarchies (see <see cref="ICgroupManager.ListContainerIds"/>).</param>
    /// <param name="storeFd">A listing's descriptor of the store directory (see <see cref="ContainerStore.ReadState"/>), or -1.</param>
    public Container Inspect(ContainerRecord r, Lazy<IReadOnlySet<string>>? cgroupIds = null, int storeFd = -1) => Inspect(r, out _, cgroupIds, storeFd);

    /// <param name="r">The container's record.</param>
    /// <param name="read">The state the container was resolved from (null: none), for a caller that needs it too (one read and parse).</param>
    /// <param name="cgroupIds">As above.</param>
    /// <param name="storeFd">As above.</param>
    public Container Inspect(ContainerRecord r, out ContainerRuntimeState? read, Lazy<IReadOnlySet<string>>? cgroupIds = null, int storeFd = -1)
    {
        var s = store.ReadState(r.Id, storeFd);
        var (state, error) = Resolve(r, ref s);
        read = s;
        if (state == ContainerState.Exited && s is not null) new CgroupLifetime(cgroups, store).ReleaseLeftovers(r.Id, s, cgroupIds);
        if (state == ContainerState.Exited && s is { NetworkHelperPid: > 0 }) NetworkHelperLifetime.ReleaseLeftover(s, store.ReadPlan(r.Id)?.NetworkHelper?.ApiSocket);
        if (!state.IsActive()) Networking?.ReleaseLeftovers(r);
        var attachments = r.NetworkSettings is null || Networking is null ? null : Networking.ReadState(r.Id)?.Attachments;
        return new Container
        {
            Id = r.Id,
            Name = r.Name,
            Image = r.Image,
            ImageId = r.ImageId,
            State = state,
            Pid = state.IsActive() ? s?.Pid ?? 0 : 0,
            MonitorPid = state.IsActive() ? s?.MonitorPid ?? 0 : 0,
            ExitCode = state is ContainerState.Exited or ContainerState.Restarting ? s?.ExitCode : null,
            Signal = state is ContainerState.Exited or ContainerState.Restarting ? s?.Signal : null,
            OomKilled = s?.OomKilled ?? false,
            Error = error ?? s?.Error,
            Created = r.Created.LocalDateTime,
            StartedAt = s?.StartedAt?.LocalDateTime,
            FinishedAt = state is ContainerState.Exited or ContainerState.Restarting ? s?.FinishedAt?.LocalDateTime : null,
            // Read-only views: the record may be the store's cached copy.
            Command = r.Command.AsReadOnly(),
            Rootless = r.Rootless,
            Tty = r.Tty,
            Resources = r.Resources,
            Mounts = r.Mounts.AsReadOnly(),
            Labels = r.Labels.AsReadOnly(),
            Network = r.Network,
            Ports = (attachments?.SelectMany(a => a.Ports) ?? r.NetworkSettings?.Publish ?? RootlessPorts(r, state)).Select(p => Core.Networking.PortMapping.Parse(p).ToString()).ToList(),
            IPAddresses = attachments?.SelectMany(a => a.Addresses).ToList() ?? [],
            Hostname = r.Hostname,
            User = r.User,
            RestartPolicy = r.RestartPolicy,
            RestartCount = s?.RestartCount ?? 0,
            Healthcheck = r.Healthcheck,
            Health = ContainerServices.Health(store, r, state),
            Pod = r.PodName,
            PodInfra = r.PodInfra,
        };
    }

    /// <summary>pasta/slirp4netns: the ports of the running helper (random host ports resolved), else the -Publish specs.</summary>
    private List<string> RootlessPorts(ContainerRecord r, ContainerState state) =>
        r.RootlessPublish is not { Count: > 0 } specs ? []
        : state.IsActive() && store.ReadPlan(r.Id)?.NetworkHelper is { } helper ? helper.Published : specs;

    /// <summary>Turns Init's recorded state into the live state, detecting stale records (reboot, vanished pid, killed monitor).</summary>
    private (ContainerState, string?) Resolve(ContainerRecord r, ref ContainerRuntimeState? s)
    {
        if (s is null) return (ContainerState.Created, null);
        switch (s.Status)
        {
            case ContainerStatus.Stopped:
                return (s.RestartPending && SameBoot(s) && ContainerServices.MonitorAlive(s) ? ContainerState.Restarting : ContainerState.Exited, null);
            case ContainerStatus.Created:
                return Processes.Exists(s.MonitorPid) && SameBoot(s) ? (ContainerState.Created, null) : (ContainerState.Exited, "The monitor ended before the container started.");
        }
        if (!SameBoot(s)) return (ContainerState.Exited, "The host rebooted since the container ran; its state is stale.");
        if (Alive(s)) return (cgroups.IsFrozen(r.Id) ? ContainerState.Paused : ContainerState.Running, null);
        // The process is gone. A living monitor records the exit and then ends: wait (up to 200 ms) for the record or its
        // end (inotify and a pidfd) rather than polling the state file every 5 ms, which cost Start-Container -Wait of a
        // short command up to a slice per look (the start's own Inspect often comes right after /bin/true has exited). The
        // record comes first: the monitor then removes the cgroups and exits, which a following start waits for.
        var waited = Stopwatch.StartNew();
        using var watch = StateWatch.Open(store.Dir(r.Id));
        // Looked at after the watch is armed: a record written after this look wakes the wait.
        var seen = store.ReadState(r.Id);
        while (seen?.Status != ContainerStatus.Stopped && Processes.Exists(s.MonitorPid) && Processes.State(s.MonitorPid) != 'Z' && waited.ElapsedMilliseconds < 200)
        {
            int left = (int)Math.Max(1, 200 - waited.ElapsedMilliseconds);
            bool? ended = watch is null ? Processes.WaitForExit(s.MonitorPid, left) : watch.WaitForRecordOrExit(s.MonitorPid, left);
            seen = store.ReadState(r.Id);
            if (ended is null) Thread.Sleep(5); // no pidfd: look again in a moment
            else if (ended == true) break;
        }
        if ((seen?.Status == ContainerStatus.Stopped ? seen : store.ReadState(r.Id)) is { Status: ContainerStatus.Stopped } last) { s = last; return (ContainerState.Exited, null); }
        ContainerServices.RecordLostExit(store, r);
        return (ContainerState.Exited, "The container's monitor ended without recording its exit.");
    }

    /// <summary>State written before a reboot describes processes that no longer exist (a null boot id is trusted).</summary>
    public static bool SameBoot(ContainerRuntimeState s) => s.BootId is null || s.BootId == Processes.BootId();

    /// <summary>The recorded pid still runs and is the same process (its start time matches, so a reused pid is not).</summary>
    public static bool Alive(ContainerRuntimeState s)
    {
        if (s.Pid <= 0 || !Processes.Exists(s.Pid)) return false;
        if (Processes.State(s.Pid) is 'Z' or 'X' or null) return false;
        return s.PidStartTime == 0 || Processes.StartTime(s.Pid) == s.PidStartTime;
    }

    private const int HereMs = 20;

    private static bool? WaitSlice(StateWatch? watch, int monitorPid, int ms) =>
        watch is null ? Processes.WaitForExit(monitorPid, ms) : watch.WaitForRecordOrExit(monitorPid, ms);

    /// <summary>Waits until the container is no longer running or paused, or the timeout passes; returns its state then.</summary>
    public async Task<Container> WaitForExitAsync(ContainerRecord r, TimeSpan timeout, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        bool monitorGone = false;
        // Armed before the first look, so a record written after it wakes the wait.
        using var watch = StateWatch.Open(store.Dir(r.Id));
        while (true)
        {
            var c = Inspect(r);
            if (!c.State.IsActive()) return c;
            if (timeout != Timeout.InfiniteTimeSpan && sw.Elapsed >= timeout) return c;
            // The monitor records the exit and then ends: wait for the record (inotify) or its end (a pidfd) rather
            // than polling the state file (the 15 ms poll cost a /bin/true run up to 15 ms); the record comes a few
            // hundred microseconds before the end. Slices of at most 100 ms keep cancellation and the timeout
            // responsive. A monitor that is already gone (killed; the container lives on) or a kernel without
            // pidfd_open falls back to the poll.
            // The first 20 ms are waited on the caller's thread: most short commands end within them, and the hop to the
            // thread pool and back (two wake-ups) cost Start-Container -Wait ~0.1 ms. Later slices go to the pool, so a
            // long wait never holds the caller's thread (a build's parallel stages, a pipeline's pump) for longer.
            int hereLeft = HereMs - (int)sw.ElapsedMilliseconds;
            int slice = hereLeft > 0 ? hereLeft : 100;
            if (timeout != Timeout.InfiniteTimeSpan) slice = (int)Math.Clamp((timeout - sw.Elapsed).TotalMilliseconds, 1, slice);
            bool? ended;
            if (monitorGone) ended = null;
            else if (hereLeft > 0) ended = WaitSlice(watch, c.MonitorPid, slice);
            else ended = await Task.Run(() => WaitSlice(watch, c.MonitorPid, slice), ct).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            if (ended is null) await Task.Delay(15, ct).ConfigureAwait(false);
            else if (ended == true)
            {
                var again = Inspect(r);
                if (!again.State.IsActive()) return again;
                monitorGone = true;
            }
        }
    }
}
