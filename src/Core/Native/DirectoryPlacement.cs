using Tmds.Linux;

namespace Containers.Core.Native;

/// <summary>
/// ext4's hint to its Orlov allocator (chattr(1) +T): the subdirectories of a directory flagged as the top of a
/// hierarchy are each placed in a block group with many free inodes, instead of in their parent's group.
/// </summary>
internal static class DirectoryPlacement
{
    private const uint FsIocGetFlags = 0x80086601, FsIocSetFlags = 0x40086602;
    private const int FsTopDirFlag = 0x00020000;

    /// <summary>Sets the flag on a directory (once); false where the file system has no such flag or refuses it. Never throws.</summary>
    public static unsafe bool TrySpreadSubdirectories(string path)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes) fd = LibC.open(p, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0);
        if (fd < 0) return false;
        try
        {
            int flags = 0;
            if (LibC.ioctl(fd, unchecked((int)FsIocGetFlags), &flags) != 0) return false;
            if ((flags & FsTopDirFlag) != 0) return true;
            flags |= FsTopDirFlag;
            return LibC.ioctl(fd, unchecked((int)FsIocSetFlags), &flags) == 0;
        }
        finally { _ = LibC.close(fd); }
    }
}
