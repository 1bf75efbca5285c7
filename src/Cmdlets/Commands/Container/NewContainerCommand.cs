using System.Management.Automation;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Creates a container from a local image: its record, OCI bundle and writable layer. Start it with Start-Container.</summary>
[Cmdlet(VerbsCommon.New, "Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class NewContainerCommand : ContainerCreateCmdletBase
{
    protected override void ProcessRecord()
    {
        if (!ShouldProcess(Name is null ? Image : $"{Name} from {Image}", "Create container")) return;
        var options = TryBuildOptions();
        if (options is null) return;
        if (TryPullImage() is not { } image) return;
        options.Image = image;
        options.Tty = Tty;
        options.Interactive = Interactive;
        Core.Runtime.Container? c = null;
        if (TryRun(async ct => c = await Runtime.CreateAsync(options, ct).ConfigureAwait(false), here: true)) WriteObject(c);
    }
}
