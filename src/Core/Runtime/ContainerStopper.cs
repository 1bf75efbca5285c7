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
        var c = resolver.Inspect(r);
        if (!c.State.IsActive()) return c;
        int pid = c.Pid;
        if (timeout > TimeSpan.Zero)
        {
            Log.Debug("Sending signal {Signal} to {Name} (pid {Pid})", r.StopSignal, r.Name, pid);
            Processes.Kill(pid, r.StopSignal);
            if (c.State == ContainerState.Paused) cgroups.Thaw(r.Id);
            c = await resolver.WaitForExitAsync(r, timeout, ct).ConfigureAwait(false);
            if (c.State == ContainerState.Exited) { Log.Information("Stopped container {Name}", r.Name); return c; }
        }
        Log.Debug("Killing {Name} (pid {Pid})", r.Name, pid);
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
        Log.Information("Stopped container {Name}", r.Name);
        return c;
    }
}
