using System.Globalization;
using System.Text.RegularExpressions;
using Containers.Core.Errors;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Containers.Core.Kube;

/// <summary>
/// YAML text in and out through YamlDotNet's representation model (no reflection, so nothing for the module's loading
/// to trip on): documents are parsed into nodes that <see cref="KubeMap"/> walks, and written from nodes with keys
/// sorted and scalars quoted as podman's Go YAML writer does, so a diff against <c>podman kube generate</c> lines up.
/// </summary>
internal static partial class KubeYaml
{
    /// <summary>Every document of <paramref name="text"/> that is a mapping; <paramref name="source"/> names it in errors.</summary>
    public static List<YamlMappingNode> Parse(string text, string source)
    {
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(text));
        try { stream.Load(parser); }
        catch (YamlException e)
        {
            throw Invalid(source, e.Start, Inner(e).Message, e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner gives up this way on some unterminated flow collections: the last event read says where.
            throw Invalid(source, parser.Current?.End ?? Mark.Empty, "the input ends inside an unterminated [...] or {...}", e);
        }
        var docs = new List<YamlMappingNode>();
        for (int i = 0; i < stream.Documents.Count; i++)
        {
            switch (stream.Documents[i].RootNode)
            {
                case YamlMappingNode map: docs.Add(map); break;
                case YamlScalarNode { Value: null or "" }: break; // an empty document between two ---
                case var other:
                    throw new ContainersException("KubeYamlInvalid", ErrorKind.InvalidData,
                        $"{source}:{other.Start.Line}:{other.Start.Column}: document {i + 1} is not a mapping (apiVersion, kind, metadata, spec).", source);
            }
        }
        return docs;
    }

    private static ContainersException Invalid(string source, Mark at, string why, Exception e) =>
        new("KubeYamlInvalid", ErrorKind.InvalidData, $"{source}:{at.Line}:{at.Column}: not valid YAML: {why}", source, "Fix the YAML at that line and column.", e);

    private static Exception Inner(YamlException e) => e.InnerException is YamlException inner ? Inner(inner) : e;

    /// <summary>The documents as one stream, <c>---</c> before each, keys sorted.</summary>
    public static string Write(IEnumerable<YamlMappingNode> documents, string? header = null)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        if (header is not null) writer.Write(header);
        foreach (var doc in documents)
        {
            writer.Write("---\n");
            var stream = new YamlStream(new YamlDocument(Sorted(doc)));
            var one = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
            stream.Save(one, assignAnchors: false);
            // YamlDotNet ends each document with "...": the stream separator above says the same.
            writer.Write(DocumentEnd().Replace(one.ToString(), "\n"));
        }
        return writer.ToString();
    }

    [GeneratedRegex(@"\n\.\.\.\n*$")]
    private static partial Regex DocumentEnd();

    private static YamlNode Sorted(YamlNode node) => node switch
    {
        YamlMappingNode map => new YamlMappingNode(map.Children.OrderBy(p => ((YamlScalarNode)p.Key).Value, StringComparer.Ordinal)
            .Select(p => new KeyValuePair<YamlNode, YamlNode>(p.Key, Sorted(p.Value)))),
        YamlSequenceNode seq => new YamlSequenceNode(seq.Children.Select(Sorted)),
        _ => node,
    };

    /// <summary>A string scalar, double-quoted where a plain one would read back as a number, a boolean or null.</summary>
    public static YamlScalarNode Str(string value) =>
        new(value) { Style = NeedsQuotes(value) ? ScalarStyle.DoubleQuoted : ScalarStyle.Any };

    public static YamlScalarNode Num(long value) => new(value.ToString(CultureInfo.InvariantCulture)) { Style = ScalarStyle.Plain };

    public static YamlScalarNode Bool(bool value) => new(value ? "true" : "false") { Style = ScalarStyle.Plain };

    public static YamlSequenceNode Strs(IEnumerable<string> values) => new(values.Select(v => (YamlNode)Str(v)));

    private static bool NeedsQuotes(string v) =>
        v.Length == 0 || PlainNonString().IsMatch(v) || Timestamp().IsMatch(v);

    // YAML 1.1 timestamps (Go's yaml quotes creationTimestamp so that it stays a string).
    [GeneratedRegex(@"^\d{4}-\d\d?-\d\d?(?:[Tt ]|$)")]
    private static partial Regex Timestamp();

    // YAML 1.1 and 1.2 readings that are not strings (Go's yaml quotes the same set).
    [GeneratedRegex(@"^(?:[-+]?(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o?[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$")]
    private static partial Regex PlainNonString();

    /// <summary>A mapping built from pairs whose value is not null.</summary>
    public static YamlMappingNode Map(params (string Key, YamlNode? Value)[] pairs)
    {
        var map = new YamlMappingNode();
        foreach (var (key, value) in pairs)
            if (value is not null) map.Add(key, value);
        return map;
    }
}
