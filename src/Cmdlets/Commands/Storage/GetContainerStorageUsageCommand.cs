using System.Management.Automation;
using Containers.Core.Storage;

namespace Containers.Cmdlets.Commands.Storage;

/// <summary>How much disk images, the build cache, containers and orphaned layers take, and how much Clear-ContainerStorage -All would free (podman system df).</summary>
[Cmdlet(VerbsCommon.Get, "ContainerStorageUsage")]
[OutputType(typeof(StorageUsage), typeof(StorageItem))]
public sealed class GetContainerStorageUsageCommand : StorageCmdlet
{
    /// <summary>Lists every reclaimable item instead of the totals.</summary>
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    protected override void EndProcessing()
    {
        var analyzer = OpenAnalyzer();
        if (Detailed)
        {
            List<StorageItem>? items = null;
            if (TryRun(async ct => items = await analyzer.PlanAsync(new PruneOptions(All: true, Until: null), ct).ConfigureAwait(false)))
                foreach (var i in items!) WriteObject(i);
            return;
        }
        List<StorageUsage>? rows = null;
        if (TryRun(async ct => rows = await analyzer.UsageAsync(ct).ConfigureAwait(false)))
            foreach (var r in rows!) WriteObject(r);
    }
}
