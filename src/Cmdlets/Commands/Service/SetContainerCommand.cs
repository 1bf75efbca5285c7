using System.Management.Automation;
using Containers.Cmdlets.Commands.Container;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Runtime;
using Containers.Core.Services;

namespace Containers.Cmdlets.Commands.Service;

/// <summary>
/// Makes the container of a name match a definition (New-Container's parameters): nothing is touched when it already
/// matches; a missing one is created and started; one that differs is recreated, running again if it ran.
/// </summary>
[Cmdlet(VerbsCommon.Set, "Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ContainerChange))]
public sealed class SetContainerCommand : ContainerCreateCmdletBase
{
    /// <summary>Creates a missing container without starting it.</summary>
    [Parameter]
    public SwitchParameter NoStart { get; set; }

    protected override void ProcessRecord()
    {
        if (Name is null)
        {
            WriteError(ErrorRecordFactory.From(new ContainersException("ContainerNameRequired", ErrorKind.InvalidArgument,
                "Set-Container needs the name of the container it makes match the definition.", Image, "Give -Name.")));
            return;
        }
        var desired = TryBuildOptions();
        if (desired is null || TryPullImage() is not { } image) return;
        desired.Image = image;
        desired.Tty = Tty;
        desired.Interactive = Interactive;
        var state = new DesiredState(Runtime);
        ContainerRecord? current = null;
        List<ContainerPropertyChange> changes = [];
        if (!TryRun(async ct =>
            {
                string imageId = (await Services.OpenImageStore().GetAsync(image, ct).ConfigureAwait(false)).Id;
                (current, changes) = state.Plan(Name, desired, imageId);
            })) return;
        foreach (var change in changes) WriteVerbose($"{Name}: {change}");
        if (current is not null && changes.Count == 0) WriteVerbose($"Container {Name} already matches its definition.");
        else if (!ShouldProcess(Name, current is null ? $"Create container from {image}" : $"Recreate container ({string.Join(", ", changes.Select(c => c.Property))})"))
            return;
        ContainerChange? result = null;
        if (TryRun(async ct => result = await state.ApplyAsync(Name, current, desired, changes, !NoStart, ct).ConfigureAwait(false)))
            WriteObject(result);
    }
}
