using System.Globalization;
using Containers.Core.Events.Journal;

namespace Containers.Core.Events;

/// <summary>What an event is about.</summary>
public enum ContainerEventType
{
    Container,
    Image,
    Network,
    Volume,
    Policy,
    Pod,
}

/// <summary>One event of the journal, as Get-ContainerEvent returns it.</summary>
public sealed class ContainerEvent
{
    // Local DateTime, as Get-Process's StartTime.
    public DateTime Time { get; init; }
    public ContainerEventType Type { get; init; }
    /// <summary>podman's names: create, start, exec, die, oom, kill, health_status, restart, stop, remove, pull, push, tag, untag ...</summary>
    public string Action { get; init; } = "";
    public string Id { get; init; } = "";
    /// <summary>The first 12 characters of <see cref="Id"/> (its hex digits for an image).</summary>
    public string ShortId => (Id.StartsWith("sha256:", StringComparison.Ordinal) ? Id[7..] : Id) is { Length: > 12 } s ? s[..12] : Id;
    public string? Name { get; init; }
    /// <summary>A container event: the image the container runs.</summary>
    public string? Image { get; init; }
    /// <summary>die: the exit code (128+signal when killed).</summary>
    public int? ExitCode { get; init; }
    /// <summary>health_status: the new health.</summary>
    public string? HealthStatus => Attributes.GetValueOrDefault("health_status");
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();

    /// <summary>Null for a record of a type this version does not know.</summary>
    internal static ContainerEvent? From(EventRecord r) =>
        Enum.TryParse<ContainerEventType>(r.Type, ignoreCase: true, out var type) && Enum.IsDefined(type)
            ? new ContainerEvent
            {
                Time = r.Time.LocalDateTime,
                Type = type,
                Action = r.Action,
                Id = r.Id ?? "",
                Name = r.Name,
                Image = r.Image,
                ExitCode = r.ExitCode,
                Attributes = r.Attributes ?? [],
            }
            : null;

    /// <summary>podman events' line: <c>2026-12-04 23:01:02.123 container die 3f2a9c1d8e7b (name=web, exitCode=1)</c>.</summary>
    public override string ToString()
    {
        var details = new List<string>();
        if (Name is not null) details.Add("name=" + Name);
        if (Image is not null && Type == ContainerEventType.Container) details.Add("image=" + Image);
        if (ExitCode is { } code) details.Add("exitCode=" + code.ToString(CultureInfo.InvariantCulture));
        details.AddRange(Attributes.Select(a => a.Key + "=" + a.Value));
        return $"{Time.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)} {Type.ToString().ToLowerInvariant()} {Action} {ShortId} ({string.Join(", ", details)})";
    }
}
