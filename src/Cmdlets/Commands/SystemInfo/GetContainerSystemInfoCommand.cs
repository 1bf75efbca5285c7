using System.Collections;
using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Diagnostics;

namespace Containers.Cmdlets.Commands.SystemInfo;

/// <summary>Reports module, package and kernel versions and every feature probe, for support.</summary>
[Cmdlet(VerbsCommon.Get, "ContainerSystemInfo")]
[OutputType(typeof(Core.Diagnostics.SystemInfo))]
public sealed class GetContainerSystemInfoCommand : ContainersCmdlet
{
    protected override void EndProcessing()
    {
        string? psVersion = (SessionState.PSVariable.GetValue("PSVersionTable") as IDictionary)?["PSVersion"]?.ToString();
        var collector = new SystemInfoCollector(Services.Paths);
        WriteObject(Run(ct => collector.CollectAsync(psVersion, ct)));
    }
}
