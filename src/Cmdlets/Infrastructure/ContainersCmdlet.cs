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
    private readonly ConcurrentQueue<Action> _pending = new();

    // Wakes the pipeline thread when a write is queued, a log event arrives or the work ends. No spinning before it
    // sleeps (BlockingCollection's semaphore spun and sched_yield'ed ~140 times per wait): on a 2-core host that took a
    // core from the work and from the container's monitor for the whole of a short cmdlet.
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);

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
        _wake.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Queues a write (object, progress, warning) from a worker thread to the pipeline thread.</summary>
    protected void Post(Action write)
    {
        _pending.Enqueue(write);
        _wake.Set();
    }

    /// <summary>Writes what work running between pipeline calls (a process fed piece by piece) queued so far.</summary>
    protected void WritePending()
    {
        while (_pending.TryDequeue(out var write)) write();
    }

    /// <summary>Runs async Core work and pumps its writes and log events until it ends; rethrows its failure.</summary>
    /// <param name="work">The work; it gets the token Ctrl+C cancels.</param>
    /// <param name="here">Start the work on the pipeline thread instead of the thread pool: for short, mostly synchronous
    /// work (a container's create, start, wait, remove) the two thread hops and their wake-ups cost more than the work.
    /// It goes on wherever its first real await leaves it; until then its writes and log events queue.</param>
    protected T Run<T>(Func<CancellationToken, Task<T>> work, bool here = false)
    {
        ModuleLog.Refresh();
        using var scope = new CallLogScope(LowestLevelShown());
        scope.EventQueued += _wake.Set;
        var task = here ? StartHere(work) : Task.Run(() => work(_stopping.Token));
        // Wake the pipeline thread the moment the work ends: without this it slept out the rest of its
        // 50 ms wait after the last log event, which was most of a short cmdlet's time.
        task.ContinueWith(static (_, wake) => ((ManualResetEventSlim)wake!).Set(), _wake,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        while (true)
        {
            // Reset before looking: a write or the end that comes after the look sets it again, so Wait returns at once.
            _wake.Reset();
            WritePending();
            DrainLog(scope);
            if (task.IsCompleted) break;
            _wake.Wait();
        }
        WritePending();
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

    /// <summary>Calls the work on this thread with no synchronization context, so that an await without
    /// ConfigureAwait(false) cannot post its continuation back to a thread that is blocked waiting for it.</summary>
    private Task<T> StartHere<T>(Func<CancellationToken, Task<T>> work)
    {
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try { return work(_stopping.Token); }
        catch (Exception e) { return Task.FromException<T>(e); }
        finally { SynchronizationContext.SetSynchronizationContext(context); }
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

    protected void Run(Func<CancellationToken, Task> work, bool here = false) =>
        Run<bool>(async ct => { await work(ct).ConfigureAwait(false); return true; }, here);

    /// <summary>Runs work for one input item; a typed failure becomes a non-terminating error so the pipeline goes on.</summary>
    protected bool TryRun(Func<CancellationToken, Task> work, bool here = false)
    {
        try
        {
            Run(work, here);
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
