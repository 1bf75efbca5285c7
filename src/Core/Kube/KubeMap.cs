using System.Globalization;
using Containers.Core.Errors;
using YamlDotNet.RepresentationModel;

namespace Containers.Core.Kube;

/// <summary>A warning about the YAML: what was not played, at which path (<c>spec.containers[0].lifecycle</c>).</summary>
internal sealed record KubeWarning(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>
/// One YAML mapping as the player reads it: typed getters that name the path in their errors, and a record of the keys
/// read, so <see cref="Finish"/> reports every key nobody read as a warning instead of dropping it silently.
/// </summary>
internal sealed class KubeMap(YamlMappingNode node, string path, List<KubeWarning> warnings)
{
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public string Path { get; } = path;
    public List<KubeWarning> Warnings { get; } = warnings;

    public static KubeMap Root(YamlMappingNode node, List<KubeWarning> warnings) => new(node, "", warnings);

    public string At(string key) => Path.Length == 0 ? key : Path + "." + key;

    private YamlNode? Node(string key)
    {
        _read.Add(key);
        return node.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is not YamlScalarNode { Value: null or "~" } ? v : null;
    }

    public bool Has(string key) => node.Children.ContainsKey(new YamlScalarNode(key));

    public string? Str(string key) => Node(key) switch
    {
        null => null,
        YamlScalarNode s => s.Value,
        _ => throw Invalid(key, "a string"),
    };

    public string Required(string key) => Str(key) is { Length: > 0 } s ? s
        : throw new ContainersException("KubeFieldMissing", ErrorKind.InvalidData, $"{At(key)} is required.", At(key), $"Add {At(key)} to the YAML.");

    public long? Int(string key)
    {
        string? s = Str(key);
        if (s is null) return null;
        return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v : throw Invalid(key, "an integer");
    }

    public bool? Bool(string key) => Str(key) switch
    {
        null => null,
        "true" or "True" or "TRUE" => true,
        "false" or "False" or "FALSE" => false,
        _ => throw Invalid(key, "true or false"),
    };

    public KubeMap? Map(string key) => Node(key) switch
    {
        null => null,
        YamlMappingNode m => new KubeMap(m, At(key), Warnings),
        _ => throw Invalid(key, "a mapping"),
    };

    /// <summary>A sequence of mappings, each with its index in the path.</summary>
    public List<KubeMap> Maps(string key) => Node(key) switch
    {
        null => [],
        YamlSequenceNode seq => seq.Children.Select((c, i) => c is YamlMappingNode m ? new KubeMap(m, $"{At(key)}[{i}]", Warnings)
            : throw new ContainersException("KubeFieldInvalid", ErrorKind.InvalidData, $"{At(key)}[{i}] must be a mapping.", $"{At(key)}[{i}]")).ToList(),
        _ => throw Invalid(key, "a list"),
    };

    public List<string>? Strs(string key) => Node(key) switch
    {
        null => null,
        YamlSequenceNode seq => seq.Children.Select((c, i) => c is YamlScalarNode s ? s.Value ?? ""
            : throw new ContainersException("KubeFieldInvalid", ErrorKind.InvalidData, $"{At(key)}[{i}] must be a string.", $"{At(key)}[{i}]")).ToList(),
        _ => throw Invalid(key, "a list of strings"),
    };

    /// <summary>A mapping of strings (labels, annotations, ConfigMap data).</summary>
    public Dictionary<string, string> StrMap(string key)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (Node(key))
        {
            case null: break;
            case YamlMappingNode m:
                foreach (var (k, v) in m.Children)
                    result[((YamlScalarNode)k).Value ?? ""] = v is YamlScalarNode s ? s.Value ?? ""
                        : throw new ContainersException("KubeFieldInvalid", ErrorKind.InvalidData, $"{At(key)}.{k} must be a string.", $"{At(key)}.{k}");
                break;
            default: throw Invalid(key, "a mapping of strings");
        }
        return result;
    }

    /// <summary>Keys known to have no effect here (podman writes them, or they only matter to a cluster): read without a warning.</summary>
    public void Accept(params string[] keys)
    {
        foreach (string k in keys) _read.Add(k);
    }

    /// <summary>Reports a key that is understood but not played.</summary>
    public void Warn(string key, string message)
    {
        _read.Add(key);
        if (Has(key)) Warnings.Add(new KubeWarning(At(key), message));
    }

    /// <summary>A key whose effect cannot be had here: an error, since ignoring it would change what runs.</summary>
    public void Refuse(string key, string why)
    {
        if (Has(key))
            throw new ContainersException("KubeFieldNotSupported", ErrorKind.NotSupported, $"{At(key)}: {why}", At(key), "Remove it from the YAML, or run the workload on Kubernetes.");
    }

    /// <summary>Warns about every key that was not read.</summary>
    public void Finish()
    {
        foreach (var (k, _) in node.Children)
        {
            string key = ((YamlScalarNode)k).Value ?? "";
            if (!_read.Contains(key)) Warnings.Add(new KubeWarning(At(key), "not supported here; ignored."));
        }
    }

    public ContainersException Invalid(string key, string what) =>
        new("KubeFieldInvalid", ErrorKind.InvalidData, $"{At(key)} must be {what}.", At(key), $"Fix {At(key)} in the YAML.");
}
