using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Stops running containers: the stop signal (SIGTERM or the image's StopSignal), then SIGKILL after -Timeout.</summary>
[Cmdlet(VerbsLifecycle.Stop, "Container", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class StopContainerCommand : MatchedContainerCmdlet
{
    /// <summary>Seconds to wait after the stop signal before SIGKILL (default 10).</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public int Timeout { get; set; } = 10;

    /// <summary>Kills at once (SIGKILL), without the stop signal.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var r in ResolveTargets())
        {
            if (!ShouldProcess(Target(r), "Stop container")) continue;
            Core.Runtime.Container? c = null;
            if (TryRun(async ct => c = await Runtime.StopAsync(r.Id, Force ? TimeSpan.Zero : TimeSpan.FromSeconds(Timeout), ct).ConfigureAwait(false)) && PassThru)
                WriteObject(c);
        }
    }
}
