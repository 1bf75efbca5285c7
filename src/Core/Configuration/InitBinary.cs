namespace Containers.Core.Configuration;

/// <summary>Finds the NativeAOT init/monitor executable that ships beside the module's assemblies.</summary>
internal static class InitBinary
{
    public const string FileName = "pscontainers-init";
    public const string OverrideVariable = "PSCONTAINERS_INIT";

    /// <summary>The init's path; it may not exist (the caller reports that).</summary>
    public static string Path =>
        Environment.GetEnvironmentVariable(OverrideVariable) is { Length: > 0 } over
            ? over
            : Executable(System.IO.Path.Combine(ModuleDirectory, FileName));

    private static int s_checked;

    /// <summary>
    /// A module installed from its .nupkg (Install-PSResource) arrives without execute bits: NuGet's zip keeps
    /// no Unix modes. The module's own copy gets them back, once per process, where it is readable
    /// (and only by its owner, who could do the same with chmod).
    /// </summary>
    private static string Executable(string path)
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref s_checked, 1) == 1) return path;
        try
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & UnixFileMode.UserExecute) == 0 && (mode & UnixFileMode.UserRead) != 0)
            {
                var exec = UnixFileMode.UserExecute
                    | ((mode & UnixFileMode.GroupRead) != 0 ? UnixFileMode.GroupExecute : 0)
                    | ((mode & UnixFileMode.OtherRead) != 0 ? UnixFileMode.OtherExecute : 0);
                File.SetUnixFileMode(path, mode | exec);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // not ours or not there: the caller reports it
        return path;
    }

    /// <summary>The folder holding Containers.Core.dll (the module folder once built).</summary>
    public static string ModuleDirectory =>
        System.IO.Path.GetDirectoryName(typeof(InitBinary).Assembly.Location) is { Length: > 0 } dir
            ? dir
            : AppContext.BaseDirectory;
}
