using System.Globalization;

namespace Containers.Core.Runtime.Plan;

/// <summary>
/// One line of a container log in the CRI ("k8s-file") format:
/// <c>&lt;RFC3339Nano UTC timestamp&gt; &lt;stdout|stderr&gt; &lt;F|P&gt; &lt;text&gt;</c>.
/// F marks the last chunk of a line (the newline itself is not stored), P a partial chunk whose
/// line continues in the next record of the same stream (long lines, or output without a trailing newline
/// at exit: then the last chunk is written as P).
/// </summary>
internal readonly record struct ContainerLogLine(DateTimeOffset Timestamp, LogStream Stream, bool Partial, string Text)
{
    /// <summary>The record as written to the log, without the trailing newline.</summary>
    public override string ToString() =>
        FormatTimestamp(Timestamp) + (Stream == LogStream.Stdout ? " stdout " : " stderr ") + (Partial ? "P " : "F ") + Text;

    /// <summary>RFC3339 with nine fractional digits, UTC (<c>2026-11-29T07:04:58.123456700Z</c>).</summary>
    public static string FormatTimestamp(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff", CultureInfo.InvariantCulture) + "00Z";

    /// <summary>Parses one record; false for anything not in the format.</summary>
    public static bool TryParse(string line, out ContainerLogLine result)
    {
        result = default;
        int s1 = line.IndexOf(' ');
        if (s1 <= 0) return false;
        int s2 = line.IndexOf(' ', s1 + 1);
        if (s2 < 0 || s2 + 2 > line.Length) return false;
        if (!DateTimeOffset.TryParse(line.AsSpan(0, s1), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var ts))
            return false;
        LogStream stream;
        var name = line.AsSpan(s1 + 1, s2 - s1 - 1);
        if (name.SequenceEqual("stdout")) stream = LogStream.Stdout;
        else if (name.SequenceEqual("stderr")) stream = LogStream.Stderr;
        else return false;
        char tag = line[s2 + 1];
        if (tag is not ('F' or 'P')) return false;
        if (s2 + 2 < line.Length && line[s2 + 2] != ' ') return false;
        string text = s2 + 3 <= line.Length ? line[(s2 + 3)..] : "";
        result = new ContainerLogLine(ts, stream, tag == 'P', text);
        return true;
    }
}

/// <summary>Which output stream a log record came from.</summary>
public enum LogStream
{
    Stdout,
    Stderr,
}
