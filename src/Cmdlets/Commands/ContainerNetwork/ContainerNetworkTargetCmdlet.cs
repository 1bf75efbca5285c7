using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Commands.ContainerNetwork;

/// <summary>What Connect- and Disconnect-ContainerNetwork share: a container, a network, -PassThru.</summary>
public abstract class ContainerNetworkTargetCmdlet : ContainersCmdlet
{
    /// <summary>The container's name or id.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ArgumentCompleter(typeof(NetworkNameCompleter))]
    public string Network { get; set; } = "";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>ShouldProcess, the Core call as a non-terminating failure, the container out with -PassThru.</summary>
    protected void Change(string action, Func<CancellationToken, Task<Core.Runtime.Container>> work)
    {
        if (!ShouldProcess(Name, action)) return;
        Core.Runtime.Container? c = null;
        if (TryRun(async ct => c = await work(ct).ConfigureAwait(false)) && PassThru) WriteObject(c);
    }
}
