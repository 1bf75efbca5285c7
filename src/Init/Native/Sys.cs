using System.Runtime.InteropServices;

namespace Containers.Init.Native;

/// <summary>
/// The libc and raw syscalls Init uses. All signatures are blittable and libc is bound at link time
/// (DirectPInvoke), so a call needs no marshalling, no lazy symbol lookup and no lock: safe in the
/// cloned child before execve, where other runtime threads do not exist. errno is read with <see cref="Errno"/>.
/// </summary>
internal static unsafe partial class Sys
{
    private const string Libc = "libc";

    // clone flags
    public const ulong CLONE_NEWNS = 0x00020000, CLONE_NEWCGROUP = 0x02000000, CLONE_NEWUTS = 0x04000000, CLONE_NEWIPC = 0x08000000,
        CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000, CLONE_NEWNET = 0x40000000;
    public const int SIGCHLD = 17, SIGKILL = 9, SIGTERM = 15, SIGHUP = 1, SIGINT = 2;

    // open(2)
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100, O_TRUNC = 0x200,
        O_APPEND = 0x400, O_NONBLOCK = 0x800, O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000, O_PATH = 0x200000;
    public const int AT_FDCWD = -100;

    // errno
    public const int EPERM = 1, ENOENT = 2, EINTR = 4, EAGAIN = 11, EACCES = 13, EEXIST = 17, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENOSYS = 38, ENOEXEC = 8, ELOOP = 40, ENAMETOOLONG = 36;

    // mount
    public const int MNT_DETACH = 2;
    public const uint FSOPEN_CLOEXEC = 1, FSMOUNT_CLOEXEC = 1, MOVE_MOUNT_F_EMPTY_PATH = 4;
    public const uint FSCONFIG_SET_FLAG = 0, FSCONFIG_SET_STRING = 1, FSCONFIG_CMD_CREATE = 6;
    // MOVE_MOUNT_T_SYMLINKS: the target's last component followed when a link, as mount(2) does (move_mount does not by default).
    public const uint OPEN_TREE_CLONE = 1, MOVE_MOUNT_T_SYMLINKS = 0x10, MOVE_MOUNT_T_EMPTY_PATH = 0x40, AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000, AT_RECURSIVE = 0x8000;
    public const ulong MOUNT_ATTR_RDONLY = 1, MOUNT_ATTR_NOSUID = 2, MOUNT_ATTR_NODEV = 4, MOUNT_ATTR_NOEXEC = 8, MOUNT_ATTR__ATIME = 0x70,
        MOUNT_ATTR_NOATIME = 0x10, MOUNT_ATTR_NODIRATIME = 0x80;

    // prctl
    public const int PR_SET_PDEATHSIG = 1, PR_SET_KEEPCAPS = 8, PR_SET_SECCOMP = 22, PR_CAPBSET_DROP = 24, PR_SET_NO_NEW_PRIVS = 38,
        PR_CAP_AMBIENT = 47, PR_CAP_AMBIENT_RAISE = 2, PR_CAP_AMBIENT_CLEAR_ALL = 4, SECCOMP_MODE_FILTER = 2;

    // syscall numbers (x86_64)
    private const long SYS_clone = 56, SYS_pivot_root = 155, SYS_capset = 126, SYS_statfs = 137, SYS_setns = 308,
        SYS_open_tree = 428, SYS_move_mount = 429, SYS_fsopen = 430, SYS_fsconfig = 431, SYS_fsmount = 432, SYS_pidfd_open = 434,
        SYS_close_range = 436, SYS_openat2 = 437, SYS_openat = 257, SYS_mkdirat = 258, SYS_readlinkat = 267, SYS_prlimit64 = 302, SYS_getcwd = 79,
        SYS_setgroups = 116, SYS_setresuid = 117, SYS_setresgid = 119, SYS_unshare = 272, SYS_symlinkat = 266, SYS_clone3 = 435, SYS_getdents64 = 217,
        SYS_mount_setattr = 442, SYS_mknodat = 259, SYS_fchownat = 260;

    public const int POLLIN = 1, POLLERR = 8, POLLHUP = 0x10;
    public const int WNOHANG = 1;
    public const int S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFCHR = 0x2000, S_IFBLK = 0x6000, S_IFIFO = 0x1000, S_IFLNK = 0xA000;
    public const uint CLOSE_RANGE_CLOEXEC = 4;
    public const ulong RESOLVE_NO_MAGICLINKS = 2, RESOLVE_IN_ROOT = 0x10;

