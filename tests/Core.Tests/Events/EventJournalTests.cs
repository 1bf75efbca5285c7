using System.Text;
using Containers.Core.Events;
using Containers.Core.Events.Journal;
using Containers.Core.Tests.Images;

namespace Containers.Core.Tests.Events;

public sealed class EventJournalTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private EventJournal Journal(long max = EventJournal.DefaultMaxBytes) => new(EventJournal.PathIn(_tmp.Path), max);

    private static EventRecord Record(string action, int n) =>
        new() { Type = EventTypes.Container, Action = action, Id = n.ToString("D64", System.Globalization.CultureInfo.InvariantCulture), Name = "c" + n };

    [Fact]
    public void RecordsComeBackInOrderWithTheirFields()
    {
        var j = Journal();
        j.Append(Record("create", 1));
        j.Append(new EventRecord { Type = EventTypes.Container, Action = "die", Id = "x", Name = "web", Image = "busybox", ExitCode = 3, Attributes = new() { ["k"] = "v" } });
        var all = j.ReadAll();
        Assert.Equal(["create", "die"], all.Select(r => r.Action));
        Assert.Equal(3, all[1].ExitCode);
        Assert.Equal("v", all[1].Attributes!["k"]);
        Assert.NotEqual(default, all[0].Time);
        // One line per record, each ending in a newline.
        Assert.Equal(2, File.ReadAllText(j.FilePath).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.EndsWith("\n", File.ReadAllText(j.FilePath), StringComparison.Ordinal);
    }

    [Fact]
    public void ATornLastLineIsSkippedAndTheNextWriterEndsItFirst()
    {
        var j = Journal();
        j.Append(Record("create", 1));
        // A writer killed in the middle of its record: half a line, no newline.
        File.AppendAllText(j.FilePath, "{\"time\":\"2026-01-01T00:00:00Z\",\"type\":\"container\",\"act");
        Assert.Equal(["create"], j.ReadAll().Select(r => r.Action));
        j.Append(Record("start", 2));
        Assert.Equal(["create", "start"], j.ReadAll().Select(r => r.Action));
        string[] lines = File.ReadAllText(j.FilePath).Split('\n');
        Assert.StartsWith("{\"time\":\"2026-01-01", lines[1], StringComparison.Ordinal);
        Assert.Contains("\"start\"", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void ForeignAndBrokenLinesAreSkipped()
    {
        var j = Journal();
        Directory.CreateDirectory(Path.GetDirectoryName(j.FilePath)!);
        File.WriteAllText(j.FilePath, "garbage\n{\"type\":\"container\"}\n{not json}\n\n");
        j.Append(Record("stop", 1));
        Assert.Equal(["stop"], j.ReadAll().Select(r => r.Action));
    }

    [Fact]
    public void TheJournalRotatesBeforeItPassesItsBoundAndKeepsOneGeneration()
    {
        var j = Journal(max: 2000);
        for (int i = 0; i < 100; i++) j.Append(Record("start", i));
        Assert.True(new FileInfo(j.FilePath).Length <= 2000);
        Assert.True(new FileInfo(j.RotatedPath).Length <= 2000);
        var all = j.ReadAll();
        // The newest records survive, in order, and nothing in between is lost or doubled.
        Assert.Equal("c99", all[^1].Name);
        var numbers = all.Select(r => int.Parse(r.Name![1..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(numbers[0], numbers.Count), numbers);
        Assert.True(numbers.Count < 100);
    }

    [Fact]
    public void ConcurrentWritersNeitherInterleaveNorLoseRecords()
    {
        var j = Journal(max: 64_000);
        const int Writers = 8, Each = 150;
        // Each Append opens the lock file itself: flock excludes open file descriptions, so threads contend as processes do.
        Parallel.For(0, Writers, new ParallelOptions { MaxDegreeOfParallelism = Writers }, w =>
        {
            for (int i = 0; i < Each; i++)
                j.Append(new EventRecord { Type = EventTypes.Container, Action = "exec", Name = $"w{w}", Attributes = new() { ["i"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture), ["pad"] = new string('x', 200) } });
        });
        var all = j.ReadAll();
        int lines = (File.Exists(j.RotatedPath) ? File.ReadAllText(j.RotatedPath) : "").Count(c => c == '\n') + File.ReadAllText(j.FilePath).Count(c => c == '\n');
        Assert.Equal(lines, all.Count); // every line is a whole record
        // Per writer, its records appear in its own order with none missing after the first kept one.
        foreach (var group in all.GroupBy(r => r.Name))
        {
            var seq = group.Select(r => int.Parse(r.Attributes!["i"], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(Enumerable.Range(seq[0], seq.Count), seq);
            Assert.Equal(Each - 1, seq[^1]);
        }
    }

    [Fact]
    public async Task FollowSeesRecordsWrittenLaterAcrossARotation()
    {
        var j = Journal(max: 1500);
        j.Append(Record("create", 0));
        var reader = new EventReader(j) { PollInterval = TimeSpan.FromMilliseconds(10) };
        var seen = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var follow = reader.FollowAsync(new EventQuery(), e => { lock (seen) { seen.Add(e.Name!); if (e.Name == "c40") cts.Cancel(); } }, cts.Token);
        await Task.Delay(100);
        for (int i = 1; i <= 40; i++)
        {
            j.Append(Record("start", i));
            // Batches smaller than a generation: a follower that sleeps through two rotations loses what the journal
            // dropped (by design, as a bounded journal must); here it catches up before the next batch.
            if (i % 5 == 0) await WaitForAsync(() => { lock (seen) return seen.Count >= i; }, cts.Token);
        }
        await follow;
        Assert.True(File.Exists(j.RotatedPath));
        // Not the history (no Since), then every later record once, in order.
        Assert.Equal(Enumerable.Range(1, 40).Select(i => "c" + i), seen);
    }

    private static async Task WaitForAsync(Func<bool> condition, CancellationToken ct)
    {
        while (!condition() && !ct.IsCancellationRequested) await Task.Delay(5, CancellationToken.None);
    }

    [Fact]
    public void TheQueryFiltersByTimeTypeAndTest()
    {
        var j = Journal();
        j.Append(new EventRecord { Time = DateTimeOffset.UtcNow.AddHours(-2), Type = EventTypes.Image, Action = "pull", Id = "sha256:ab", Name = "busybox" });
        j.Append(new EventRecord { Type = EventTypes.Container, Action = "die", Name = "web", ExitCode = 1 });
        j.Append(new EventRecord { Type = "somethingnew", Action = "x" });
        var reader = new EventReader(j);
        Assert.Equal(2, reader.Read(new EventQuery()).Count); // an unknown type is skipped
        Assert.Equal(["die"], reader.Read(new EventQuery { Since = DateTimeOffset.UtcNow.AddHours(-1) }).Select(e => e.Action));
        Assert.Equal(["pull"], reader.Read(new EventQuery { Types = [ContainerEventType.Image] }).Select(e => e.Action));
        Assert.Equal(["die"], reader.Read(new EventQuery { Filter = e => e.ExitCode == 1 }).Select(e => e.Action));
        Assert.Contains("exitCode=1", reader.Read(new EventQuery())[1].ToString(), StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(File.ReadAllText(j.FilePath)), new FileInfo(j.FilePath).Length);
    }
}
