using Containers.Core.Cgroups;
using Containers.Core.Errors;
using Containers.Core.Native;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>Stop: the stop signal, then SIGKILL to the process and its cgroup after the timeout. The caller holds the container's lock.</summary>
internal sealed class ContainerStopper(ContainerStore store, ICgroupManager cgroups, ContainerStateResolver resolver, ContainerNetworking networking)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerStopper>();

    public async Task<Container> StopAsync(ContainerRecord r, TimeSpan timeout, CancellationToken ct)
    {
        var c = await StopProcessAsync(r, timeout, ct).ConfigureAwait(false);
        // CNI DEL once the processes are gone (also for a container that had exited on its own).
        if (r.NetworkSettings is not null) await networking.DetachAsync(r, ct).ConfigureAwait(false);
        return c;
    }

    private async Task<Container> StopProcessAsync(ContainerRecord r, TimeSpan timeout, CancellationToken ct)
    {
        // First, so the stop wins over a restart in progress: the monitor starts nothing after it sees this (it looks again
        // after every launch, so a command it started just now is killed at once).
        ContainerServices.RequestStop(store, r.Id);
        var c = resolver.Inspect(r);
        if (c.State == ContainerState.Restarting) return await AfterMonitorAsync(r, ct).ConfigureAwait(false);
        if (!c.State.IsActive()) return c;
        int pid = c.Pid;
        if (timeout > TimeSpan.Zero)
        {
            Log.Debug("Sending signal {Signal} to {Name} (pid {Pid})", r.StopSignal, r.Name, pid);
            Processes.Kill(pid, r.StopSignal);
            if (c.State == ContainerState.Paused) cgroups.Thaw(r.Id);
            c = await resolver.WaitForExitAsync(r, timeout, ct).ConfigureAwait(false);
            if (c.State == ContainerState.Restarting) return await AfterMonitorAsync(r, ct).ConfigureAwait(false);
            if (c.State == ContainerState.Exited) return Stopped(r, c);
            // As podman says it: the process ignored (or did not handle in time) its stop signal.
            Log.Warning("Container {Name} did not stop within {Timeout} s of signal {Signal} ({SignalName}): sending SIGKILL", r.Name,
                timeout.TotalSeconds, r.StopSignal, Signals.Name(r.StopSignal));
        }
        Log.Debug("Killing {Name} (pid {Pid})", r.Name, pid);
        store.Event("kill", r, attributes: new() { ["signal"] = "SIGKILL" });
        Processes.Kill(pid, Processes.SIGKILL);
        if (cgroups.Enabled) foreach (int p in cgroups.ListPids(r.Id)) Processes.Kill(p, Processes.SIGKILL);
        if (c.State == ContainerState.Paused || cgroups.IsFrozen(r.Id)) cgroups.Thaw(r.Id);
        c = await resolver.WaitForExitAsync(r, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        if (c.State != ContainerState.Exited)
            throw new ContainersException("StopFailed", ErrorKind.Timeout, $"Container {c} did not stop after SIGKILL.", r.Name);
        if (store.ReadState(r.Id) is { Status: ContainerStatus.Running } stale)
        {
            // The monitor is gone: record the kill ourselves so the container is not left "running".
            stale.Status = ContainerStatus.Stopped;
            stale.ExitCode ??= 128 + Processes.SIGKILL;
            stale.Signal ??= Processes.SIGKILL;
            stale.FinishedAt ??= DateTimeOffset.UtcNow;
            store.WriteState(stale);
            c = resolver.Inspect(r);
        }
        if (c.State == ContainerState.Restarting) return await AfterMonitorAsync(r, ct).ConfigureAwait(false);
        return Stopped(r, c);
    }

    private Container Stopped(ContainerRecord r, Container c)
    {
        Log.Information("Stopped container {Name}", r.Name);
        store.Event("stop", r);
        return c;
    }

    /// <summary>The monitor was waiting out a restart delay when the stop came: it sees the request and ends.</summary>
    private async Task<Container> AfterMonitorAsync(ContainerRecord r, CancellationToken ct)
    {
        if (store.ReadState(r.Id) is { MonitorPid: > 0 } s)
            await Task.Run(() => Processes.WaitForExit(s.MonitorPid, 10_000), ct).ConfigureAwait(false);
        var c = resolver.Inspect(r);
        if (c.State == ContainerState.Restarting)
            throw new ContainersException("StopFailed", ErrorKind.Timeout, $"The monitor of container {c} did not end its restart loop.", r.Name);
        return Stopped(r, c);
    }
}
