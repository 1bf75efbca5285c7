using System.Text;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>One line a container wrote, as Get-ContainerLog returns it.</summary>
public sealed record ContainerLogEntry(DateTimeOffset Timestamp, LogStream Stream, string Text)
{
    /// <summary>The container's name (filled in by the reader).</summary>
    public string ContainerName { get; init; } = "";
    public override string ToString() => Text;
}

/// <summary>Reads a CRI-format container log, joining partial records into whole lines.</summary>
internal sealed class ContainerLogReader
{
    private readonly string _path;
    private long _offset;
    private readonly StringBuilder[] _partial = [new(), new()];
    private readonly DateTimeOffset?[] _partialStart = [null, null];
    private string _carry = "";

    public ContainerLogReader(string path) => _path = path;

    /// <summary>Whole lines written since the last call (a trailing partial line is kept until completed, or flushed when <paramref name="final"/>).</summary>
    public List<ContainerLogEntry> ReadNew(bool final = false)
    {
        var result = new List<ContainerLogEntry>();
        if (File.Exists(_path))
        {
            using var fs = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (fs.Length < _offset) _offset = 0;
            fs.Seek(_offset, SeekOrigin.Begin);
            using var reader = new StreamReader(fs, Encoding.UTF8, false);
            string text = _carry + reader.ReadToEnd();
            // As far as was read, not the length now: the monitor may have written more (the end of a record)
            // since, and skipping it joined two records into one line.
            _offset = fs.Position;
            int start = 0;
            while (true)
            {
                int nl = text.IndexOf('\n', start);
                if (nl < 0) break;
                Consume(text[start..nl], result);
                start = nl + 1;
            }
            _carry = text[start..];
        }
        if (final)
        {
            if (_carry.Length > 0) { Consume(_carry, result); _carry = ""; }
            for (int s = 0; s < 2; s++)
                if (_partialStart[s] is { } ts)
                {
                    result.Add(new ContainerLogEntry(ts, (LogStream)s, _partial[s].ToString()));
                    _partial[s].Clear();
                    _partialStart[s] = null;
                }
        }
        return result;
    }

    private void Consume(string line, List<ContainerLogEntry> result)
    {
        if (!ContainerLogLine.TryParse(line, out var rec)) return;
        int s = (int)rec.Stream;
        _partialStart[s] ??= rec.Timestamp;
        _partial[s].Append(rec.Text);
        if (rec.Partial) return;
        result.Add(new ContainerLogEntry(_partialStart[s]!.Value, rec.Stream, _partial[s].ToString()));
        _partial[s].Clear();
        _partialStart[s] = null;
    }

    /// <summary>All whole lines of a finished or running log, filtered by time and tail.</summary>
    public static List<ContainerLogEntry> ReadAll(string path, int? tail = null, DateTimeOffset? since = null)
    {
        var all = new ContainerLogReader(path).ReadNew(final: true);
        if (since is { } s) all = all.Where(e => e.Timestamp >= s).ToList();
        if (tail is { } t && t >= 0 && all.Count > t) all = all.GetRange(all.Count - t, t);
        return all;
    }
}
