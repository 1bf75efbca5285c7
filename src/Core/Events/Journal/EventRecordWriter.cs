using System.Text.Json;

namespace Containers.Core.Events.Journal;

/// <summary>
/// One journal record as <see cref="EventJsonContext"/> writes it (camelCase, nulls omitted, one line), with
/// <see cref="Utf8JsonWriter"/> alone: a monitor appends its start and die events on the start and exit paths, where
/// building the serializer's metadata cost more than the append.
/// </summary>
internal static class EventRecordWriter
{
    public static byte[] Write(EventRecord r)
    {
        var buffer = new MemoryStream(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("time"u8, r.Time);
            w.WriteString("type"u8, r.Type);
            w.WriteString("action"u8, r.Action);
            if (r.Id is not null) w.WriteString("id"u8, r.Id);
            if (r.Name is not null) w.WriteString("name"u8, r.Name);
            if (r.Image is not null) w.WriteString("image"u8, r.Image);
            if (r.ExitCode is { } code) w.WriteNumber("exitCode"u8, code);
            if (r.Attributes is not null)
            {
                w.WriteStartObject("attributes"u8);
                foreach (var (key, value) in r.Attributes) w.WriteString(key, value);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
