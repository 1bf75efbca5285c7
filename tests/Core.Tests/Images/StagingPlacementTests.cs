using System.Diagnostics;
using Containers.Core.Images;

namespace Containers.Core.Tests.Images;

/// <summary>A test that reads ext4 inode flags with lsattr(1): skipped where the temp directory's file system has none (tmpfs).</summary>
public sealed class InodeFlagsFactAttribute : FactAttribute
{
    public InodeFlagsFactAttribute()
    {
        if (InodeFlags.Lsattr(Path.GetTempPath()) is null) Skip = "the temp directory's file system has no inode flags (lsattr fails)";
    }
}

/// <summary>
/// The store's staging directory (tmp/, where every ingest unpacks before its rename into layers/) carries ext4's
/// "top of a directory hierarchy" flag, so each ingest's directory gets a block group of its own; checked from
/// outside with lsattr.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StagingPlacementTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [InodeFlagsFact]
    public void OpenFlagsANewStoresStagingDirectory()
    {
        var store = ImageStore.OpenAt(_tmp.Sub("store"));

        Assert.Contains('T', Flags(store.TmpDir));
        Assert.DoesNotContain('T', Flags(store.LayersDir));
    }

    [InodeFlagsFact]
    public void OpenFlagsTheStagingDirectoryOfAStoreMadeBefore()
    {
        Directory.CreateDirectory(Path.Combine(_tmp.Sub("store"), "tmp"));
        Assert.DoesNotContain('T', Flags(Path.Combine(_tmp.Sub("store"), "tmp")));

        var store = ImageStore.OpenAt(_tmp.Sub("store"));

        Assert.Contains('T', Flags(store.TmpDir));
    }

    private static string Flags(string path) => InodeFlags.Lsattr(path) ?? throw new InvalidOperationException($"lsattr -d {path} failed");
}

/// <summary>Inode flags as lsattr(1) shows them: the oracle, outside the module.</summary>
internal static class InodeFlags
{
    /// <summary>The flags column of `lsattr -d`; null when lsattr fails.</summary>
    internal static string? Lsattr(string path)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("lsattr", ["-d", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? output.Split(' ')[0] : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }
}
