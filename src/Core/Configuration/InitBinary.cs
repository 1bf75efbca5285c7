namespace Containers.Core.Configuration;

/// <summary>Finds the NativeAOT init/monitor executable that ships beside the module's assemblies.</summary>
public static class InitBinary
{
    public const string FileName = "pscontainers-init";
    public const string OverrideVariable = "PSCONTAINERS_INIT";

    /// <summary>The init's path; it may not exist (the caller reports that).</summary>
    public static string Path =>
        Environment.GetEnvironmentVariable(OverrideVariable) is { Length: > 0 } over
            ? over
            : System.IO.Path.Combine(ModuleDirectory, FileName);

    /// <summary>The folder holding Containers.Core.dll (the module folder once built).</summary>
    public static string ModuleDirectory =>
        System.IO.Path.GetDirectoryName(typeof(InitBinary).Assembly.Location) is { Length: > 0 } dir
            ? dir
            : AppContext.BaseDirectory;
}
