using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace Containers.Core.Logging;

/// <summary>
/// Collects the log events raised while one cmdlet call runs, on whatever thread Core works, so the
/// cmdlet can write them to its Verbose/Debug streams from the pipeline thread.
/// </summary>
internal sealed class CallLogScope : IDisposable
{
    private static readonly AsyncLocal<CallLogScope?> Current = new();
    private readonly CallLogScope? _previous;

    private readonly LogEventLevel _minimum;

    /// <param name="minimum">Events below this level are not queued: the cmdlet would only discard
    /// them, after paying to render them (a pull raises thousands of Debug events).</param>
    public CallLogScope(LogEventLevel minimum = LogEventLevel.Verbose)
    {
        _minimum = minimum;
        _previous = Current.Value;
        Current.Value = this;
    }

    public ConcurrentQueue<LogEvent> Events { get; } = new();

    /// <summary>Raised after an event is queued, so a waiting pipeline thread can wake up.</summary>
    public event Action? EventQueued;

    internal static void Publish(LogEvent logEvent)
    {
        var scope = Current.Value;
        if (scope is null || logEvent.Level < scope._minimum) return;
        scope.Events.Enqueue(logEvent);
        scope.EventQueued?.Invoke();
    }

    public void Dispose() => Current.Value = _previous;
}

internal sealed class CallLogSink : ILogEventSink
{
    public static readonly CallLogSink Instance = new();
    public void Emit(LogEvent logEvent) => CallLogScope.Publish(logEvent);
}
