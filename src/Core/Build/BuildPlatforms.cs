using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Spec;

namespace Containers.Core.Build;

/// <summary>
/// Builds for another platform: the base comes from the store for that platform, COPY and ADD need nothing
/// else, and a RUN step needs the kernel to run that platform's programs (a binfmt_misc handler such as
/// qemu-user-static's); without one it is refused before anything runs.
/// </summary>
internal static class BuildPlatforms
{
    private const string BinfmtDir = "/proc/sys/fs/binfmt_misc";

    public static Platform Parse(string text, Instruction? at)
    {
        string[] parts = text.Trim().ToLowerInvariant().Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
            throw new ContainersException("InvalidPlatform", ErrorKind.InvalidArgument,
                (at is null ? "" : at.Where + ": ") + $"'{text}' is not a platform.", at?.Where ?? text, "Give os/architecture[/variant], such as linux/arm64.");
        string arch = parts[1] switch { "x86_64" => "amd64", "aarch64" => "arm64", var a => a };
        return new Platform { Os = parts[0], Architecture = arch, Variant = parts.Length == 3 ? parts[2] : null };
    }

    public static bool Matches(StoredImage image, Platform p) =>
        image.Os == p.Os && image.Architecture == p.Architecture && (string.IsNullOrEmpty(p.Variant) || string.Equals(image.Variant, p.Variant, StringComparison.Ordinal));

    /// <summary>Refuses a RUN for a platform this kernel cannot execute.</summary>
    public static void EnsureCanRun(Platform p, Instruction ins)
    {
        var host = ImageArchive.HostPlatform;
        if (p.Os == host.Os && p.Architecture == host.Architecture) return;
        if (p.Os == "linux" && HasHandler(p.Architecture)) return;
        throw new ContainersException("BuildPlatformCannotRun", ErrorKind.NotSupported,
            $"{ins.Where}: RUN for {p} cannot run on this {host} host: no binfmt_misc handler for {p.Architecture}.", ins.Where,
            "Install an emulator (Debian: apt-get install qemu-user-static binfmt-support), or build that stage with COPY/ADD only.");
    }

    private static bool HasHandler(string arch)
    {
        string qemu = arch switch { "arm64" => "aarch64", "amd64" => "x86_64", "386" => "i386", "arm" => "arm", "ppc64le" => "ppc64le", "s390x" => "s390x", "riscv64" => "riscv64", var a => a };
        try { return File.ReadAllText(Path.Combine(BinfmtDir, "qemu-" + qemu)).StartsWith("enabled", StringComparison.Ordinal); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}
