using System.Runtime.InteropServices;

namespace Containers.Core.Native;

/// <summary>flock(2), which Tmds.LibC does not wrap.</summary>
internal static partial class Flock
{
    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int flock(int fd, int operation);
}
