using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Services;

/// <summary>
/// Which containers come back after a reboot (<c>Start-Container -Boot</c>, run by pscontainers-restart.service): restart
/// policy Always, or UnlessStopped when no user stopped it. Stop-Container leaves its stop request in the container's
/// directory (persistent, unlike the state files of a boot) until the next start, which is the record of "stopped by a
/// user"; a container whose monitor died with the machine has none.
/// </summary>
internal static class BootStart
{
    public static bool StartsAtBoot(ContainerRestartPolicy policy, bool stoppedByUser) =>
        policy == ContainerRestartPolicy.Always || (policy == ContainerRestartPolicy.UnlessStopped && !stoppedByUser);

    public static bool StoppedByUser(ContainerStore store, string id) => File.Exists(Path.Combine(store.Dir(id), LaunchPlan.StopFileName));

    /// <summary>The containers to start, by name.</summary>
    public static List<ContainerRecord> Select(ContainerStore store) =>
        store.List().Where(r => StartsAtBoot(r.RestartPolicy, StoppedByUser(store, r.Id))).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
}
