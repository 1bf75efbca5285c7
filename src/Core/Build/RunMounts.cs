using Containers.Core.Errors;

namespace Containers.Core.Build;

/// <summary>One <c>RUN --mount=...</c> as BuildKit and buildah read it.</summary>
internal sealed record RunMount(string Type, string Target)
{
    public string? Source { get; init; }
    public string? From { get; init; }
    public bool ReadWrite { get; init; }
    public string? Id { get; init; }
    public string Sharing { get; init; } = "shared";
    public uint? Mode { get; init; }
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public string? Size { get; init; }
    public bool Required { get; init; }

    /// <summary>
    /// Parses <c>type=bind|cache|tmpfs|secret,target=/x,...</c>. bind and cache default to read-only and
    /// read-write respectively, as in BuildKit; ssh mounts are refused (there is no agent to forward).
    /// </summary>
    public static RunMount Parse(string spec, Instruction ins)
    {
        var kv = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            string key = (eq < 0 ? part : part[..eq]).ToLowerInvariant(), value = eq < 0 ? "true" : part[(eq + 1)..].Trim('"', '\'');
            key = key switch { "dst" or "destination" => "target", "src" => "source", "readonly" => "ro", "readwrite" => "rw", _ => key };
            kv[key] = value;
        }
        string type = kv.GetValueOrDefault("type", "bind");
        string[] allowed = type switch
        {
            "bind" => ["type", "target", "source", "from", "ro", "rw"],
            "cache" => ["type", "target", "ro", "rw", "id", "sharing", "mode", "uid", "gid"],
            "tmpfs" => ["type", "target", "size"],
            "secret" => ["type", "target", "id", "required", "mode", "uid", "gid"],
            _ => throw Bad(ins, spec, type == "ssh" ? "type=bind, cache, tmpfs or secret (ssh mounts are not supported: there is no agent to forward)" : "type=bind, cache, tmpfs or secret"),
        };
        if (kv.Keys.FirstOrDefault(k => !allowed.Contains(k)) is { } unknown) throw Bad(ins, spec, $"only {string.Join(", ", allowed.Skip(1))} with type={type}, not '{unknown}'");
        string? id = kv.GetValueOrDefault("id");
        string target = kv.GetValueOrDefault("target") ?? (type == "secret" && id is not null ? "/run/secrets/" + id : throw Bad(ins, spec, "target=/path in the container"));
        if (!target.StartsWith('/')) throw Bad(ins, spec, "an absolute target");
        bool Flag(string k) => kv.TryGetValue(k, out var v) && (v is "true" or "1" ? true : v is "false" or "0" ? false : throw Bad(ins, spec, $"{k}=true or false"));
        uint Number(string k, uint fallback, bool octal = false)
        {
            if (!kv.TryGetValue(k, out var v)) return fallback;
            if (v.Length is > 0 and <= 10 && v.All(c => octal ? c is >= '0' and <= '7' : char.IsAsciiDigit(c)))
                try { return Convert.ToUInt32(v, octal ? 8 : 10); } catch (OverflowException) { }
            throw Bad(ins, spec, $"{k}=<{(octal ? "octal mode" : "number")}>");
        }
        string sharing = kv.GetValueOrDefault("sharing", "shared");
        if (sharing is not ("shared" or "private" or "locked")) throw Bad(ins, spec, "sharing=shared, private or locked");
        if (type == "secret" && id is null) throw Bad(ins, spec, "id=<secret name> (given to New-ContainerImage -Secret)");
        return new RunMount(type, ConfigChanges.CleanPath(target))
        {
            Source = kv.GetValueOrDefault("source"), From = kv.GetValueOrDefault("from"), Id = id ?? (type == "cache" ? target : null), Sharing = sharing,
            ReadWrite = type == "cache" ? !Flag("ro") : Flag("rw"), Required = Flag("required"),
            Mode = kv.ContainsKey("mode") ? Number("mode", 0, octal: true) : null, Uid = Number("uid", 0), Gid = Number("gid", 0), Size = kv.GetValueOrDefault("size"),
        };
    }

    private static ContainersException Bad(Instruction ins, string spec, string expected) =>
        new("InvalidContainerfileSyntax", ErrorKind.InvalidArgument, $"{ins.Where}: RUN --mount={spec} is not valid: expected {expected}.", ins.Where,
            "See New-ContainerImage's help for the RUN --mount forms supported.");
}
