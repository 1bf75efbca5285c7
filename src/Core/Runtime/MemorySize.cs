using System.Globalization;
using Containers.Core.Errors;

namespace Containers.Core.Runtime;

/// <summary>Parses memory sizes as podman and PowerShell users write them: <c>67108864</c>, <c>64m</c>, <c>64MB</c>, <c>1.5g</c>, <c>512KiB</c>.</summary>
internal static class MemorySize
{
    public static long Parse(string text)
    {
        string t = text.Trim();
        int i = 0;
        while (i < t.Length && (char.IsAsciiDigit(t[i]) || t[i] == '.')) i++;
        string unit = t[i..].Trim().ToLowerInvariant();
        long mult = unit switch
        {
            "" or "b" => 1,
            "k" or "kb" or "kib" => 1L << 10,
            "m" or "mb" or "mib" => 1L << 20,
            "g" or "gb" or "gib" => 1L << 30,
            "t" or "tb" or "tib" => 1L << 40,
            _ => -1,
        };
        if (i == 0 || mult < 0 || !double.TryParse(t[..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value * mult > long.MaxValue)
            throw new ContainersException("InvalidMemoryLimit", ErrorKind.InvalidArgument,
                $"'{text}' is not a memory size: give bytes or a number with a unit (k, m, g), e.g. 64MB.", text);
        return (long)(value * mult);
    }
}
