using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>Starts created or exited containers; each runs under its own monitor, independent of this session.</summary>
[Cmdlet(VerbsLifecycle.Start, "Container", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Core.Runtime.Container))]
public sealed class StartContainerCommand : NamedContainerCmdlet
{
    public const string BootSet = "Boot";

    /// <summary>Starts every container that comes back after a reboot (what pscontainers-restart.service runs): restart
    /// policy Always, or UnlessStopped when Stop-Container did not stop it.</summary>
    [Parameter(ParameterSetName = BootSet, Mandatory = true)]
    public SwitchParameter Boot { get; set; }

    /// <summary>Waits for the container to exit and outputs it (with its exit code).</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Runs the container in this console: it shares stdin, stdout, stderr and the terminal, and the cmdlet returns when it exits.</summary>
    [Parameter]
    public SwitchParameter Attach { get; set; }

    private protected override List<ContainerRecord> ResolveTargets() => Boot ? Core.Services.BootStart.Select(Runtime.Store) : base.ResolveTargets();

    protected override void ProcessRecord()
    {
        foreach (var r in ResolveTargets())
        {
            // Like Start-Service: a container that already runs is left alone, and not an error.
            Core.Runtime.Container? c = Attach ? null : Runtime.Inspect(r);
            if (c is not null && c.State.IsActive())
                WriteVerbose($"Container {Target(r)} is already running.");
            else if (!ShouldProcess(Target(r), "Start container")) continue;
            if (!TryRun(async ct =>
                {
                    if (c is null || !c.State.IsActive()) c = await Runtime.StartAsync(r.Id, ct, Attach).ConfigureAwait(false);
                    if (Attach) SessionState.PSVariable.Set("global:LASTEXITCODE", c.ExitCode ?? 125);
                    else if (Wait) c = await Runtime.WaitAsync(r.Id, null, ct).ConfigureAwait(false);
                }, here: !Attach)) continue;
            if (PassThru || (Wait && !Attach)) WriteObject(c);
        }
    }
}
