using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Containers.Cmdlets.Infrastructure;

namespace Containers.Cmdlets.Completion;

/// <summary>Completes CNI network names (for New-Container -Network also none, host, private).</summary>
public sealed class NetworkNameCompleter : IArgumentCompleter
{
    private static readonly string[] Modes = ["none", "host", "private"];

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string word = (wordToComplete ?? "").Trim('\'', '"');
        var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
        List<Core.Networking.ContainerNetwork> networks;
        try { networks = CmdletContext.FromEnvironment().Runtime.ListNetworks(out _); }
        catch (IOException) { yield break; }
        IEnumerable<string> names = networks.Select(n => n.Name).Order(StringComparer.Ordinal);
        if (commandName.EndsWith("-Container", StringComparison.OrdinalIgnoreCase) || commandName.EndsWith("-ContainerImage", StringComparison.OrdinalIgnoreCase))
            names = Modes.Concat(names);
        foreach (string name in names.Where(n => pattern.IsMatch(n)))
            yield return new CompletionResult(name, name, CompletionResultType.ParameterValue, name);
    }
}
