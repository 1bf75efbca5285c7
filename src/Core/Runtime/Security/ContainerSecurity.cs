using System.Text.Json;
using System.Text.Json.Serialization;
using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime.Security;

/// <summary>
/// What <c>-SecurityOpt</c> and <c>-Privileged</c> ask of a container (podman's <c>--security-opt</c>, <c>--privileged</c>):
/// its seccomp profile (the default one, a Docker/podman JSON file, or none) and no_new_privs.
/// </summary>
internal sealed class ContainerSecurity
{
    public static readonly string[] Keys = ["seccomp", "no-new-privileges"];

    /// <summary>Null: the default profile (unless <see cref="Unconfined"/>).</summary>
    public SeccompProfile? Profile { get; init; }
    public bool Unconfined { get; init; }
    public bool NoNewPrivileges { get; init; } = true;
    /// <summary>All capabilities, all devices, no seccomp, no masked paths.</summary>
    public bool Privileged { get; init; }

    /// <summary>Parses <c>key=value</c> options; <paramref name="resolvePath"/> turns a profile path into a full one.</summary>
    public static ContainerSecurity Parse(IEnumerable<string> options, bool privileged, Func<string, string> resolvePath)
    {
        SeccompProfile? profile = null;
        bool unconfined = false, noNewPrivileges = true;
        foreach (string option in options)
        {
            int eq = option.IndexOf('=');
            string key = (eq < 0 ? option : option[..eq]).Trim().ToLowerInvariant(), value = eq < 0 ? "" : option[(eq + 1)..].Trim();
            switch (key)
            {
                case "seccomp" when value == "unconfined":
                    unconfined = true; profile = null;
                    break;
                case "seccomp" when value.Length > 0:
                    profile = SeccompProfileFile.Load(resolvePath(value)); unconfined = false;
                    break;
                case "no-new-privileges" when eq < 0 || bool.TryParse(value, out _):
                    noNewPrivileges = eq < 0 || bool.Parse(value);
                    break;
                case "seccomp" or "no-new-privileges":
                    throw new ContainersException("InvalidSecurityOption", ErrorKind.InvalidArgument,
                        $"'{option}' is not a valid value for {key}.", option,
                        key == "seccomp" ? "Use seccomp=<profile.json> or seccomp=unconfined." : "Use no-new-privileges=true or no-new-privileges=false.");
                default:
                    throw new ContainersException("UnknownSecurityOption", ErrorKind.InvalidArgument,
                        $"'{key}' is not a security option this module knows; the known ones are {string.Join(", ", Keys)}.", option,
                        "Use seccomp=<profile.json>, seccomp=unconfined or no-new-privileges=false.");
            }
        }
        return new ContainerSecurity { Profile = profile, Unconfined = unconfined || privileged, NoNewPrivileges = noNewPrivileges, Privileged = privileged };
    }

    /// <summary>The capabilities to add to the default set: for a privileged container every one this process may still
    /// hold (its bounding set; as podman does: a capability outside it cannot be given, capset would fail).</summary>
    public IReadOnlyList<string> CapAdd(IReadOnlyList<string> requested) => Privileged ? [.. HostBounding(), .. requested] : requested;

    private static IEnumerable<string> HostBounding()
    {
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapBnd:", StringComparison.Ordinal));
        ulong mask = line is null ? 0 : Convert.ToUInt64(line[7..].Trim(), 16);
        return CapabilityTable.Names.Where((_, bit) => (mask >> bit & 1) != 0);
    }

    /// <summary>Sets the bundle's seccomp filter, no_new_privs and (privileged) masked paths; a privileged container's
    /// device rules come from its record (<see cref="ContainerResources.AllDevices"/>), which its cgroup is made from.</summary>
    public void Apply(RuntimeSpec spec, IEnumerable<string> capabilities)
    {
        spec.Process!.NoNewPrivileges = NoNewPrivileges;
        var linux = spec.Linux!;
        linux.Seccomp = Unconfined ? null : (Profile ?? RuntimeDefaults.SeccompProfile()).Resolve(capabilities);
        if (!Privileged) return;
        linux.MaskedPaths = null;
        linux.ReadonlyPaths = null;
    }
}

/// <summary>Reads a seccomp profile in Docker's and podman's JSON format.</summary>
internal static class SeccompProfileFile
{
    public static SeccompProfile Load(string path)
    {
        SeccompProfile? profile;
        try
        {
            using var stream = File.OpenRead(path);
            profile = JsonSerializer.Deserialize(stream, SeccompProfileJsonContext.Default.SeccompProfile);
        }
        catch (JsonException e)
        {
            throw new ContainersException("InvalidSeccompProfile", ErrorKind.InvalidData,
                $"The seccomp profile '{path}' is not valid JSON at line {(e.LineNumber ?? 0) + 1}: {e.Message}", path,
                "Fix the file, or give a profile in the Docker/podman format (defaultAction, syscalls[]).", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainersException("SeccompProfileNotFound", ErrorKind.NotFound,
                $"The seccomp profile '{path}' cannot be read: {e.Message}", path, "Give the path of a readable profile file.", e);
        }
        if (profile is null)
            throw new ContainersException("InvalidSeccompProfile", ErrorKind.InvalidData, $"The seccomp profile '{path}' is empty (null).", path);
        foreach (var rule in profile.Syscalls)
            if (rule.Name is { Length: > 0 } single) rule.Names.Add(single);
        // Compiled once with every rule kept, so an action or comparison the filter cannot express is refused now.
        try { SeccompFilter.Compile(profile.Unconditional()); }
        catch (ArgumentException e)
        {
            throw new ContainersException("UnsupportedSeccompProfile", ErrorKind.NotSupported,
                $"The seccomp profile '{path}' uses something this runtime cannot apply: {e.Message}.", path,
                "Use the actions SCMP_ACT_ERRNO, ALLOW, KILL, KILL_PROCESS, TRAP, LOG and the comparisons EQ, NE, LT, LE, GT, GE, MASKED_EQ.", e);
        }
        return profile;
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SeccompProfile))]
internal sealed partial class SeccompProfileJsonContext : JsonSerializerContext
{
}
