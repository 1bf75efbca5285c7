using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Images;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>Completes image names (and ids) from the local store.</summary>
public sealed class ImageNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<StoredImage> images;
        try { images = CmdletContext.FromEnvironment().OpenImageStore().ListAsync().GetAwaiter().GetResult(); }
        catch (Exception) { yield break; }
        string word = wordToComplete.Trim('\'', '"');
        var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
        foreach (var image in images)
        {
            var candidates = parameterName == "Id" ? [image.Id[..12]] : image.Names.Count > 0 ? image.Names : [image.Id[..12]];
            foreach (string c in candidates)
            {
                string shortForm = c.Contains('/') ? c[(c.IndexOf('/') + 1)..] : c;
                if (pattern.IsMatch(c) || pattern.IsMatch(shortForm))
                    yield return new CompletionResult(c, c, CompletionResultType.ParameterValue, image.ToString());
            }
        }
    }
}

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

    public void Complete(Action<ProgressRecord> writeNow, string activity) =>
        writeNow(new ProgressRecord(ActivityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
}
