using Containers.Core.Errors;
using Microsoft.Win32.SafeHandles;
using static Containers.Core.Native.FileSystemCalls;

namespace Containers.Core.Runtime;

/// <summary>
/// Reads a small file of an image layer or a live container from the host without trusting it. The path is resolved
/// beneath the root (openat2 RESOLVE_IN_ROOT: a link to /etc/shadow means the root's own /etc/shadow, never the host's),
/// only a regular file is opened for reading (a FIFO would hang the caller, a device could be endless) and at most
/// <see cref="MaxBytes"/> are read.
/// </summary>
internal static class ContainedFile
{
    public const int MaxBytes = 1 << 20;

    /// <summary>The content of <paramref name="relative"/> under <paramref name="root"/>; null when it does not exist there.</summary>
    /// <param name="owner">Who the root belongs to, for messages ("image busybox", "container web").</param>
    /// <exception cref="ContainersException">ContainerFileNotRegular or ContainerFileTooLarge.</exception>
    /// <exception cref="Native.NativeCallException">The root itself cannot be opened.</exception>
    public static byte[]? Read(string root, string relative, string owner, int maxBytes = MaxBytes)
    {
        string shown = "/" + relative.TrimStart('/');
        using var rootFd = new SafeFileHandle(OpenAt(AT_FDCWD, root, O_PATH | O_DIRECTORY), ownsHandle: true);
        int fd;
        try { fd = OpenBeneath((int)rootFd.DangerousGetHandle(), relative, O_PATH, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); }
        catch (Native.NativeCallException e) when (e.Errno is ENOENT_ or ENOTDIR_) { return null; }
        catch (Native.NativeCallException e)
        {
            throw new ContainersException("ContainerFileUnreadable", ErrorKind.InvalidData,
                $"{shown} of {owner} cannot be resolved inside it ({e.Message}); it was not read.", owner, Replace(shown), e);
        }
        using var inode = new SafeFileHandle(fd, ownsHandle: true);
        var st = StatFd(fd);
        if (!st.IsRegular)
            throw new ContainersException("ContainerFileNotRegular", ErrorKind.InvalidData,
                $"{shown} of {owner} is {Kind(st.Type)}, not a regular file; it was not read.", owner, Replace(shown));
        if (st.Size > maxBytes) throw TooLarge(shown, owner, maxBytes);
        // Open the inode already resolved (no second walk of the path); O_NONBLOCK and O_NOCTTY in case it changed type.
        using var file = new SafeFileHandle(OpenAt(AT_FDCWD, "/proc/self/fd/" + fd, O_RDONLY | O_NONBLOCK | O_NOCTTY), ownsHandle: true);
        var buffer = new byte[Math.Min(st.Size, maxBytes) + 1];
        int total = 0, n;
        while (total < buffer.Length && (n = RandomAccess.Read(file, buffer.AsSpan(total), total)) > 0) total += n;
        if (total > maxBytes) throw TooLarge(shown, owner, maxBytes);
        return buffer[..total];
    }

    /// <summary>Whether <paramref name="root"/> can be opened as a directory (a container's /proc/pid/root while it runs).</summary>
    public static bool CanOpen(string root)
    {
        try { Close(OpenAt(AT_FDCWD, root, O_PATH | O_DIRECTORY)); return true; }
        catch (IOException) { return false; }
    }

    private static ContainersException TooLarge(string shown, string owner, int maxBytes) =>
        new("ContainerFileTooLarge", ErrorKind.LimitExceeded,
            $"{shown} of {owner} is larger than {maxBytes / 1024} KiB; it was not read.", owner, Replace(shown));

    private static string Replace(string shown) => $"Replace {shown} in the image or container with a regular file of the usual size.";

    private static string Kind(uint type) => type switch
    {
        S_IFDIR => "a directory",
        S_IFIFO => "a FIFO",
        S_IFCHR => "a character device",
        S_IFBLK => "a block device",
        S_IFLNK => "a symbolic link",
        0xC000 => "a socket",
        _ => "not a regular file",
    };
}
