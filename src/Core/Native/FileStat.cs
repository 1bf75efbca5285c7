using System.Runtime.InteropServices;

namespace Containers.Core.Native;

/// <summary>One stat(2) for a file's change time and size (cache validation without opening the file).</summary>
internal static unsafe partial class FileStat
{
    // struct stat: st_size at 48 and st_ctim at 104 on both x86_64 and aarch64 (144 and 128 bytes long).
    private const int StatSize = 144, SizeOffset = 48, CtimeSecOffset = 104, CtimeNsecOffset = 112;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int stat(string path, byte* buf);

    /// <summary>False when the file cannot be stat'ed (gone, no access).</summary>
    public static bool TryGet(string path, out long ctimeNs, out long size)
    {
        byte* buf = stackalloc byte[StatSize];
        if (stat(path, buf) != 0) { ctimeNs = size = 0; return false; }
        size = *(long*)(buf + SizeOffset);
        ctimeNs = *(long*)(buf + CtimeSecOffset) * 1_000_000_000 + *(long*)(buf + CtimeNsecOffset);
        return true;
    }
}
