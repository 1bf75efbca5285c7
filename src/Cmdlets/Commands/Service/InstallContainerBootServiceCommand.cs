using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Services;

namespace Containers.Cmdlets.Commands.Service;

/// <summary>
/// Installs and enables pscontainers-restart.service, which runs <c>Start-Container -Boot</c> at every boot: containers
/// with restart policy Always, or UnlessStopped and not stopped by a user, come back after a reboot.
/// </summary>
[Cmdlet(VerbsLifecycle.Install, "ContainerBootService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FileInfo))]
public sealed class InstallContainerBootServiceCommand : ContainersCmdlet
{
    /// <summary>The unit directory (default: /etc/systemd/system, or ~/.config/systemd/user for a rootless user).</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing() => Logged(() =>
    {
        bool rootless = Services.Paths.Rootless;
        string dir = Path is null ? BootServiceFiles.DefaultDirectory(rootless) : GetUnresolvedProviderPathFromPSPath(Path);
        string text = SystemdUnits.BootService(UnitCmdletSupport.ModuleCommand(this));
        if (!ShouldProcess(System.IO.Path.Combine(dir, SystemdUnits.BootServiceName), "Install and enable the boot service")) return;
        string unit;
        try { unit = BootServiceFiles.Install(dir, text); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(ErrorRecordFactory.From(e, "BootServiceNotWritten", ErrorCategory.WriteError, dir));
            return;
        }
        WriteVerbose($"Wrote {unit} and linked it into {BootServiceFiles.WantsDirectory}.");
        UnitCmdletSupport.Reload(this, rootless);
        if (PassThru) WriteObject(new FileInfo(unit));
    });
}
