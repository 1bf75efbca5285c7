using System.Text.Json.Serialization;

namespace Containers.Core.Events.Journal;

/// <summary>
/// One line of the event journal (<c>events/events.jsonl</c> under the data directory), as cmdlets and monitors write it.
/// Compiled into Init too (NativeAOT): plain properties, source-generated JSON, nothing else of Core.
/// </summary>
internal sealed class EventRecord
{
    public DateTimeOffset Time { get; set; }
    /// <summary><c>container</c>, <c>image</c>, <c>network</c>, <c>volume</c>, <c>policy</c> (see <see cref="EventTypes"/>).</summary>
    public string Type { get; set; } = "";
    /// <summary>What happened, in podman's words: create, start, exec, die, oom, kill, health_status, restart, stop, remove,
    /// pull, push, tag, untag, connect ...</summary>
    public string Action { get; set; } = "";
    /// <summary>The full id of the container, image, network or volume.</summary>
    public string? Id { get; set; }
    public string? Name { get; set; }
    /// <summary>For a container: the image it runs.</summary>
    public string? Image { get; set; }
    /// <summary>die: the exit code (128+signal when killed).</summary>
    public int? ExitCode { get; set; }
    /// <summary>Anything else worth keeping (health_status: <c>health_status</c>; kill: <c>signal</c>; exec: <c>command</c>).</summary>
    public Dictionary<string, string>? Attributes { get; set; }
}

/// <summary>The values of <see cref="EventRecord.Type"/>.</summary>
internal static class EventTypes
{
    public const string Container = "container", Image = "image", Network = "network", Volume = "volume", Policy = "policy", Pod = "pod";
}

/// <summary>One compact line per record (the journal is line-oriented): no indentation, nulls left out.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EventRecord))]
internal sealed partial class EventJsonContext : JsonSerializerContext
{
}
