using System.Management.Automation;
using Containers.Core.Images;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>Reports layer progress to Write-Progress from the pipeline thread.</summary>
internal sealed class LayerProgressReporter(Action<Action> post, Action<ProgressRecord> write, string activity) : IProgress<LayerProgress>
{
    private const int ActivityId = 4711;

    public void Report(LayerProgress p)
    {
        string status = p.Skipped
            ? $"Layer {p.Index + 1}/{p.Count} {p.Digest.Short}: already in the store"
            : $"Layer {p.Index + 1}/{p.Count} {p.Digest.Short}: {p.BytesDone / 1048576.0:0.0}/{p.BytesTotal / 1048576.0:0.0} MiB";
        int percent = p.BytesTotal > 0 ? (int)Math.Clamp(100 * p.BytesDone / p.BytesTotal, 0, 100) : 0;
        var record = new ProgressRecord(ActivityId + p.Index + 1, activity, status) { ParentActivityId = ActivityId, PercentComplete = percent };
        var overall = new ProgressRecord(ActivityId, activity, $"Layer {p.Index + 1} of {p.Count}")
        {
            PercentComplete = (int)(100.0 * p.Index / Math.Max(1, p.Count)),
        };
        bool done = p.Skipped || (p.BytesTotal > 0 && p.BytesDone >= p.BytesTotal);
        if (done) record.RecordType = ProgressRecordType.Completed;
        post(() =>
        {
            write(overall);
            write(record);
        });
    }

    public void Complete(Action<ProgressRecord> writeNow) =>
        writeNow(new ProgressRecord(ActivityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
}
