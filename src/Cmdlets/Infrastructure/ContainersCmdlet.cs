using System.Collections.Concurrent;
using System.Management.Automation;
using Containers.Core.Errors;
using Containers.Core.Logging;
using Serilog.Events;

namespace Containers.Cmdlets.Infrastructure;

/// <summary>
/// Base of every cmdlet: runs Core's async work off the pipeline thread, cancels it on Ctrl+C, and
/// writes objects, progress and log events to the pipeline only from the pipeline thread.
/// </summary>
public abstract class ContainersCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly BlockingCollection<Action> _pending = new();

    private CmdletContext? _services;

    /// <summary>This call's services (paths, stores, runtime, registries, credentials, policy), built on first use.</summary>
    private protected CmdletContext Services => _services ??= CmdletContext.FromEnvironment();

    /// <summary>Cancelled when the user presses Ctrl+C or the pipeline stops.</summary>
    protected CancellationToken Cancellation => _stopping.Token;

    // Ctrl+C may arrive on another thread while the pipeline is already being disposed.
    protected override void StopProcessing()
    {
        try { _stopping.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>PowerShell disposes a cmdlet when its pipeline ends.</summary>
    public void Dispose()
    {
        _stopping.Dispose();
        _pending.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Queues a write (object, progress, warning) from a worker thread to the pipeline thread.</summary>
    protected void Post(Action write) => _pending.Add(write);

    /// <summary>Writes what work running between pipeline calls (a process fed piece by piece) queued so far.</summary>
    protected void WritePending()
    {
        while (_pending.TryTake(out var write)) write();
    }

    /// <summary>Runs async Core work and pumps its writes and log events until it ends; rethrows its failure.</summary>
    protected T Run<T>(Func<CancellationToken, Task<T>> work)
    {
        ModuleLog.Refresh();
        using var scope = new CallLogScope(LowestLevelShown());
        scope.EventQueued += () => _pending.Add(static () => { });
        var task = Task.Run(() => work(_stopping.Token));
        // Wake the pipeline thread the moment the work ends: without this it slept out the rest of its
        // 50 ms wait after the last log event, which was most of a short cmdlet's time.
        task.ContinueWith(static (_, q) => ((BlockingCollection<Action>)q!).Add(static () => { }), _pending,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        while (!task.IsCompleted)
        {
            if (_pending.TryTake(out var write, Timeout.Infinite)) write();
            DrainLog(scope);
        }
        while (_pending.TryTake(out var rest)) rest();
        DrainLog(scope);
        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>Runs synchronous Core work on the pipeline thread with this call's log level and log streams (what
    /// <see cref="Run{T}"/> does for async work): its events reach the log file and -Verbose/-Debug.</summary>
    protected void Logged(Action work)
    {
        ModuleLog.Refresh();
        using var scope = new CallLogScope(LowestLevelShown());
        try { work(); }
        finally
        {
            // After a terminating error the streams may be closed: the events are in the log file anyway.
            try { DrainLog(scope); }
            catch (PipelineStoppedException) { }
        }
    }

    protected void Run(Func<CancellationToken, Task> work) =>
        Run<bool>(async ct => { await work(ct).ConfigureAwait(false); return true; });

    /// <summary>Runs work for one input item; a typed failure becomes a non-terminating error so the pipeline goes on.</summary>
    protected bool TryRun(Func<CancellationToken, Task> work)
    {
        try
        {
            Run(work);
            return true;
        }
        catch (ContainersException e)
        {
            WriteError(ErrorRecordFactory.From(e));
            return false;
        }
    }

    /// <summary>Stops the pipeline with a typed failure.</summary>
    protected void ThrowTerminating(ContainersException e) => ThrowTerminatingError(ErrorRecordFactory.From(e));

    /// <summary>The lowest log level this call's streams show: Debug with -Debug or $DebugPreference,
    /// Information with -Verbose or $VerbosePreference, otherwise only warnings and errors.</summary>
    private LogEventLevel LowestLevelShown()
    {
        if (Shows("Debug", "DebugPreference")) return LogEventLevel.Verbose;
        if (Shows("Verbose", "VerbosePreference")) return LogEventLevel.Information;
        return LogEventLevel.Warning;
    }

    private bool Shows(string switchName, string preferenceVariable)
    {
        if (MyInvocation.BoundParameters.TryGetValue(switchName, out var bound) && bound is SwitchParameter s)
            return s.IsPresent;
        // A preference set in a child scope ($DebugPreference = 'Continue') is a plain string there.
        return Enum.TryParse(GetVariableValue(preferenceVariable)?.ToString(), true, out ActionPreference p)
            && p is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
    }

    private void DrainLog(CallLogScope scope)
    {
        while (scope.Events.TryDequeue(out var e))
        {
            string text = LogText.Render(e);
            switch (e.Level)
            {
                case LogEventLevel.Verbose:
                case LogEventLevel.Debug:
                    WriteDebug(text);
                    break;
                case LogEventLevel.Warning:
                    WriteWarning(text);
                    break;
                default:
                    WriteVerbose(text);
                    break;
            }
        }
    }
}
