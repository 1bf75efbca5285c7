using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Containers.Core.Logging;

/// <summary>
/// Serilog, configured once per process: a rolling file under the log directory and a sink that
/// hands each event to the cmdlet that caused it (see <see cref="CallLogScope"/>). Never the console.
/// </summary>
internal static class ModuleLog
{
    public const string LevelVariable = "PSCONTAINERS_LOG_LEVEL";
    private static readonly FileLogSink File = new();
    private static readonly Lazy<ILogger> Root = new(() =>
    {
        Refresh();
        return new LoggerConfiguration()
            .MinimumLevel.Verbose()
            .Enrich.WithProperty("Pid", Environment.ProcessId)
            // The cmdlet streams get everything; -Verbose/-Debug preferences filter them.
            .WriteTo.Sink(CallLogSink.Instance)
            .WriteTo.Sink(File)
            .CreateLogger();
    });

    public static LoggingLevelSwitch LevelSwitch { get; } = new(LogEventLevel.Information);

    public static ILogger Logger => Root.Value;

    /// <summary>Today's log file of the current process, or null when the log directory could not be opened.</summary>
    public static string? LogFile => File.CurrentFile;

    /// <summary>A logger tagged with the area that writes to it.</summary>
    public static ILogger For<T>() => Logger.ForContext<T>();

    /// <summary>Reads <c>PSCONTAINERS_LOG_LEVEL</c> (Verbose, Debug, Information, Warning, Error).</summary>
    public static LogEventLevel LevelFromEnvironment(string? value) =>
        Enum.TryParse(value, ignoreCase: true, out LogEventLevel level) ? level : LogEventLevel.Information;

    /// <summary>
    /// Applies the current <c>PSCONTAINERS_LOG_LEVEL</c> and log directory; called at the start of every
    /// cmdlet call, so a script that changes them mid-session is obeyed.
    /// </summary>
    public static void Refresh()
    {
        LevelSwitch.MinimumLevel = LevelFromEnvironment(Environment.GetEnvironmentVariable(LevelVariable));
        File.Target(Configuration.ContainerPaths.FromEnvironment().LogDir);
    }

    /// <summary>Waits until every event logged so far is in the log file (the file logger is made in the background; see
    /// <see cref="FileLogSink"/>). Each cmdlet call ends with this, so its events are in the file when it returns.</summary>
    public static void Flush() => File.Flush();

    /// <summary>
    /// The rolling file sink, re-opened when the log directory changes. Serilog's file logger is made at the first
    /// event that reaches it, not when a cmdlet starts: a call that logs nothing (the first Get-Container of a
    /// session) never pays for its making. And it is made on a thread-pool thread while the events wait in a queue: in a
    /// new session the making (its shared-file mutex, the file's opening, Serilog's first write) takes ~10 ms, which the
    /// first pull then spends on its work instead. Once made, events are written on the caller's thread as they come.
    /// </summary>
    private sealed class FileLogSink : ILogEventSink
    {
        private readonly object _gate = new();
        private readonly Queue<LogEvent> _waiting = new();
        private string? _dir;
        private string? _pattern;
        private Logger? _inner;
        private Task? _making;

        public FileLogSink() =>
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Flush(TimeSpan.FromSeconds(2));

        public string? CurrentFile
        {
            get
            {
                // Serilog's rolling file sink puts the date before the extension: pscontainers-20261129.log.
                lock (_gate) return _pattern?.Replace("-.log", $"-{DateTime.Now:yyyyMMdd}.log", StringComparison.Ordinal);
            }
        }

        public void Target(string dir)
        {
            lock (_gate)
                if (dir == _dir) return;
            // The events of the old directory go there first.
            Flush();
            lock (_gate)
            {
                _inner?.Dispose();
                _inner = null;
                _pattern = null;
                _dir = dir;
                try
                {
                    PrivateStore.EnsureDirectory(dir);
                    _pattern = Path.Combine(dir, "pscontainers-.log");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A read-only home must not stop the module; the cmdlet streams still get every event.
                    _pattern = null;
                }
            }
        }

        public void Emit(LogEvent logEvent)
        {
            lock (_gate)
            {
                if (_pattern is null || logEvent.Level < LevelSwitch.MinimumLevel) return;
                if (_inner is not null)
                {
                    _inner.Write(logEvent);
                    return;
                }
                _waiting.Enqueue(logEvent);
                string pattern = _pattern;
                _making ??= Task.Run(() => Make(pattern));
            }
        }

        private void Make(string pattern)
        {
            Logger? made = null;
            try
            {
                // Verbose: Emit checked the level before the event was queued.
                made = new LoggerConfiguration()
                    .MinimumLevel.Verbose()
                    .WriteTo.File(pattern, rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14, shared: true,
                        outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] ({Pid}) {SourceContext}: {Message:lj}{NewLine}{Exception}")
                    .CreateLogger();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // As when the directory cannot be made: the cmdlet streams still get every event.
            }
            finally
            {
                lock (_gate)
                {
                    if (made is not null && _pattern == pattern)
                    {
                        while (_waiting.TryDequeue(out var e)) made.Write(e);
                        _inner = made;
                    }
                    else
                    {
                        made?.Dispose();
                        if (_pattern == pattern) _pattern = null;
                        _waiting.Clear();
                    }
                    _making = null;
                }
            }
        }

        public void Flush(TimeSpan? timeout = null)
        {
            Task? making;
            lock (_gate) making = _making;
            if (making is null) return;
            // A failure of the making is no caller's: its events are in the cmdlet streams anyway.
            try { making.Wait(timeout ?? Timeout.InfiniteTimeSpan); }
            catch (AggregateException) { }
        }
    }
}
