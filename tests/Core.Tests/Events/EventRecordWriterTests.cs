using System.Text;
using System.Text.Json;
using Containers.Core.Events.Journal;
using Containers.Core.Tests.Runtime;

namespace Containers.Core.Tests.Events;

public class EventRecordWriterTests
{
    [Fact]
    public void ARecordIsWrittenAsTheSerializerWritesIt()
    {
        var full = PlanReaderTests.Fill<EventRecord>();
        full.Time = new DateTimeOffset(2026, 12, 5, 4, 20, 1, 123, TimeSpan.FromHours(2)).AddTicks(4567);
        var bare = new EventRecord { Time = DateTimeOffset.UnixEpoch, Type = EventTypes.Container, Action = "die", ExitCode = 0, Attributes = new() { ["ü<&>"] = "\"q\"" } };
        foreach (var record in new[] { full, bare })
            Assert.Equal(JsonSerializer.Serialize(record, EventJsonContext.Default.EventRecord), Encoding.UTF8.GetString(EventRecordWriter.Write(record)));
    }
}
