using Containers.Core.Logging;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Containers.Core.Tests.Logging;

public sealed class LogTextTests
{
    private static readonly int[] Pids = [1, 2];

    private sealed class Capture : ILogEventSink
    {
        public List<LogEvent> Events { get; } = [];
        public void Emit(LogEvent logEvent) => Events.Add(logEvent);
    }

    private static LogEvent Log(Action<ILogger> write)
    {
        var capture = new Capture();
        using var logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(capture).CreateLogger();
        write(logger);
        return Assert.Single(capture.Events);
    }

    [Fact]
    public void StringsAreNotWrappedInQuotes()
    {
        var e = Log(l => l.Warning("Container {Name} runs without resource limits: {Reason}", "web", "no cgroup"));
        Assert.Equal("Container web runs without resource limits: no cgroup", LogText.Render(e));
    }

    [Fact]
    public void AMessageOfSeveralLinesBecomesOneCompactLine()
    {
        var e = Log(l => l.Warning(new InvalidOperationException("first\n  second"), "{Message}", "Skipped 'dev/x':\n  device nodes need root."));
        Assert.Equal("Skipped 'dev/x': device nodes need root.: first second", LogText.Render(e));
    }

    [Fact]
    public void NumbersAndOtherValuesRenderAsUsual()
    {
        var e = Log(l => l.Information("Waited {Seconds} s for {Pids}", 2.5, Pids));
        Assert.Equal("Waited 2.5 s for [1, 2]", LogText.Render(e));
    }
}
