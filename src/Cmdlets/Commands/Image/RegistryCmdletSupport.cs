using System.Management.Automation;
using Containers.Core.Registry;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>Turns pull/push progress into Write-Progress records: one overall bar, one child bar per active layer.</summary>
internal sealed class RegistryProgressReporter(Action<Action> post, Action<ProgressRecord> write, string activity, int baseId) : IProgress<PullProgress>
{
    private readonly Dictionary<int, int> _lastPercent = [];
    private int _lastOverall = -1;
    private readonly HashSet<int> _open = [];
    private long _lastWrite;

    /// <summary>
    /// Rendering progress is slow in PowerShell, and an image of many small layers reports hundreds of
    /// changes a second: at most one update per interval is written, except the record that closes a
    /// layer bar that was shown (a layer that came and went between two updates never gets a bar).
    /// </summary>
    internal static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    public void Report(PullProgress p)
    {
        int overall = p.Total > 0 ? (int)Math.Clamp(100 * p.Done / p.Total, 0, 100) : 100;
        int layer = p.LayerTotal > 0 ? (int)Math.Clamp(100 * p.LayerDone / p.LayerTotal, 0, 100) : 100;
        bool finished = p.Status is not "Downloading";
        lock (_lastPercent)
        {
            bool changed = overall != _lastOverall || !_lastPercent.TryGetValue(p.Layer, out int last) || last != layer || finished;
            if (!changed) return;
            bool shown = _open.Contains(p.Layer);
            long now = Environment.TickCount64;
            bool due = now - _lastWrite >= Interval.TotalMilliseconds;
            if (finished ? !shown && !due : !due) return;
            if (due) _lastWrite = now;
            _lastOverall = overall;
            _lastPercent[p.Layer] = layer;
            if (!finished) _open.Add(p.Layer); else _open.Remove(p.Layer);
        }
        post(() =>
        {
            write(new ProgressRecord(baseId, activity, $"{p.Reference}: {p.Done / 1048576.0:0.0}/{p.Total / 1048576.0:0.0} MiB") { PercentComplete = overall });
            var child = new ProgressRecord(baseId + p.Layer, $"Layer {p.Layer}/{p.LayerCount} {Short(p.Digest)}",
                $"{p.Status} {p.LayerDone / 1048576.0:0.0}/{p.LayerTotal / 1048576.0:0.0} MiB")
            { ParentActivityId = baseId, PercentComplete = layer };
            if (finished) child.RecordType = ProgressRecordType.Completed;
            write(child);
        });
    }

    public void Complete(Action<ProgressRecord> writeNow) =>
        writeNow(new ProgressRecord(baseId, activity, "Done") { RecordType = ProgressRecordType.Completed });

    private static string Short(string digest) => digest.Length > 19 ? digest[7..19] : digest;
}
