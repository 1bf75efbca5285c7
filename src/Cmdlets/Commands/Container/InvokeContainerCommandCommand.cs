using System.Collections;
using System.Management.Automation;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Commands.Container;

/// <summary>
/// Runs a command inside running containers, like a native command: stdout lines down the pipeline as
/// strings, stderr lines to the error stream, the exit code in $LASTEXITCODE.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "ContainerCommand", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(string))]
public sealed class InvokeContainerCommandCommand : NamedContainerCmdlet
{
    [Parameter(Mandatory = true, Position = 1, ValueFromRemainingArguments = true)]
    [ValidateNotNullOrEmpty]
    public string[] Command { get; set; } = [];

    [Parameter]
    public Hashtable? Environment { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? WorkingDirectory { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    /// <summary>Connects the process to this console (stdin, stdout, stderr) instead of capturing its output.</summary>
    [Parameter]
    public SwitchParameter Interactive { get; set; }

    /// <summary>Gives the process a pseudo-terminal inside the container; its stdout and stderr become one stream.</summary>
    [Parameter]
    public SwitchParameter Tty { get; set; }

    /// <summary>
    /// The process's standard input: lines (each followed by a newline) or bytes, usually from the pipeline. The command
    /// runs once, after the last piece arrived, with all of it on its stdin.
    /// </summary>
    [Parameter(ValueFromPipeline = true)]
    [Alias("Stdin")]
    public ContainerStandardInput[]? InputData { get; set; }

    private MemoryStream? _stdin;
    private List<ContainerRecord>? _stdinTargets;

    protected override void ProcessRecord()
    {
        if (InputData is null)
        {
            Exec(ResolveTargets(), null);
            return;
        }
        if (Interactive)
        {
            ThrowTerminating(new Core.Errors.ContainersException("StdinWithInteractive", Core.Errors.ErrorKind.InvalidArgument,
                "-Interactive gives the process this console's stdin; it cannot also read -InputData (or piped text).", "InputData",
                "Leave out -Interactive to feed the piped input, or stop piping input."));
        }
        // Input is gathered and the command runs once at the end, as a native command in a pipeline does.
        _stdin ??= new MemoryStream();
        foreach (var piece in InputData) _stdin.Write(piece.Bytes);
        _stdinTargets ??= ResolveTargets();
    }

    protected override void EndProcessing()
    {
        if (_stdin is not null && _stdinTargets is not null) Exec(_stdinTargets, _stdin.ToArray());
    }

    private void Exec(List<ContainerRecord> targets, byte[]? stdin)
    {
        var env = ToEnvironment(Environment);
        foreach (var r in targets)
        {
            if (!ShouldProcess(Target(r), "Run " + string.Join(' ', Command))) continue;
            var options = new ExecOptions { Command = Command, Env = env, WorkingDir = WorkingDirectory, User = User, Inherit = Interactive, Tty = Tty, Stdin = stdin };
            int code = 0;
            string name = r.Name;
            if (TryRun(async ct => code = await Runtime.ExecAsync(r.Id, options,
                    line => Post(() => WriteObject(line)),
                    line => Post(() => NativeCommandResult.WriteStderr(this, line, name)),
                    ct).ConfigureAwait(false)))
                NativeCommandResult.Exited(this, code, Command[0], Target(r));
        }
    }
}
