using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Services;

namespace Containers.Cmdlets.Commands.Service;

/// <summary>Disables and removes pscontainers-restart.service; containers then stay stopped after a reboot.</summary>
[Cmdlet(VerbsLifecycle.Uninstall, "ContainerBootService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
public sealed class UninstallContainerBootServiceCommand : ContainersCmdlet
{
    /// <summary>The unit directory it was installed into (default: as Install-ContainerBootService).</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void EndProcessing() => Logged(() =>
    {
        bool rootless = Services.Paths.Rootless;
        string dir = Path is null ? BootServiceFiles.DefaultDirectory(rootless) : GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(System.IO.Path.Combine(dir, SystemdUnits.BootServiceName), "Disable and remove the boot service")) return;
        try
        {
            if (!BootServiceFiles.Uninstall(dir)) { WriteVerbose($"No {SystemdUnits.BootServiceName} in {dir}."); return; }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(ErrorRecordFactory.From(e, "BootServiceNotRemoved", ErrorCategory.WriteError, dir));
        }
        UnitCmdletSupport.Reload(this, rootless);
    });
}
