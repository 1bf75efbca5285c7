using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;
using Containers.Core.Spec;

namespace Containers.Core.Runtime;

/// <summary>New-Container's restart and health options checked and merged with the image's HEALTHCHECK, as podman does.</summary>
internal static class ServiceOptions
{
    /// <summary>Throws InvalidMaxRestarts (podman: "restart policy retries can only be specified with on-failure").</summary>
    public static int MaxRestarts(ContainerCreateOptions o)
    {
        if (o.MaxRestarts is not { } n || n == 0) return 0;
        if (n < 0)
            throw new ContainersException("InvalidMaxRestarts", ErrorKind.InvalidArgument, $"-MaxRestarts {n} is negative.", n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (o.RestartPolicy != ContainerRestartPolicy.OnFailure)
            throw new ContainersException("InvalidMaxRestarts", ErrorKind.InvalidArgument,
                $"-MaxRestarts only applies to -RestartPolicy OnFailure, not {o.RestartPolicy}.", o.RestartPolicy.ToString(), "Use -RestartPolicy OnFailure, or leave -MaxRestarts out.");
        return n;
    }

    /// <summary>The check the container runs: -HealthCommand over the image's HEALTHCHECK, the other -Health* values over
    /// the image's (then Docker's defaults: 30 s, 30 s, 0 s, 3). Null when neither has one, or for <c>none</c>/NONE.</summary>
    public static ContainerHealthcheck? Healthcheck(ContainerCreateOptions o, HealthConfig? image)
    {
        List<string>? test = o.HealthCommand switch
        {
            null or [] => image?.Test?.ToList(),
            [var one] when one.Equals("none", StringComparison.OrdinalIgnoreCase) => null,
            [var shell] => ["CMD-SHELL", shell],
            var argv => ["CMD", .. argv],
        };
        if (test is null || test.Count < 2 || test[0] is not ("CMD" or "CMD-SHELL")) return null;
        var h = new ContainerHealthcheck
        {
            Test = test,
            Interval = o.HealthInterval ?? FromNs(image?.Interval) ?? TimeSpan.FromSeconds(30),
            Timeout = o.HealthTimeout ?? FromNs(image?.Timeout) ?? TimeSpan.FromSeconds(30),
            StartPeriod = o.HealthStartPeriod ?? FromNs(image?.StartPeriod) ?? TimeSpan.Zero,
            Retries = o.HealthRetries ?? (image?.Retries is int r and > 0 ? r : 3),
            OnFailure = o.HealthOnFailure,
        };
        if (h.Interval <= TimeSpan.Zero || h.Timeout <= TimeSpan.Zero || h.StartPeriod < TimeSpan.Zero || h.Retries < 1)
            throw new ContainersException("InvalidHealthcheck", ErrorKind.InvalidArgument,
                $"The health check needs a positive interval and timeout, a start period of zero or more and at least one retry (got {h.Interval}, {h.Timeout}, {h.StartPeriod}, {h.Retries}).",
                string.Join(' ', h.Command));
        return h;
    }

    /// <summary>Durations in Docker's config are nanoseconds; 0 means "the default".</summary>
    private static TimeSpan? FromNs(long? ns) => ns is > 0 ? TimeSpan.FromTicks(ns.Value / 100) : null;
}
