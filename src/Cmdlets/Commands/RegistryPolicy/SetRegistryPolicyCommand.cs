using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Core.Errors;
using Containers.Core.Policy;

namespace Containers.Cmdlets.Commands.RegistryPolicy;

/// <summary>Changes registries.conf: a registry's location, insecure and blocked flags, its mirrors, the search registries, the short-name mode, aliases.</summary>
[Cmdlet(VerbsCommon.Set, "RegistryPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Core.Policy.RegistryPolicy))]
public sealed class SetRegistryPolicyCommand : RegistriesFileCmdlet
{
    /// <summary>The [[registry]] prefix to create or change, e.g. quay.io or registry.example/team or *.internal.example.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Prefix")]
    [ArgumentCompleter(typeof(RegistryPrefixCompleter))]
    public string? Registry { get; set; }

    /// <summary>Where the prefix is really served from.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Location { get; set; }

    /// <summary>Allow plain HTTP and unverified TLS for the registry (or, with -Mirror, for the mirrors).</summary>
    [Parameter]
    public SwitchParameter Insecure { get; set; }

    /// <summary>Refuse every pull, push, search and inspect of the registry.</summary>
    [Parameter]
    public SwitchParameter Blocked { get; set; }

    /// <summary>Mirrors to add (in order, after existing ones) or update.</summary>
    [Parameter]
    public string[]? Mirror { get; set; }

    /// <summary>When the mirrors may serve a pull: All, DigestOnly or TagOnly.</summary>
    [Parameter]
    public PullFromMirror? PullFromMirror { get; set; }

    /// <summary>The registries short names are searched in, in order (an empty array means none).</summary>
    [Parameter]
    [AllowEmptyCollection]
    public string[]? SearchRegistries { get; set; }

    /// <summary>How short names resolve: Enforcing, Permissive or Disabled.</summary>
    [Parameter]
    public ShortNameMode? ShortNameMode { get; set; }

    /// <summary>A short name to alias (with -AliasTarget).</summary>
    [Parameter]
    public string? Alias { get; set; }

    /// <summary>The fully-qualified repository the alias stands for.</summary>
    [Parameter]
    public string? AliasTarget { get; set; }

    /// <summary>Write the configuration in force after the change.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>A scheme (http://x) is the caller's mistake, blamed on the parameter before the file is touched.</summary>
    private void CheckNoScheme()
    {
        var given = new (string Parameter, IEnumerable<string?> Values)[]
        {
            ("Registry", [Registry]), ("Location", [Location]), ("Mirror", Mirror ?? []), ("SearchRegistries", SearchRegistries ?? []),
        };
        foreach (var (parameter, values) in given)
            foreach (string? value in values)
            {
                int scheme = value?.IndexOf("://", StringComparison.Ordinal) ?? -1;
                if (scheme < 0) continue;
                bool http = value![..scheme].Equals("http", StringComparison.OrdinalIgnoreCase);
                throw new ContainersException("RegistryNameHasScheme", ErrorKind.InvalidArgument,
                    $"-{parameter} '{value}' has a scheme; registries.conf names registries as host[:port][/path].", value,
                    $"Give -{parameter} '{value[(scheme + 3)..].TrimEnd('/')}'{(http ? " with -Insecure (plain HTTP is allowed per registry, not by scheme)" : "")}.");
            }
    }

    protected override void ProcessRecord() => Logged(() =>
    {
        try
        {
            CheckNoScheme();
            var paths = Services.Paths;
            var file = OpenFile(paths);
            var changes = Apply(file);
            if (changes.Count == 0)
                throw new ContainersException("NoPolicyChange", ErrorKind.InvalidArgument, "Nothing to change: give -Registry with -Location, -Insecure, -Blocked or -Mirror, or -SearchRegistries, -ShortNameMode or -Alias.");
            if (ShouldProcess(file.Path, string.Join("; ", changes)))
            {
                SaveFile(paths, file);
                WriteVerbose($"Wrote {file.Path}: {string.Join("; ", changes)}");
                if (PassThru) WriteObject(Core.Policy.RegistryPolicy.From(Services.Registries()));
            }
        }
        catch (ContainersException e) { ThrowTerminating(e); }
    });

    private List<string> Apply(RegistriesFile file)
    {
        var changes = new List<string>();
        bool registryChange = Location is not null || MyInvocation.BoundParameters.ContainsKey(nameof(Insecure)) && Mirror is null
            || MyInvocation.BoundParameters.ContainsKey(nameof(Blocked)) || Mirror is not null;
        if (registryChange && string.IsNullOrEmpty(Registry))
            throw new ContainersException("RegistryRequired", ErrorKind.InvalidArgument, "-Location, -Insecure, -Blocked and -Mirror change one registry: name it with -Registry.");
        if (!string.IsNullOrEmpty(Registry))
        {
            bool? insecure = Mirror is null && MyInvocation.BoundParameters.ContainsKey(nameof(Insecure)) ? Insecure.IsPresent : null;
            bool? blocked = MyInvocation.BoundParameters.ContainsKey(nameof(Blocked)) ? Blocked.IsPresent : null;
            if (Location is not null || insecure is not null || blocked is not null || Mirror is null)
            {
                file.SetRegistry(Registry, Location, insecure, blocked);
                var parts = new List<string>();
                if (Location is not null) parts.Add($"location = \"{Location}\"");
                if (insecure is not null) parts.Add($"insecure = {insecure.Value.ToString().ToLowerInvariant()}");
                if (blocked is not null) parts.Add($"blocked = {blocked.Value.ToString().ToLowerInvariant()}");
                changes.Add($"[[registry]] prefix = \"{Registry}\"" + (parts.Count > 0 ? ": " + string.Join(", ", parts) : ""));
            }
            foreach (string m in Mirror ?? [])
            {
                bool? mirrorInsecure = MyInvocation.BoundParameters.ContainsKey(nameof(Insecure)) ? Insecure.IsPresent : null;
                file.SetMirror(Registry, m, mirrorInsecure, PullFromMirror);
                changes.Add($"[[registry.mirror]] of \"{Registry}\": location = \"{m}\"" + (mirrorInsecure is null ? "" : $", insecure = {mirrorInsecure.Value.ToString().ToLowerInvariant()}")
                    + (PullFromMirror is null ? "" : $", pull-from-mirror = {PullFromMirror}"));
            }
        }
        if (SearchRegistries is not null)
        {
            file.SetSearchRegistries(SearchRegistries);
            changes.Add($"unqualified-search-registries = [{string.Join(", ", SearchRegistries.Select(s => "\"" + s + "\""))}]");
        }
        if (ShortNameMode is not null)
        {
            file.SetShortNameMode(ShortNameMode);
            changes.Add($"short-name-mode = \"{ShortNameMode.Value.ToString().ToLowerInvariant()}\"");
        }
        if (Alias is not null || AliasTarget is not null)
        {
            if (Alias is null || AliasTarget is null)
                throw new ContainersException("AliasIncomplete", ErrorKind.InvalidArgument, "An alias needs both -Alias (the short name) and -AliasTarget (the fully-qualified repository).");
            file.SetAlias(Alias, AliasTarget);
            changes.Add($"[aliases] \"{Alias}\" = \"{AliasTarget}\"");
        }
        return changes;
    }
}
