using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Containers.Core.Logging;

/// <summary>
/// Serilog, configured once per process: a rolling file under the log directory and a sink that
/// hands each event to the cmdlet that caused it (see <see cref="CallLogScope"/>). Never the console.
/// </summary>
public static class ModuleLog
{
    public const string LevelVariable = "PSCONTAINERS_LOG_LEVEL";
    private static readonly object Gate = new();
    private static ILogger? _logger;

    public static LoggingLevelSwitch LevelSwitch { get; } = new(LogEventLevel.Information);

    private static string? _logFilePattern;

    /// <summary>Today's log file of the current process, or null when the log directory could not be opened.</summary>
    public static string? LogFile =>
        _logFilePattern?.Replace("-.log", $"-{DateTime.Now:yyyyMMdd}.log", StringComparison.Ordinal);

    public static ILogger Logger
    {
        get
        {
            if (_logger is not null) return _logger;
            lock (Gate)
            {
                _logger ??= Create(Configuration.ContainerPaths.FromEnvironment().LogDir);
                return _logger;
            }
        }
    }

    /// <summary>A logger tagged with the area that writes to it.</summary>
    public static ILogger For<T>() => Logger.ForContext<T>();

    /// <summary>Reads <c>PSCONTAINERS_LOG_LEVEL</c> (Verbose, Debug, Information, Warning, Error).</summary>
    public static LogEventLevel LevelFromEnvironment(string? value) =>
        Enum.TryParse(value, ignoreCase: true, out LogEventLevel level) ? level : LogEventLevel.Information;

    /// <summary>Applies the current <c>PSCONTAINERS_LOG_LEVEL</c>; called at the start of every cmdlet call.</summary>
    public static void RefreshLevel() =>
        LevelSwitch.MinimumLevel = LevelFromEnvironment(Environment.GetEnvironmentVariable(LevelVariable));

    private static ILogger Create(string logDir)
    {
        RefreshLevel();
        var config = new LoggerConfiguration()
            .MinimumLevel.Verbose()
            .Enrich.WithProperty("Pid", Environment.ProcessId)
            // The cmdlet streams get everything; -Verbose/-Debug preferences filter them.
            .WriteTo.Sink(CallLogSink.Instance);
        try
        {
            Directory.CreateDirectory(logDir);
            // Serilog's rolling file sink puts the date before the extension: pscontainers-20261129.log.
            _logFilePattern = Path.Combine(logDir, "pscontainers-.log");
            config = config.WriteTo.File(_logFilePattern, levelSwitch: LevelSwitch, rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: 14, shared: true,
                outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] ({Pid}) {SourceContext}: {Message:lj}{NewLine}{Exception}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only home must not stop the module from working; the cmdlet streams still get every event.
            _logFilePattern = null;
        }
        return config.CreateLogger();
    }
}
