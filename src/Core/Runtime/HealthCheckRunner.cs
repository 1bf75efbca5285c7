using System.Text;
using Containers.Core.Errors;
using Containers.Core.Native;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// Test-ContainerHealth: runs the container's health check now, through <c>pscontainers-init exec</c> as its monitor does,
/// records the result in <c>health.json</c> (under its lock, beside the monitor's own results) and, when this result
/// turns the container unhealthy, takes its -HealthOnFailure action as the monitor would.
/// </summary>
internal sealed class HealthCheckRunner(ContainerRuntime runtime)
{
    /// <summary>Created by a health action "restart" taken outside the monitor: the monitor starts the container again
    /// after this exit whatever its restart policy.</summary>
    public const string RestartRequestFile = "restart-requested";

    public async Task<ContainerHealth> RunAsync(string nameOrId, CancellationToken ct)
    {
        var store = runtime.Store;
        var r = store.Get(nameOrId);
        var h = r.Healthcheck ?? throw new ContainersException("NoHealthcheck", ErrorKind.InvalidState,
            $"Container {r.Name} has no health check.", r.Name, "Create it with -HealthCommand, or from an image with a HEALTHCHECK.");
        var c = runtime.Inspect(r);
        if (c.State != ContainerState.Running)
            throw new ContainersException("ContainerNotRunning", ErrorKind.InvalidState, $"Container {c} is {c.State.ToString().ToLowerInvariant()}, not running.", c.Name);
        runtime.Launcher.EnsureExists();
        string processFile = ContainerServices.WriteHealthProcess(r, store, h);

        var output = new StringBuilder();
        void Add(string line) { lock (output) if (output.Length < HealthRules.MaxOutput) output.Append(line).Append('\n'); }
        var start = DateTimeOffset.UtcNow;
        int code;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(h.Timeout);
            try { code = await runtime.Launcher.ExecAsync(store.Dir(r.Id), processFile, inherit: false, tty: false, r.Name, Add, Add, null, timeout.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                code = -1;
                Add($"Timed out after {h.Timeout.TotalSeconds} s.");
            }
        }
        var result = new HealthCheckRecord { Start = start, End = DateTimeOffset.UtcNow, ExitCode = code, Output = output.ToString() };
        var startedAt = new DateTimeOffset(c.StartedAt ?? DateTime.Now);
        var (before, after) = HealthRules.Record(store.Dir(r.Id), result, h.Retries, startedAt + h.StartPeriod);
        if (after.Status != before)
        {
            store.Event("health_status", r, attributes: new() { ["health_status"] = after.Status.ToString().ToLowerInvariant() });
            if (after.Status == ContainerHealthStatus.Unhealthy && h.OnFailure != ContainerHealthAction.None) Act(r, c, h.OnFailure);
        }
        return ContainerHealth.From(r.Name, after);
    }

    private void Act(ContainerRecord r, Container c, ContainerHealthAction action)
    {
        if (action == ContainerHealthAction.Restart)
            File.WriteAllBytes(Path.Combine(runtime.Store.Dir(r.Id), RestartRequestFile), []);
        runtime.Store.Event("kill", r, attributes: new() { ["signal"] = "SIGKILL", ["reason"] = "unhealthy" });
        Processes.Kill(c.Pid, Processes.SIGKILL);
    }
}