    [DllImport(Libc), SuppressGCTransition] private static extern int* __errno_location();
    public static int Errno => *__errno_location();

    [DllImport(Libc), SuppressGCTransition] private static extern long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    /// <summary>renameat2(RENAME_EXCHANGE) of two paths (Linux 3.15+; EINVAL on a file system without it).</summary>
    public static int RenameExchange(byte* a, byte* b) => (int)syscall(316 /* renameat2 */, AT_FDCWD, (long)a, AT_FDCWD, (long)b, 2 /* RENAME_EXCHANGE */, 0);

    /// <summary>fork-like clone(2): the child continues here with a copy of the stack, returning 0.</summary>
    public static int Clone(ulong flags) => (int)syscall(SYS_clone, (long)flags, 0, 0, 0, 0, 0);

    /// <summary>fork-like clone3(2) (no stack given: the child continues here too) that creates the child in the cgroup2
    /// directory <paramref name="cgroupFd"/> (CLONE_INTO_CGROUP, Linux 5.7+).</summary>
    public static int CloneIntoCgroup(ulong flags, int exitSignal, int cgroupFd)
    {
        const ulong CLONE_INTO_CGROUP = 0x200000000;
        ulong* args = stackalloc ulong[11]; // struct clone_args up to .cgroup (CLONE_ARGS_SIZE_VER2)
        for (int i = 0; i < 11; i++) args[i] = 0;
        args[0] = flags | CLONE_INTO_CGROUP;
        args[4] = (ulong)exitSignal;
        args[10] = (ulong)cgroupFd;
        return (int)syscall(SYS_clone3, (long)args, 11 * sizeof(ulong), 0, 0, 0, 0);
    }
    public static nint Getdents64(int fd, byte* buf, int size) => (nint)syscall(SYS_getdents64, fd, (long)buf, size, 0, 0, 0);
    public static int PivotRoot(byte* newRoot, byte* putOld) => (int)syscall(SYS_pivot_root, (long)newRoot, (long)putOld, 0, 0, 0, 0);
    public static int Capset(void* header, void* data) => (int)syscall(SYS_capset, (long)header, (long)data, 0, 0, 0, 0);
    public static int Statfs(byte* path, byte* buf120) => (int)syscall(SYS_statfs, (long)path, (long)buf120, 0, 0, 0, 0);
    public static int Setns(int fd, int nstype) => (int)syscall(SYS_setns, fd, nstype, 0, 0, 0, 0);
    public static int Fsopen(byte* fsName, uint flags) => (int)syscall(SYS_fsopen, (long)fsName, flags, 0, 0, 0, 0);
    public static int Fsconfig(int fd, uint cmd, byte* key, byte* value, int aux) => (int)syscall(SYS_fsconfig, fd, cmd, (long)key, (long)value, aux, 0);
    public static int Fsmount(int fd, uint flags, uint attrFlags) => (int)syscall(SYS_fsmount, fd, flags, attrFlags, 0, 0, 0);
    public static int MoveMount(int fromDfd, byte* fromPath, int toDfd, byte* toPath, uint flags) =>
        (int)syscall(SYS_move_mount, fromDfd, (long)fromPath, toDfd, (long)toPath, flags, 0);
    /// <summary>open_tree(2): with <see cref="OPEN_TREE_CLONE"/> a detached copy of the mount at path (a bind not yet attached).</summary>
    public static int OpenTree(int dirfd, byte* path, uint flags) => (int)syscall(SYS_open_tree, dirfd, (long)path, flags, 0, 0, 0);
    /// <summary>mount_setattr(2) (Linux 5.12+): sets and clears MOUNT_ATTR_* flags and the propagation of the mount at dirfd/path
    /// (with AT_RECURSIVE of every mount below it too), leaving every other flag as it is.</summary>
    public static int MountSetattr(int dirfd, byte* path, uint flags, ulong set, ulong clear, ulong propagation)
    {
        ulong* attr = stackalloc ulong[4]; // struct mount_attr { attr_set, attr_clr, propagation, userns_fd }
        attr[0] = set; attr[1] = clear; attr[2] = propagation; attr[3] = 0;
        return (int)syscall(SYS_mount_setattr, dirfd, (long)path, flags, (long)attr, 32, 0);
    }
    public static int Mknodat(int dirfd, byte* name, int mode, ulong dev) => (int)syscall(SYS_mknodat, dirfd, (long)name, mode, (long)dev, 0, 0);
    public static int Fchownat(int dirfd, byte* name, uint uid, uint gid, uint flags) => (int)syscall(SYS_fchownat, dirfd, (long)name, uid, gid, flags, 0);
    /// <summary>
    /// openat2(2) with only flags and resolve set (mode 0); returns the fd, or -1 and errno. With RESOLVE_IN_ROOT a walk
    /// through ".." (an image's relative link) fails with EAGAIN when any mount or rename anywhere on the host raced with
    /// it (the kernel checks the global mount and rename sequence counts): the kernel's advice is to retry, done here.
    /// </summary>
    public static int Openat2(int dirfd, byte* path, int flags, ulong resolve)
    {
        ulong* how = stackalloc ulong[3]; // struct open_how { flags, mode, resolve }
        how[0] = (ulong)(uint)flags; how[1] = 0; how[2] = resolve;
        int fd, tries = 0;
        while ((fd = (int)syscall(SYS_openat2, dirfd, (long)path, (long)how, 24, 0, 0)) < 0 && Errno == EAGAIN && ++tries < 1000) { }
        return fd;
    }
    public static int Openat(int dirfd, byte* name, int flags, int mode) => (int)syscall(SYS_openat, dirfd, (long)name, flags, mode, 0, 0);
    public static int Mkdirat(int dirfd, byte* name, int mode) => (int)syscall(SYS_mkdirat, dirfd, (long)name, mode, 0, 0, 0);
    public static int Readlinkat(int dirfd, byte* name, byte* buf, int size) => (int)syscall(SYS_readlinkat, dirfd, (long)name, (long)buf, size, 0, 0);
    /// <summary>A raw system call with up to four arguments (no libc wrapper, no lock: safe in the cloned child).</summary>
    public static long Syscall(long number, long a1, long a2, long a3, long a4) => syscall(number, a1, a2, a3, a4, 0, 0);
    public static int Unshare(ulong flags) => (int)syscall(SYS_unshare, (long)flags, 0, 0, 0, 0, 0);
    public static int Symlinkat(byte* target, int dirfd, byte* linkPath) => (int)syscall(SYS_symlinkat, (long)target, dirfd, (long)linkPath, 0, 0, 0);
    public static int PidfdOpen(int pid) => (int)syscall(SYS_pidfd_open, pid, 0, 0, 0, 0, 0);
    public static int CloseRange(uint first, uint last, uint flags) => (int)syscall(SYS_close_range, first, last, flags, 0, 0, 0);
    /// <summary>The kernel's getcwd: the length written (with the NUL), or -1. A directory the process's root cannot reach
    /// comes back as a path that does not start with '/' ("(unreachable)/..."), where glibc's wrapper would hide it.</summary>
    public static int Getcwd(byte* buf, nint size) => (int)syscall(SYS_getcwd, (long)buf, size, 0, 0, 0, 0);
    public static int Prlimit(int resource, ulong soft, ulong hard)
    {
        ulong* lim = stackalloc ulong[2];
        lim[0] = soft; lim[1] = hard;
        return (int)syscall(SYS_prlimit64, 0, resource, (long)lim, 0, 0, 0);
    }

