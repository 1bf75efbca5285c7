using System.Runtime.InteropServices;
using Containers.Core.Spec;

namespace Containers.Core.Registry;

/// <summary>Parses "os/arch[/variant]" (or "arch") and picks the matching manifest of an index.</summary>
internal static class PlatformSelector
{
    /// <summary>This host's platform in OCI terms (linux/amd64, linux/arm64/v8, ...).</summary>
    public static Platform Host { get; } = new()
    {
        Os = "linux",
        Architecture = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "amd64",
            Architecture.Arm64 => "arm64",
            Architecture.Arm => "arm",
            Architecture.X86 => "386",
            Architecture.Ppc64le => "ppc64le",
            Architecture.S390x => "s390x",
            Architecture.RiscV64 => "riscv64",
            Architecture.LoongArch64 => "loong64",
            var other => other.ToString().ToLowerInvariant(),
        },
    };

    public static Platform Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return Host;
        string[] parts = text.Trim().ToLowerInvariant().Split('/');
        Platform p = parts.Length switch
        {
            1 => new Platform { Os = "linux", Architecture = parts[0] },
            2 => new Platform { Os = parts[0], Architecture = parts[1] },
            3 => new Platform { Os = parts[0], Architecture = parts[1], Variant = parts[2] },
            _ => throw RegistryErrors.InvalidPlatform(text, "Give a platform such as linux/amd64 or linux/arm64/v8."),
        };
        if (p.Os.Length == 0 || p.Architecture.Length == 0)
            throw RegistryErrors.InvalidPlatform(text);
        return p with { Architecture = p.Architecture switch { "x86_64" => "amd64", "aarch64" => "arm64", var a => a } };
    }

    /// <summary>The index entry for the platform: same os and architecture, the variant when one is asked for.</summary>
    public static Descriptor Select(ImageIndex index, Platform wanted, string target)
    {
        var candidates = index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) || string.IsNullOrEmpty(m.MediaType)).ToList();
        Descriptor? best = candidates.FirstOrDefault(m => m.Platform is { } p && p.Os == wanted.Os && p.Architecture == wanted.Architecture
            && (string.IsNullOrEmpty(wanted.Variant) || string.Equals(p.Variant, wanted.Variant, StringComparison.Ordinal)
                || (wanted.Variant == "v8" && wanted.Architecture == "arm64" && string.IsNullOrEmpty(p.Variant))));
        return best ?? throw RegistryErrors.NoMatchingPlatform(target, wanted.ToString(),
            candidates.Select(m => m.Platform?.ToString() ?? "unknown").Distinct());
    }
}
