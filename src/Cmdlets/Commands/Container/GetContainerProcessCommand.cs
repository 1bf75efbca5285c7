using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Lists the processes running in containers (host pids, from the cgroup).</summary>
[Cmdlet(VerbsCommon.Get, "ContainerProcess", DefaultParameterSetName = NameSet)]
[OutputType(typeof(ContainerProcess))]
public sealed class GetContainerProcessCommand : MatchedContainerCmdlet
{
    protected override void ProcessRecord()
    {
        foreach (var r in ResolveTargets())
        {
            List<ContainerProcess> list = [];
            if (TryRun(ct => { list = Runtime.ListProcesses(r.Id); return Task.CompletedTask; }))
                foreach (var p in list) WriteObject(p);
        }
    }
}