    [DllImport(Libc), SuppressGCTransition] public static extern int mount(byte* source, byte* target, byte* fstype, ulong flags, byte* data);
    [DllImport(Libc), SuppressGCTransition] public static extern int umount2(byte* target, int flags);
    [DllImport(Libc), SuppressGCTransition] public static extern int open(byte* path, int flags, int mode);
    [DllImport(Libc), SuppressGCTransition] public static extern int close(int fd);
    [DllImport(Libc)] public static extern nint read(int fd, byte* buf, nint count);
    /// <summary>read(2) without the GC transition, for the cloned/forked child only: a child created while another
    /// thread had a GC pending would otherwise block forever on the way back from the call.</summary>
    [DllImport(Libc, EntryPoint = "read"), SuppressGCTransition] public static extern nint ReadNoGc(int fd, byte* buf, nint count);
    /// <summary>write(2) without the GC transition, for the child only.</summary>
    [DllImport(Libc, EntryPoint = "write"), SuppressGCTransition] public static extern nint WriteNoGc(int fd, byte* buf, nint count);
    [DllImport(Libc)] public static extern nint write(int fd, byte* buf, nint count);
    [DllImport(Libc), SuppressGCTransition] public static extern int pipe2(int* fds, int flags);
    [DllImport(Libc), SuppressGCTransition] public static extern int dup2(int oldfd, int newfd);
    [DllImport(Libc), SuppressGCTransition] public static extern int dup3(int oldfd, int newfd, int flags);
    [DllImport(Libc), SuppressGCTransition] public static extern int mkdir(byte* path, int mode);
    [DllImport(Libc), SuppressGCTransition] public static extern int mknod(byte* path, int mode, ulong dev);
    [DllImport(Libc), SuppressGCTransition] public static extern int symlink(byte* target, byte* linkpath);
    [DllImport(Libc), SuppressGCTransition] public static extern int chdir(byte* path);
    [DllImport(Libc), SuppressGCTransition] public static extern int fchdir(int fd);
    [DllImport(Libc), SuppressGCTransition] public static extern int chmod(byte* path, int mode);
    [DllImport(Libc), SuppressGCTransition] public static extern int chown(byte* path, uint uid, uint gid);
    [DllImport(Libc), SuppressGCTransition] public static extern int access(byte* path, int mode);
    [DllImport(Libc), SuppressGCTransition] public static extern int stat(byte* path, byte* buf144);
    [DllImport(Libc), SuppressGCTransition] public static extern int lstat(byte* path, byte* buf144);
    [DllImport(Libc), SuppressGCTransition] public static extern int sethostname(byte* name, nint len);
    [DllImport(Libc), SuppressGCTransition] public static extern int prctl(int option, ulong a2, ulong a3, ulong a4, ulong a5);
    // setresuid/setresgid/setgroups are raw system calls, never glibc's wrappers: in a process glibc believes
    // multithreaded, the wrapper broadcasts the change to every thread it knows (__nptl_setxid): it takes the
    // stack-list lock and waits on a futex for each thread that has not started running yet. In a child cloned
    // by a raw clone(2) that list is a stale copy of the parent's: a lock another thread held at the moment of
    // clone, or a thread the scheduler had not started yet (the runtime's finalizer thread on a loaded host),
    // made the child wait forever before execve (about 1 start in 100 under load). The kernel's calls change
    // only the calling thread, which in the child is the whole process.
    public static int setresuid(uint r, uint e, uint s) => (int)syscall(SYS_setresuid, r, e, s, 0, 0, 0);
    public static int setresgid(uint r, uint e, uint s) => (int)syscall(SYS_setresgid, r, e, s, 0, 0, 0);
    public static int setgroups(nint size, uint* list) => (int)syscall(SYS_setgroups, size, (long)list, 0, 0, 0, 0);
    [DllImport(Libc), SuppressGCTransition] public static extern int setsid();
    [DllImport(Libc), SuppressGCTransition] public static extern int getsid(int pid);
    [DllImport(Libc), SuppressGCTransition] public static extern int getpid();
    [DllImport(Libc), SuppressGCTransition] public static extern uint getuid();
    [DllImport(Libc), SuppressGCTransition] public static extern uint getgid();
    [DllImport(Libc), SuppressGCTransition] public static extern uint geteuid();
    [DllImport(Libc), SuppressGCTransition] public static extern int umask(int mask);
    [DllImport(Libc), SuppressGCTransition] public static extern int execve(byte* path, byte** argv, byte** envp);
    [DllImport(Libc), SuppressGCTransition, System.Diagnostics.CodeAnalysis.DoesNotReturn] public static extern void _exit(int status);
    [DllImport(Libc), SuppressGCTransition] public static extern int kill(int pid, int sig);
    [DllImport(Libc)] public static extern int waitpid(int pid, int* status, int options);
    [DllImport(Libc)] public static extern int poll(PollFd* fds, ulong nfds, int timeout);
    [DllImport(Libc)] public static extern int fsync(int fd);
    [DllImport(Libc), SuppressGCTransition] public static extern int rename(byte* from, byte* to);
    [DllImport(Libc), SuppressGCTransition] public static extern int unlink(byte* path);
    [DllImport(Libc), SuppressGCTransition] public static extern int rmdir(byte* path);
    [DllImport(Libc), SuppressGCTransition] public static extern int ioctl(int fd, ulong request, ulong arg);
    [DllImport(Libc), SuppressGCTransition] public static extern int fcntl(int fd, int cmd, int arg);
    [DllImport(Libc), SuppressGCTransition] public static extern int fork();

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary>st_mode of a stat buffer (x86_64 struct stat).</summary>
    public static int StatMode(byte* buf144) => *(int*)(buf144 + 24);
    /// <summary>st_rdev of a stat buffer.</summary>
    public static ulong StatRdev(byte* buf144) => *(ulong*)(buf144 + 40);
    /// <summary>f_flags (ST_*) of a statfs buffer.</summary>
    public static ulong StatfsFlags(byte* buf120) => *(ulong*)(buf120 + 80);

