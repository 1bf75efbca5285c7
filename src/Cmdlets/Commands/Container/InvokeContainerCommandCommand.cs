using System.Collections;
using System.Management.Automation;
using System.Threading.Channels;
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
    /// starts with the first piece and reads each as it arrives (as a native command in a pipeline does), once per
    /// container; it ends when the input ends.
    /// </summary>
    [Parameter(ValueFromPipeline = true)]
    [Alias("Stdin")]
    public ContainerStandardInput[]? InputData { get; set; }

    /// <summary>The processes fed from the pipeline: each container's input channel and its running exec.</summary>
    private List<(ContainerRecord Target, Channel<byte[]> Input, Task<int> Exec)>? _feeds;

    protected override void ProcessRecord()
    {
        if (InputData is null)
        {
            foreach (var r in ResolveTargets())
            {
                if (!ShouldProcess(Target(r), "Run " + string.Join(' ', Command))) continue;
                int code = 0;
                if (TryRun(async ct => code = await StartExec(r, null, ct).ConfigureAwait(false))) NativeCommandResult.Exited(this, code, Command[0], Target(r));
            }
            return;
        }
        if (Interactive)
        {
            ThrowTerminating(new Core.Errors.ContainersException("StdinWithInteractive", Core.Errors.ErrorKind.InvalidArgument,
                "-Interactive gives the process this console's stdin; it cannot also read -InputData (or piped text).", "InputData",
                "Leave out -Interactive to feed the piped input, or stop piping input."));
        }
        _feeds ??= StartFeeds();
        try
        {
            // A bounded channel: a process that reads slowly holds the pipeline back instead of the input piling up here.
            foreach (var piece in InputData)
                foreach (var feed in _feeds)
                {
                    try { feed.Input.Writer.WriteAsync(piece.Bytes, Cancellation).AsTask().GetAwaiter().GetResult(); }
                    catch (ChannelClosedException) { } // its exec ended; EndProcessing reports how
                }
        }
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested) { throw new PipelineStoppedException(); }
        WritePending();
    }

    protected override void EndProcessing()
    {
        if (_feeds is null) return;
        foreach (var feed in _feeds)
        {
            feed.Input.Writer.TryComplete();
            int code = 0;
            if (TryRun(async _ => code = await feed.Exec.ConfigureAwait(false))) NativeCommandResult.Exited(this, code, Command[0], Target(feed.Target));
        }
    }

    private List<(ContainerRecord, Channel<byte[]>, Task<int>)> StartFeeds()
    {
        var feeds = new List<(ContainerRecord, Channel<byte[]>, Task<int>)>();
        foreach (var r in ResolveTargets())
        {
            if (!ShouldProcess(Target(r), "Run " + string.Join(' ', Command))) continue;
            var input = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(256) { SingleReader = true, SingleWriter = true });
            var exec = StartExec(r, input.Reader, Cancellation);
            // An exec that failed (or was stopped) reads no more: its channel closes, so writing to it never waits.
            exec.ContinueWith(_ => input.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            feeds.Add((r, input, exec));
        }
        return feeds;
    }

    private Task<int> StartExec(ContainerRecord r, ChannelReader<byte[]>? stdin, CancellationToken ct)
    {
        var options = new ExecOptions { Command = Command, Env = ToEnvironment(Environment), WorkingDir = WorkingDirectory, User = User, Inherit = Interactive, Tty = Tty, Stdin = stdin };
        var runtime = Runtime;
        string name = r.Name;
        return Task.Run(() => runtime.ExecAsync(r.Id, options,
            line => Post(() => WriteObject(line)),
            line => Post(() => NativeCommandResult.WriteStderr(this, line, name)),
            ct), ct);
    }
}
