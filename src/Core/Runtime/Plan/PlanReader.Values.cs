using System.Text.Json;

namespace Containers.Core.Runtime.Plan;

// The value readers of PlanReader. Each starts on the value's first token and ends on its last one (as Skip does).
internal static partial class PlanReader
{
    /// <summary>Moves to the next property of the object the reader is in (or starts on) and onto its value; false at its end.</summary>
    private static bool Property(ref Utf8JsonReader r, out string name)
    {
        Next(ref r);
        if (r.TokenType == JsonTokenType.EndObject) { name = ""; return false; }
        name = r.GetString()!;
        Next(ref r);
        return true;
    }

    private static void Next(ref Utf8JsonReader r)
    {
        if (!r.Read()) throw new JsonException($"The document ends early (byte {r.BytesConsumed}).");
    }

    private static JsonException Error(ref Utf8JsonReader r, string name, string expected) =>
        new($"'{name}' must be {expected}, not {Describe(r.TokenType)} (byte {r.TokenStartIndex}).");

    private static string Describe(JsonTokenType t) => t switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => t.ToString(),
    };

    /// <summary>An object read by <paramref name="read"/> (which starts on its '{'), or null.</summary>
    private static T? Obj<T>(ref Utf8JsonReader r, ReadValue<T> read) where T : class
    {
        if (r.TokenType == JsonTokenType.Null) return null;
        if (r.TokenType != JsonTokenType.StartObject) throw Error(ref r, typeof(T).Name, "an object");
        return read(ref r);
    }

    /// <summary>A new <typeparamref name="T"/> for the object the reader is on (an array's item, which may not be null).</summary>
    private static T Expect<T>(ref Utf8JsonReader r, string name) where T : new() =>
        r.TokenType == JsonTokenType.StartObject ? new T() : throw Error(ref r, name, "an object");

    private static string? Str(ref Utf8JsonReader r, string name) => r.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => r.GetString(),
        _ => throw Error(ref r, name, "a string"),
    };

    private static bool Bool(ref Utf8JsonReader r, string name) => r.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw Error(ref r, name, "true or false"),
    };

    private delegate T ReadNamed<T>(ref Utf8JsonReader r, string name);

    /// <summary>A value read by <paramref name="read"/>, or null.</summary>
    private static T? OrNull<T>(ref Utf8JsonReader r, string name, ReadNamed<T> read) where T : struct =>
        r.TokenType == JsonTokenType.Null ? null : read(ref r, name);

    private static int Int(ref Utf8JsonReader r, string name) =>
        r.TokenType == JsonTokenType.Number && r.TryGetInt32(out int v) ? v : throw Error(ref r, name, "a 32-bit integer");

    private static uint UInt(ref Utf8JsonReader r, string name) =>
        r.TokenType == JsonTokenType.Number && r.TryGetUInt32(out uint v) ? v : throw Error(ref r, name, "an unsigned 32-bit integer");

    private static long Long(ref Utf8JsonReader r, string name) =>
        r.TokenType == JsonTokenType.Number && r.TryGetInt64(out long v) ? v : throw Error(ref r, name, "a 64-bit integer");

    private static ulong ULong(ref Utf8JsonReader r, string name) =>
        r.TokenType == JsonTokenType.Number && r.TryGetUInt64(out ulong v) ? v : throw Error(ref r, name, "an unsigned 64-bit integer");

    /// <summary>An enum written by name (JsonStringEnumConverter: the member's JSON name, or its number).</summary>
    private static T Enum<T>(ref Utf8JsonReader r, string name, Func<string, T?> parse) where T : struct, Enum
    {
        if (r.TokenType == JsonTokenType.String && parse(r.GetString()!) is { } v) return v;
        if (r.TokenType == JsonTokenType.Number && r.TryGetInt32(out int n)) return (T)(object)n;
        throw Error(ref r, name, "one of its known names");
    }

    /// <summary>An array of <paramref name="item"/>, or null.</summary>
    private static List<T>? List<T>(ref Utf8JsonReader r, string name, ReadValue<T> item)
    {
        if (r.TokenType == JsonTokenType.Null) return null;
        if (r.TokenType != JsonTokenType.StartArray) throw Error(ref r, name, "an array");
        var list = new List<T>();
        while (true)
        {
            Next(ref r);
            if (r.TokenType == JsonTokenType.EndArray) return list;
            list.Add(item(ref r));
        }
    }

    private static List<string>? Strings(ref Utf8JsonReader r, string name) => List(ref r, name, (ref Utf8JsonReader x) => Str(ref x, name)!);

    private static List<uint>? UInts(ref Utf8JsonReader r, string name) => List(ref r, name, (ref Utf8JsonReader x) => UInt(ref x, name));

    /// <summary>An object of string values, or null.</summary>
    private static Dictionary<string, string>? Map(ref Utf8JsonReader r, string name)
    {
        if (r.TokenType == JsonTokenType.Null) return null;
        if (r.TokenType != JsonTokenType.StartObject) throw Error(ref r, name, "an object");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (Property(ref r, out string key)) map[key] = Str(ref r, name)!;
        return map;
    }
}