    /// <summary>Decodes a wait status: exit code, or 128+signal when killed.</summary>
    public static (int ExitCode, int? Signal) DecodeWaitStatus(int status)
    {
        int sig = status & 0x7f;
        if (sig == 0) return ((status >> 8) & 0xff, null);
        return (128 + sig, sig);
    }

    public static string StrError(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}

internal static unsafe partial class Sys
{
    [DllImport(Libc), SuppressGCTransition] public static extern int sigprocmask(int how, byte* set, byte* old);
    [DllImport(Libc), SuppressGCTransition] public static extern nint signal(int sig, nint handler);
    [DllImport(Libc), SuppressGCTransition] public static extern int socket(int domain, int type, int protocol);
    [DllImport(Libc)] public static extern int connect(int fd, byte* addr, int addrlen);
    [DllImport(Libc), SuppressGCTransition] public static extern int shutdown(int fd, int how);
    [DllImport(Libc)] public static extern int madvise(void* addr, nuint length, int advice);
    [DllImport(Libc)] public static extern nint pread(int fd, void* buf, nint count, long offset);
    [DllImport(Libc), SuppressGCTransition] public static extern int socketpair(int domain, int type, int protocol, int* sv);
    [DllImport(Libc), SuppressGCTransition] public static extern nint sendmsg(int fd, byte* msg, int flags);
    [DllImport(Libc)] public static extern nint recvmsg(int fd, byte* msg, int flags);
    [DllImport(Libc), SuppressGCTransition] public static extern int fchown(int fd, uint uid, uint gid);
    [DllImport(Libc), SuppressGCTransition] public static extern int tcgetattr(int fd, byte* termios60);
    [DllImport(Libc), SuppressGCTransition] public static extern int tcsetattr(int fd, int actions, byte* termios60);
    [DllImport(Libc), SuppressGCTransition] public static extern void cfmakeraw(byte* termios60);
    [DllImport(Libc), SuppressGCTransition] public static extern int isatty(int fd);

