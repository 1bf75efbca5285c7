using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Images;
using Containers.Core.Registry;

namespace Containers.Cmdlets.Completion;

/// <summary>
/// Completes image names (and ids) from the local store; for Install-ContainerImage, a word ending in
/// <c>name:</c> also completes the tags its registry lists, if the registry answers within <see cref="RegistryTimeout"/>.
/// </summary>
public sealed class ImageNameCompleter : IArgumentCompleter
{
    /// <summary>The prompt never waits longer than this for a registry.</summary>
    internal static readonly TimeSpan RegistryTimeout = TimeSpan.FromSeconds(1);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string word = (wordToComplete ?? "").Trim('\'', '"');
        var results = new List<CompletionResult>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in Local(parameterName, word))
            if (seen.Add(r.CompletionText)) results.Add(r);
        if (commandName.EndsWith("Install-ContainerImage", StringComparison.OrdinalIgnoreCase))
            foreach (var r in RegistryTags(word))
                if (seen.Add(r.CompletionText)) results.Add(r);
        return results;
    }

    private static IEnumerable<CompletionResult> Local(string parameterName, string word)
    {
        IReadOnlyList<StoredImage> images;
        try { images = CmdletContext.FromEnvironment().OpenImageStore().ListAsync().GetAwaiter().GetResult(); }
        catch (Exception) { yield break; }
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

    /// <summary>Tags for <c>name:prefix</c>: the first registry (in search order) that answers in time.</summary>
    private static List<CompletionResult> RegistryTags(string word)
    {
        int colon = word.LastIndexOf(':');
        if (colon <= word.LastIndexOf('/') || word.Contains('@')) return [];
        string name = word[..colon], tagPrefix = word[(colon + 1)..];
        try
        {
            var services = CmdletContext.FromEnvironment();
            var resolver = services.Resolver();
            var credentials = services.Credentials(null, []);
            var options = new RegistryClientOptions { MaxAttempts = 1, Timeout = RegistryTimeout };
            using var cts = new CancellationTokenSource(RegistryTimeout);
            var lookups = ImagePuller.Candidates(resolver, name).Select(candidate => Task.Run(async () =>
            {
                var primary = resolver.GetPullSources(candidate)[^1]; // throws for a blocked registry: no connection
                var client = new RegistryClient(primary.Host, primary.Insecure, credentials, options);
                return await client.ListTagsAsync(primary.Repository, cts.Token).ConfigureAwait(false);
            }, cts.Token)).ToList();
            try { Task.WaitAll(lookups.Cast<Task>().ToArray(), RegistryTimeout + TimeSpan.FromMilliseconds(200)); }
            catch (AggregateException) { } // a registry that refused or failed: the others may still have answered
            var tags = lookups.FirstOrDefault(t => t.IsCompletedSuccessfully)?.Result ?? [];
            cts.Cancel();
            return tags.Where(t => t.StartsWith(tagPrefix, StringComparison.Ordinal))
                .Select(t => new CompletionResult(name + ":" + t, t, CompletionResultType.ParameterValue, $"{name}:{t} (registry)"))
                .ToList();
        }
        catch (Exception) { return []; }
    }
}
