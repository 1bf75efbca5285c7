using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Waits until containers exit and outputs them with their exit codes.</summary>
[Cmdlet(VerbsLifecycle.Wait, "Container", DefaultParameterSetName = NameSet)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class WaitContainerCommand : NamedContainerCmdlet
{
    /// <summary>Seconds to wait at most; a container still running then is a WaitTimeout error.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Timeout { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var r in ResolveTargets())
        {
            Core.Runtime.Container? c = null;
            if (TryRun(async ct => c = await Runtime.WaitAsync(r.Id, Timeout is { } t ? TimeSpan.FromSeconds(t) : null, ct).ConfigureAwait(false)))
                WriteObject(c);
        }
    }
}
