using Containers.Core.Errors;
using Containers.Core.Volumes;

namespace Containers.Core.Runtime;

/// <summary>
/// One <c>-Volume</c> argument: <c>/host/path:/ctr[:ro]</c> binds a host path; <c>name:/ctr[:ro][,nocopy]</c> mounts the
/// named volume (made on first use). Anything else (a relative path such as <c>./data</c>, a name with other characters)
/// is refused before anything is written: it would otherwise bind a folder of the caller's current directory by accident.
/// </summary>
internal static class VolumeSpec
{
    public const string VolumeType = "volume";
    /// <summary>Set on a parsed volume mount (options are not carried further) when the image's content must not be copied in.</summary>
    public const string NoCopy = "nocopy";

    public static ContainerMount Parse(string v)
    {
        string[] parts = v.Split(':');
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || !parts[1].StartsWith('/'))
            throw new ContainersException("InvalidVolume", ErrorKind.InvalidArgument,
                $"'{v}' is not a mount of the form /host/path:/container/path[:ro] or volume-name:/container/path[:ro].", v);
        var options = parts.Length == 3 ? parts[2].Split(',') : [];
        string? bad = options.FirstOrDefault(o => o is not ("ro" or "rw" or NoCopy));
        if (bad is not null)
            throw new ContainersException("InvalidVolume", ErrorKind.InvalidArgument,
                $"'{bad}' in '{v}' is not a mount option; use ro, rw or nocopy (volumes only), separated by commas.", v);
        bool readOnly = options.Contains("ro");
        string source = parts[0];
        if (source.StartsWith('/'))
        {
            if (options.Contains(NoCopy))
                throw new ContainersException("InvalidVolume", ErrorKind.InvalidArgument, $"nocopy in '{v}' applies to named volumes only, not to a host path.", v);
            string full = Path.GetFullPath(source);
            if (!File.Exists(full) && !Directory.Exists(full))
                throw new ContainersException("BindSourceNotFound", ErrorKind.NotFound,
                    $"The bind mount source '{full}' does not exist.", full, "Create it first, or fix the path.");
            return new ContainerMount { Type = "bind", Source = full, Destination = parts[1], ReadOnly = readOnly };
        }
        if (!VolumeStore.IsValidName(source))
            throw new ContainersException("InvalidVolumeSource", ErrorKind.InvalidArgument,
                $"'{source}' in '{v}' is neither an absolute host path nor a volume name (letters, digits, '_', '.', '-', starting with a letter or digit).",
                v, $"To bind a host directory give its absolute path, e.g. -Volume \"$((Resolve-Path '{source}').Path):{parts[1]}\"; to use a named volume give a name such as data.");
        return new ContainerMount
        {
            Type = VolumeType, Volume = source, Destination = parts[1], ReadOnly = readOnly, Options = options.Contains(NoCopy) ? NoCopy : null,
        };
    }
}
