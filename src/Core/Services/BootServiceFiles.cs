namespace Containers.Core.Services;

/// <summary>
/// Installs pscontainers-restart.service into a unit directory and enables it the way <c>systemctl enable</c> does
/// (a link in <c>default.target.wants</c>), which works whether or not systemd runs on this machine now.
/// </summary>
internal static class BootServiceFiles
{
    public const string WantsDirectory = "default.target.wants";

    /// <summary>The system unit directory for root, the user's for everyone else.</summary>
    public static string DefaultDirectory(bool rootless) => rootless
        ? Path.Combine(Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config"), "systemd", "user")
        : "/etc/systemd/system";

    /// <summary>Writes the unit (0644, atomically) and its wants link; returns the unit's path.</summary>
    public static string Install(string directory, string unitText)
    {
        Directory.CreateDirectory(directory);
        string unit = Path.Combine(directory, SystemdUnits.BootServiceName);
        AtomicFile.Write(unit, System.Text.Encoding.UTF8.GetBytes(unitText), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, durable: true);
        string wants = Path.Combine(directory, WantsDirectory);
        Directory.CreateDirectory(wants);
        string link = Path.Combine(wants, SystemdUnits.BootServiceName);
        if (File.Exists(link) || Directory.Exists(link) || new FileInfo(link).LinkTarget is not null) File.Delete(link);
        File.CreateSymbolicLink(link, Path.Combine("..", SystemdUnits.BootServiceName));
        return unit;
    }

    /// <summary>Removes the wants link and the unit; false when neither was there.</summary>
    public static bool Uninstall(string directory)
    {
        bool any = false;
        foreach (string path in new[] { Path.Combine(directory, WantsDirectory, SystemdUnits.BootServiceName), Path.Combine(directory, SystemdUnits.BootServiceName) })
        {
            if (new FileInfo(path) is { Exists: false, LinkTarget: null }) continue;
            File.Delete(path);
            any = true;
        }
        return any;
    }

    /// <summary>Whether systemd is the running init (it then needs a daemon-reload to see a changed unit).</summary>
    public static bool SystemdRuns => Directory.Exists("/run/systemd/system");
}
