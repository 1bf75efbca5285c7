using Containers.Core.Events.Journal;

namespace Containers.Core.Events;

/// <summary>
/// The one-liner every cmdlet and Core operation uses to record an event:
/// <c>EventLog.Container(paths.DataDir, "create", r.Id, r.Name, r.Image)</c>,
/// <c>EventLog.Image(paths.DataDir, "pull", id, name)</c>, <c>EventLog.Write(paths.DataDir, EventTypes.Network, "connect", id, name, attributes: ...)</c>. An event that cannot be written
/// is logged as a warning and never fails the operation it describes.
/// </summary>
internal static class EventLog
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.Logger.ForContext(typeof(EventLog));

    public static EventJournal Journal(string dataDir) => new(EventJournal.PathIn(dataDir));

    public static void Container(string dataDir, string action, string id, string? name, string? image, int? exitCode = null, Dictionary<string, string>? attributes = null) =>
        Write(dataDir, EventTypes.Container, action, id, name, image, exitCode, attributes);

    public static void Image(string dataDir, string action, string id, string? name, Dictionary<string, string>? attributes = null) =>
        Write(dataDir, EventTypes.Image, action, id, name, null, null, attributes);

    public static void Write(string dataDir, string type, string action, string? id, string? name = null, string? image = null, int? exitCode = null,
        Dictionary<string, string>? attributes = null)
    {
        try
        {
            Journal(dataDir).Append(new EventRecord { Type = type, Action = action, Id = id, Name = name, Image = image, ExitCode = exitCode, Attributes = attributes });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Warning("The {Type} event {Action} of {Name} was not recorded: {Reason}", type, action, name ?? id, e.Message);
        }
    }
}
