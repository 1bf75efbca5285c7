using System.Diagnostics;
using Containers.Core.Errors;

namespace Containers.Core.Networking.Rootless;

/// <summary>Finds pasta and slirp4netns (containers.conf's helper_binaries_dir first, then the usual bin folders) and tells their versions.</summary>
internal static class RootlessNetworkTools
{
    private static readonly string[] StandardDirs = ["/usr/local/bin", "/usr/bin", "/bin"];

    /// <summary>The Debian package that ships each helper.</summary>
    public static string Package(string helper) => helper == RootlessNetworkMode.Pasta ? "passt" : "slirp4netns";

    /// <summary>The helper's path, or null when it is not installed: helper_binaries_dir first, then PATH (as podman looks).</summary>
    /// <param name="path">The PATH to search (null: this process's).</param>
    public static string? Find(string helper, IReadOnlyList<string> helperDirs, string? path = null)
    {
        string[] searchPath = (path ?? Environment.GetEnvironmentVariable("PATH"))?.Split(':', StringSplitOptions.RemoveEmptyEntries) ?? [];
        foreach (string dir in helperDirs.Concat(searchPath.Length > 0 ? searchPath : StandardDirs))
        {
            string candidate = Path.Combine(dir, helper);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>The helper's path; throws NetworkHelperNotFound naming the package when it is missing.</summary>
    public static string Require(string helper, IReadOnlyList<string> helperDirs, string? path = null) =>
        Find(helper, helperDirs, path) ?? throw new ContainersException("NetworkHelperNotFound", ErrorKind.ResourceUnavailable,
            $"{helper} is not installed; rootless networking with -Network {helper} needs it.", helper,
            $"Install the Debian package {Package(helper)} (apt-get install {Package(helper)}), or choose -Network {(helper == RootlessNetworkMode.Pasta ? RootlessNetworkMode.Slirp4netns : RootlessNetworkMode.Pasta)} or private.");

    /// <summary>Why this user cannot open /dev/net/tun (pasta and slirp4netns make their tap device through it); null when it can.</summary>
    public static string? TunProblem(string device = "/dev/net/tun")
    {
        try
        {
            // Opening the node makes no device (that is TUNSETIFF); it is the same permission check the helper meets.
            using var tun = new FileStream(device, FileMode.Open, FileAccess.ReadWrite);
            return null;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return $"{device} cannot be opened by this user ({e.Message})";
        }
    }

    /// <summary>
    /// "1.2.0" from <c>--version</c>; else the owning package's version: Debian's pasta says "unknown version", and it
    /// refuses to run at all under .NET's Process (SIGPIPE stays ignored across exec, which that build takes for a failure).
    /// </summary>
    public static string? Version(string path)
    {
        string? first = Run(path, "--version")?.Split('\n')[0].Trim();
        if (first is { Length: > 0 } && !first.Contains("unknown", StringComparison.OrdinalIgnoreCase)) return first.Split(' ')[^1];
        string? owner = Run("/usr/bin/dpkg-query", "-S", path)?.Split(':', 2)[0].Trim();
        return owner is { Length: > 0 } ? Run("/usr/bin/dpkg-query", "-W", "-f=${Version}", owner)?.Trim() : null;
    }

    private static string? Run(string file, params string[] args)
    {
        if (!File.Exists(file)) return null;
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(5000)) { p.Kill(); return null; }
            _ = stderr.Result;
            return p.ExitCode == 0 ? output : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return null;
        }
    }
}
