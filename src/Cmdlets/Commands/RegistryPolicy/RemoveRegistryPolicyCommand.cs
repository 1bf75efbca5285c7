using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Errors;
using Containers.Core.Policy;

namespace Containers.Cmdlets.Commands.RegistryPolicy;

/// <summary>Removes a [[registry]] entry (with its mirrors), one of its mirrors, a search registry or a short-name alias from registries.conf.</summary>
[Cmdlet(VerbsCommon.Remove, "RegistryPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveRegistryPolicyCommand : RegistriesFileCmdlet
{
    /// <summary>The [[registry]] prefix to remove (or whose mirrors to remove, with -Mirror).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Prefix")]
    [ArgumentCompleter(typeof(RegistryPrefixCompleter))]
    public string? Registry { get; set; }

    /// <summary>Mirror locations to remove from the registry, keeping the registry entry.</summary>
    [Parameter]
    public string[]? Mirror { get; set; }

    /// <summary>Registries to take out of unqualified-search-registries.</summary>
    [Parameter]
    public string[]? SearchRegistry { get; set; }

    /// <summary>Short-name aliases to remove.</summary>
    [Parameter]
    public string[]? Alias { get; set; }

    protected override void ProcessRecord() => Logged(() =>
    {
        var paths = Services.Paths;
        RegistriesFile file;
        try { file = OpenFile(paths); }
        catch (ContainersException e) { ThrowTerminating(e); return; }
        var changes = new List<string>();
        void NotFound(string what, string target) =>
            WriteError(ErrorRecordFactory.From(new ContainersException("RegistryRuleNotFound", ErrorKind.NotFound, $"{what} is not in {file.Path}.", target)));

        if (Registry is not null && Mirror is null)
        {
            if (file.RemoveRegistry(Registry)) changes.Add($"remove [[registry]] \"{Registry}\" and its mirrors");
            else NotFound($"No [[registry]] with prefix '{Registry}'", Registry);
        }
        foreach (string m in Mirror ?? [])
        {
            if (Registry is null) { ThrowTerminating(new ContainersException("RegistryRequired", ErrorKind.InvalidArgument, "-Mirror removes mirrors of one registry: name it with -Registry.")); return; }
            if (file.RemoveMirror(Registry, m)) changes.Add($"remove mirror \"{m}\" of \"{Registry}\"");
            else NotFound($"The mirror '{m}' of '{Registry}'", m);
        }
        if (SearchRegistry is not null)
        {
            var current = file.Settings.SearchRegistries ?? [];
            foreach (string s in SearchRegistry.Where(s => !current.Contains(s))) NotFound($"The search registry '{s}'", s);
            var kept = current.Where(s => !SearchRegistry.Contains(s)).ToList();
            if (kept.Count != current.Count)
            {
                file.SetSearchRegistries(kept);
                changes.Add($"unqualified-search-registries = [{string.Join(", ", kept.Select(s => "\"" + s + "\""))}]");
            }
        }
        foreach (string a in Alias ?? [])
        {
            if (file.RemoveAlias(a)) changes.Add($"remove alias \"{a}\"");
            else NotFound($"The alias '{a}'", a);
        }
        if (changes.Count > 0 && ShouldProcess(file.Path, string.Join("; ", changes)))
        {
            try
            {
                SaveFile(paths, file);
            }
            catch (ContainersException e) { ThrowTerminating(e); }
        }
    });
}
