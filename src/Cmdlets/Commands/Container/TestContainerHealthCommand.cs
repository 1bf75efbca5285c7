using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>
/// Runs a container's health check now (podman healthcheck run) and returns its health after this result; the result
/// counts as the monitor's own do, and an unhealthy turn takes the -HealthOnFailure action.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "ContainerHealth", DefaultParameterSetName = NameSet)]
[OutputType(typeof(ContainerHealth))]
public sealed class TestContainerHealthCommand : NamedContainerCmdlet
{
    protected override void ProcessRecord()
    {
        foreach (var r in ResolveTargets())
        {
            ContainerHealth? health = null;
            if (TryRun(async ct => health = await new HealthCheckRunner(Runtime).RunAsync(r.Id, ct).ConfigureAwait(false))) WriteObject(health);
        }
    }
}