    public const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000, MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
    public const ulong TIOCSCTTY = 0x540E, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, TIOCGPTPEER = 0x5441, TIOCSPTLCK = 0x40045431;
    public const int EIO = 5;

    /// <summary>Sends one fd over a unix socket (SCM_RIGHTS) with one byte of data. No allocation: safe in the child.</summary>
    public static bool SendFd(int socket, int fd)
    {
        // struct msghdr (56) + struct iovec (16) + one cmsg of one int (CMSG_SPACE(4) = 24), x86_64.
        byte* b = stackalloc byte[96];
        for (int i = 0; i < 96; i++) b[i] = 0;
        byte data = (byte)'T';
        *(byte**)(b + 16) = b + 56;       // msg_iov
        *(ulong*)(b + 24) = 1;            // msg_iovlen
        *(byte**)(b + 32) = b + 72;       // msg_control
        *(ulong*)(b + 40) = 24;           // msg_controllen
        *(byte**)(b + 56) = &data;        // iov_base
        *(ulong*)(b + 64) = 1;            // iov_len
        *(ulong*)(b + 72) = 20;           // cmsg_len = CMSG_LEN(sizeof(int))
        *(int*)(b + 80) = 1;              // SOL_SOCKET
        *(int*)(b + 84) = 1;              // SCM_RIGHTS
        *(int*)(b + 88) = fd;
        nint n;
        while ((n = sendmsg(socket, b, MSG_NOSIGNAL)) < 0 && Errno == EINTR) { }
        return n == 1;
    }

    /// <summary>Receives one fd sent by <see cref="SendFd"/> (close-on-exec); -1 at end-of-file or on error.</summary>
    public static int ReceiveFd(int socket)
    {
        byte* b = stackalloc byte[96];
        for (int i = 0; i < 96; i++) b[i] = 0;
        byte data = 0;
        *(byte**)(b + 16) = b + 56;
        *(ulong*)(b + 24) = 1;
        *(byte**)(b + 32) = b + 72;
        *(ulong*)(b + 40) = 24;
        *(byte**)(b + 56) = &data;
        *(ulong*)(b + 64) = 1;
        nint n;
        while ((n = recvmsg(socket, b, MSG_CMSG_CLOEXEC)) < 0 && Errno == EINTR) { }
        if (n != 1 || *(ulong*)(b + 40) < 20 || *(int*)(b + 80) != 1 || *(int*)(b + 84) != 1) return -1;
        return *(int*)(b + 88);
    }
}
