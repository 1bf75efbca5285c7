using Containers.Core.Errors;
using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Services;

/// <summary>Update-Container's check of a new container: with a health check, it must become healthy.</summary>
internal static class HealthWait
{
    /// <summary>Returns when the check passes (at once without a check); throws ContainerUnhealthy when it fails, the
    /// container stops, or it is not healthy within the start period plus a run of every retry.</summary>
    public static async Task UntilHealthyAsync(ContainerRuntime runtime, Container started, CancellationToken ct)
    {
        if (started.Healthcheck is not { } h) return;
        var limit = h.StartPeriod + (h.Interval + h.Timeout) * (h.Retries + 1);
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var c = runtime.Get(started.Id);
            if (c.State != ContainerState.Running)
                throw Unhealthy(c, $"it is {c.State.ToString().ToLowerInvariant()} ({c.Status})");
            if (c.Health?.Status == ContainerHealthStatus.Healthy) return;
            if (c.Health?.Status == ContainerHealthStatus.Unhealthy)
                throw Unhealthy(c, "its health check failed: " + (c.Health.LastCheck?.Output.Trim() is { Length: > 0 } o ? o : $"exit code {c.Health.LastCheck?.ExitCode}"));
            if (DateTime.UtcNow > deadline) throw Unhealthy(c, $"it was not healthy within {limit.TotalSeconds:0} s");
            await Task.Delay(200, ct).ConfigureAwait(false);
        }
    }

    private static ContainersException Unhealthy(Container c, string why) =>
        new("ContainerUnhealthy", ErrorKind.InvalidState, $"The new container {c.Name} is not healthy: {why}.", c.Name);
}
