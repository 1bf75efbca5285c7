using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Stops (if running) and starts containers again, keeping their writable layer.</summary>
[Cmdlet(VerbsLifecycle.Restart, "Container", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class RestartContainerCommand : NamedContainerCmdlet
{
    [Parameter]
    [ValidateRange(0, 86400)]
    public int Timeout { get; set; } = 10;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var r in ResolveTargets())
        {
            if (!ShouldProcess(Target(r), "Restart container")) continue;
            Core.Runtime.Container? c = null;
            if (TryRun(async ct =>
                {
                    await Runtime.StopAsync(r.Id, TimeSpan.FromSeconds(Timeout), ct).ConfigureAwait(false);
                    c = await Runtime.StartAsync(r.Id, ct).ConfigureAwait(false);
                }) && PassThru)
                WriteObject(c);
        }
    }
}
