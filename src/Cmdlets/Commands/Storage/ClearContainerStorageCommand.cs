using System.Management.Automation;
using Containers.Core.Storage;

namespace Containers.Cmdlets.Commands.Storage;

/// <summary>
/// Frees disk: stopped containers (finished before -Until), dangling images (all unused ones with -All),
/// the build cache, and orphaned layers and blobs; unused volumes with -Volumes. -WhatIf lists what would go with the bytes it frees.
/// </summary>
[Cmdlet(VerbsCommon.Clear, "ContainerStorage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(StorageItem))]
public sealed class ClearContainerStorageCommand : StorageCmdlet
{
    /// <summary>Removes every image no remaining container uses, not only dangling ones.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    /// <summary>Removes only containers that exited (or were created, never started) before this time.</summary>
    [Parameter]
    public DateTime? Until { get; set; }

    /// <summary>Also removes the named volumes no remaining container uses (their data is lost).</summary>
    [Parameter]
    public SwitchParameter Volumes { get; set; }

    protected override void EndProcessing()
    {
        var analyzer = OpenAnalyzer();
        List<StorageItem>? plan = null;
        if (!TryRun(async ct => plan = await analyzer.PlanAsync(new PruneOptions(All, Until is { } u ? new DateTimeOffset(u.ToUniversalTime()) : null) { Volumes = Volumes }, ct).ConfigureAwait(false)))
            return;
        bool orphans = false, any = false;
        foreach (var item in plan!)
        {
            if (!ShouldProcess($"{item.Type}: {item.Name} ({item.Reclaimable} bytes)", "Remove")) continue;
            any = true;
            if (item.Type == "Orphans") orphans = true;
            else if (!TryRun(ct => analyzer.RemoveAsync(item, ct))) continue;
            WriteObject(item);
        }
        if (any) TryRun(ct => analyzer.FinishAsync(orphans, buildCache: true, ct));
    }
}
