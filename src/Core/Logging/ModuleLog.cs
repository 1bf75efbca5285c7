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
        File.Target(Configuration.ContainerPaths.LogDirFromEnvironment());
    }

    /// <summary>
    /// The rolling file sink, re-opened when the log directory changes. Serilog's file logger is made at the first
    /// event that reaches it, not when a cmdlet starts: a call that logs nothing (the first Get-Container of a
    /// session) never pays for its making, its shared-file mutex and the file's opening.
    /// </summary>
    private sealed class FileLogSink : ILogEventSink
    {
        private readonly object _gate = new();
        private string? _dir;
        private string? _pattern;
        private Logger? _inner;

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
            {
                if (dir == _dir) return;
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
                try
                {
                    // Verbose: the level was checked above, before the logger is made.
                    _inner ??= new LoggerConfiguration()
                        .MinimumLevel.Verbose()
                        .WriteTo.File(_pattern, rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14, shared: true,
                            outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] ({Pid}) {SourceContext}: {Message:lj}{NewLine}{Exception}")
                        .CreateLogger();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _pattern = null; // as when the directory cannot be made: the cmdlet streams still get every event
                    return;
                }
                _inner.Write(logEvent);
            }
        }
    }
}
