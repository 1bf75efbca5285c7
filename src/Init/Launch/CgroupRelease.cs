using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// The monitor's last act once the container has exited and its exit (with the OOM count) is recorded: the container's
/// cgroup directories go, so an exited container pins no kernel memory. Start creates them again, with the limits.
/// </summary>
internal static class CgroupRelease
{
    private const int EBUSY = 16;

    /// <summary>rmdir of each directory holding one of <paramref name="procsFiles"/>, in order, waiting a little for the
    /// processes the end of the pid namespace killed to leave them. A cgroup still busy after that is left for Core to
    /// remove, and so are the ones after it: Core takes the last one gone to mean that all are (Runtime/CgroupLifetime.cs).</summary>
    public static unsafe void Run(IReadOnlyList<string> procsFiles)
    {
        foreach (string procs in procsFiles)
        {
            byte* dir = NativeString.Of(Path.GetDirectoryName(procs));
            int attempt = 0;
            while (rmdir(dir) != 0 && Errno == EBUSY)
            {
                if (++attempt == 250) return;
                Thread.Sleep(20);
            }
        }
    }
}
