using System.Globalization;
using Containers.Core.Errors;

namespace Containers.Core.Kube;

/// <summary>Kubernetes resource quantities (<c>64Mi</c>, <c>500m</c>, <c>1.5</c>), read and written as the API writes them.</summary>
internal static class KubeQuantity
{
    private static readonly (string Suffix, decimal Factor)[] Suffixes =
    [
        ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40), ("Pi", 1L << 50), ("Ei", 1L << 60),
        ("m", 0.001m), ("k", 1e3m), ("M", 1e6m), ("G", 1e9m), ("T", 1e12m), ("P", 1e15m), ("E", 1e18m),
    ];

    /// <summary>The value of a quantity (bytes for memory, cores for cpu); throws KubeFieldInvalid with the path.</summary>
    public static decimal Parse(string text, string path)
    {
        string t = text.Trim();
        decimal factor = 1;
        foreach (var (suffix, f) in Suffixes)
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal) && t.Length > suffix.Length)
            {
                factor = f;
                t = t[..^suffix.Length];
                break;
            }
        }
        if (!decimal.TryParse(t, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out decimal v) || v < 0)
            throw new ContainersException("KubeFieldInvalid", ErrorKind.InvalidData, $"{path}: '{text}' is not a Kubernetes quantity (e.g. 64Mi, 500m, 1.5).", path,
                $"Fix {path} in the YAML.");
        return v * factor;
    }

    /// <summary>Bytes as the API writes a memory limit: the largest binary suffix that divides it (<c>64Mi</c>), else the number.</summary>
    public static string Memory(long bytes)
    {
        foreach (var (suffix, shift) in new[] { ("Ei", 60), ("Pi", 50), ("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10) })
        {
            long unit = 1L << shift;
            if (bytes >= unit && bytes % unit == 0) return (bytes / unit).ToString(CultureInfo.InvariantCulture) + suffix;
        }
        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Cores in milli-cores as the API writes them: whole cores plain (<c>2</c>), else <c>500m</c>.</summary>
    public static string Cpu(long milli) =>
        milli % 1000 == 0 ? (milli / 1000).ToString(CultureInfo.InvariantCulture) : milli.ToString(CultureInfo.InvariantCulture) + "m";
}
