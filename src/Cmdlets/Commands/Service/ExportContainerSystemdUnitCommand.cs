using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.FileSystem;
using Containers.Core.Services;

namespace Containers.Cmdlets.Commands.Service;

/// <summary>
/// Writes a systemd unit per container (Type=forking: ExecStart/ExecStop through pwsh and this module, the restart policy as
/// Restart=), or with -Format Quadlet a podman .container file. To the pipeline as text, or with -Path into a directory.
/// </summary>
[Cmdlet(VerbsData.Export, "ContainerSystemdUnit", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class ExportContainerSystemdUnitCommand : NamedContainerCmdlet
{
    [Parameter]
    public SystemdUnitFormat Format { get; set; } = SystemdUnitFormat.Service;

    /// <summary>A directory to write the units into (pscontainers-&lt;name&gt;.service or &lt;name&gt;.container); without it the text is output.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Seconds ExecStop gives the container after its stop signal (Stop-Container -Timeout).</summary>
    [Parameter]
    [ValidateRange(0, 3600)]
    public int Timeout { get; set; } = 10;

    /// <summary>With -Path: outputs the files written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private ModuleCommand? _command;

    protected override void ProcessRecord() => Logged(() =>
    {
        _command ??= UnitCmdletSupport.ModuleCommand(this);
        foreach (var r in ResolveTargets())
        {
            string text = Format == SystemdUnitFormat.Quadlet
                ? QuadletUnit.For(r)
                : SystemdUnits.ContainerService(r, _command, Services.Paths.StateDir, Timeout);
            if (Path is null) { WriteObject(text); continue; }
            string dir = GetUnresolvedProviderPathFromPSPath(Path);
            string file = System.IO.Path.Combine(dir, SystemdUnits.FileName(r.Name, Format));
            if (!ShouldProcess(file, $"Write the unit of container {Target(r)}")) continue;
            try
            {
                Directory.CreateDirectory(dir);
                // 0600: a Quadlet file carries the container's environment, which may hold secrets (as the record, 0600, does).
                AtomicFile.WriteAllText(file, text, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                WriteError(ErrorRecordFactory.From(e, "UnitNotWritten", ErrorCategory.WriteError, file));
                continue;
            }
            if (PassThru) WriteObject(new FileInfo(file));
        }
    });
}
