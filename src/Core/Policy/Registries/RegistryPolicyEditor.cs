using Containers.Core.Configuration;

namespace Containers.Core.Policy;

/// <summary>Which registries.conf an edit goes to.</summary>
public enum PolicyScope { System, User }

/// <summary>A snapshot of the registries configuration in force, for display.</summary>
public sealed record RegistryPolicy
{
    public required IReadOnlyList<string> Files { get; init; }
    public required ShortNameMode ShortNameMode { get; init; }
    public string? ShortNameModeOrigin { get; init; }
    public required IReadOnlyList<string> SearchRegistries { get; init; }
    public string? SearchRegistriesOrigin { get; init; }
    public required IReadOnlyList<RegistryRule> Registries { get; init; }
    public required IReadOnlyDictionary<string, string> Aliases { get; init; }

    internal static RegistryPolicy From(RegistriesConfiguration c) => new()
    {
        Files = c.Files, ShortNameMode = c.ShortNameMode, ShortNameModeOrigin = c.ShortNameModeOrigin,
        SearchRegistries = c.SearchRegistries, SearchRegistriesOrigin = c.SearchRegistriesOrigin,
        Registries = c.Registries, Aliases = c.Aliases,
    };
}

/// <summary>How an image name resolves under the configuration: candidates, and for each where it would be pulled from.</summary>
public sealed record RegistryResolution
{
    public required string Name { get; init; }
    public required ShortNameOrigin Origin { get; init; }
    public required ShortNameMode ShortNameMode { get; init; }
    public required IReadOnlyList<Spec.ImageReference> Candidates { get; init; }
    public required IReadOnlyList<PullSource> PullSources { get; init; }
    public RegistryRule? Rule { get; init; }
    public bool Blocked { get; init; }
    public string? BlockedReason { get; init; }
}

/// <summary>Opens the registries.conf of a scope for editing and saves it; the cmdlets describe and confirm the change between.</summary>
internal static class RegistryPolicyEditor
{
    /// <summary>The file a scope edits; default is the user's file when rootless and one is in force, else the system file.</summary>
    public static string PathFor(ContainerPaths paths, PolicyScope? scope)
    {
        var effective = scope ?? (paths.Rootless && paths.UserRegistriesConf is not null ? PolicyScope.User : PolicyScope.System);
        if (effective == PolicyScope.System) return paths.SystemRegistriesConf;
        return paths.UserRegistriesConf ?? throw PolicyErrors.ScopeUnavailable("registries.conf", "PSCONTAINERS_CONFIG_DIR or CONTAINERS_REGISTRIES_CONF", "file");
    }

    /// <summary>
    /// The drop-in file a scope's registries.conf.d holds under a name ("50-mirrors" or "50-mirrors.conf"),
    /// so configuration management can own one file. The name is a plain file name.
    /// </summary>
    public static string DropInPathFor(ContainerPaths paths, PolicyScope? scope, string name)
    {
        string file = name.EndsWith(".conf", StringComparison.Ordinal) ? name : name + ".conf";
        if (file.Length <= ".conf".Length || file.Contains('/') || file.StartsWith('.') || file.Contains('\0'))
            throw PolicyErrors.DropInNameInvalid(name);
        var effective = scope ?? (paths.Rootless && paths.UserRegistriesConfDir is not null ? PolicyScope.User : PolicyScope.System);
        string dir = effective == PolicyScope.System ? paths.SystemRegistriesConfDir
            : paths.UserRegistriesConfDir ?? throw PolicyErrors.ScopeUnavailable("registries.conf.d", "PSCONTAINERS_CONFIG_DIR", "folder");
        return Path.Combine(dir, file);
    }

    /// <summary>
    /// Opens the file an edit goes to: an explicit path, a named drop-in of the scope, or the scope's
    /// main file. A drop-in or explicit file that does not exist yet starts empty.
    /// </summary>
    public static RegistriesFile Open(ContainerPaths paths, PolicyScope? scope, string? dropIn, string? path)
    {
        if (path is not null)
        {
            if (dropIn is not null || scope is not null)
                throw PolicyErrors.TargetConflict(path);
            return RegistriesFile.Load(path);
        }
        return dropIn is null ? Open(paths, scope) : RegistriesFile.Load(DropInPathFor(paths, scope, dropIn));
    }

    /// <summary>Why the containers tools would not read this file under these paths, or null when they do.</summary>
    public static string? NotInForce(ContainerPaths paths, string file)
    {
        string full = Path.GetFullPath(file);
        if (RegistriesConfiguration.FilesInForce(paths).Any(f => Path.GetFullPath(f) == full)) return null;
        if (Path.GetDirectoryName(full) is { } dir && (dir == Path.GetFullPath(paths.SystemRegistriesConfDir)) && paths.UserRegistriesConf is { } u && File.Exists(u))
            return $"{file} is not read: the user's {u} exists, and then the system drop-ins are ignored (as the containers tools do).";
        return $"{file} is not among the files read for this configuration ({string.Join(", ", RegistriesConfiguration.FilesInForce(paths))}).";
    }

    /// <summary>
    /// Opens the file of a scope. A user file that does not exist yet starts as a copy of the system
    /// file, because once it exists the containers tools read it instead of the system file.
    /// </summary>
    public static RegistriesFile Open(ContainerPaths paths, PolicyScope? scope)
    {
        string path = PathFor(paths, scope);
        if (!File.Exists(path) && path == paths.UserRegistriesConf && File.Exists(paths.SystemRegistriesConf))
            return RegistriesFile.Parse(File.ReadAllText(paths.SystemRegistriesConf), path);
        return RegistriesFile.Load(path);
    }
}
