using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>
/// Runs an image in one step, like a native command: creates a container, starts it, writes its stdout
/// down the pipeline as strings and its stderr to the error stream while it runs, waits, and sets
/// $LASTEXITCODE to its exit code. -Remove deletes the container afterwards. With -Tty or -Interactive
/// it runs in this console instead (podman run -it): the console's terminal, size and stdin are the container's.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "ContainerImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(string), typeof(Core.Runtime.Container))]
public sealed class InvokeContainerImageCommand : ContainerCreateCmdletBase
{
    /// <summary>Removes the container after it exited (also when it failed to start).</summary>
    [Parameter]
    public SwitchParameter Remove { get; set; }

    /// <summary>Outputs the exited container (with ExitCode) after its output.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(Name is null ? Image : $"{Name} from {Image}", "Run container")) return;
        var options = TryBuildOptions();
        if (options is null) return;
        if (TryPullImage() is not { } image) return;
        options.Image = image;
        Core.Runtime.Container? created = null;
        Core.Runtime.Container? done = null;
        int? exitCode = null;
        try
        {
            options.Tty = Tty;
            options.Interactive = Interactive;
            if (!TryRun(async ct => created = await Runtime.CreateAsync(options, ct).ConfigureAwait(false))) return;
            if (Tty || Interactive)
            {
                // podman run -it: the container runs in this console (its terminal, size and stdin) until it exits.
                TryRun(async ct => done = await Runtime.StartAsync(created!.Id, ct, attach: true).ConfigureAwait(false));
            }
            else
            {
                bool started = TryRun(async ct => await Runtime.StartAsync(created!.Id, ct).ConfigureAwait(false));
                if (started)
                    TryRun(ct => Runtime.FollowLogsAsync(created!.Id, null, null, e => Post(() => Write(e)), ct));
            }
            TryRun(ct => { done = Runtime.Get(created!.Id); return Task.CompletedTask; });
            exitCode = done?.ExitCode;
        }
        finally
        {
            if (created is not null)
            {
                if (Remove) TryRun(ct => Runtime.RemoveAsync(created.Id, force: true, CancellationToken.None));
                // Last: with $PSNativeCommandUseErrorActionPreference and Stop, a non-zero exit throws here.
                NativeCommandResult.Exited(this, exitCode ?? 125, Command is { Length: > 0 } ? Command[0] : Image, created.ToString());
            }
        }
        if (PassThru && done is not null) WriteObject(done);
    }

    private void Write(ContainerLogEntry e)
    {
        if (e.Stream == LogStream.Stdout) WriteObject(e.Text);
        else NativeCommandResult.WriteStderr(this, e.Text, e.ContainerName);
    }
}
