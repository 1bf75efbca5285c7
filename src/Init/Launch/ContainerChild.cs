using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// The container's init between clone and execve. It runs in a copy of the process that has a single
/// thread, so it uses only what the parent prepared in <see cref="ChildSpec"/> and raw syscalls:
/// no allocation, no exceptions, no static state. Every failure is reported on the error pipe as
/// (step, errno, index) and ends the child with 127 (command not found), 126 (not executable) or 1.
/// </summary>
internal static unsafe class ContainerChild
{
    private const ulong MS_RDONLY = 1, MS_REMOUNT = 32, MS_BIND = 4096, MS_REC = 16384, MS_PRIVATE = 1 << 18;

    public static void Run(ChildSpec s)
    {
        ResetSignals(s);
        // Into its v1 cgroups by itself, first of all: no lock shared with the whole host, and nothing it does from here
        // on is charged to the monitor's cgroups.
        int notJoined = CgroupJoin.JoinSelf(s.CgroupTaskFds, s.CgroupTaskIndexes);
        if (notJoined >= 0) Fail(s, ChildStep.Cgroup, notJoined);

        if (s.StdinFd >= 0 && dup2(s.StdinFd, 0) < 0) Fail(s, ChildStep.Stdio, 0);
        if (s.StdoutFd >= 0 && dup2(s.StdoutFd, 1) < 0) Fail(s, ChildStep.Stdio, 1);
        if (s.StderrFd >= 0 && dup2(s.StderrFd, 2) < 0) Fail(s, ChildStep.Stdio, 2);
        CloseRange(3, uint.MaxValue, CLOSE_RANGE_CLOEXEC);

        if (s.JoinAt < 0) AwaitParent(s);
        umask(0);
        if (s.NetNsFd >= 0 && Setns(s.NetNsFd, (int)CLONE_NEWNET) != 0) Fail(s, ChildStep.NetworkNamespace, 0);
        if (s.IpcNsFd >= 0 && Setns(s.IpcNsFd, (int)CLONE_NEWIPC) != 0) Fail(s, ChildStep.PodNamespace, 0);
        if (s.UtsNsFd >= 0 && Setns(s.UtsNsFd, (int)CLONE_NEWUTS) != 0) Fail(s, ChildStep.PodNamespace, 1);
        if (s.LoopbackUp && !Loopback.Up(out int loopbackStep)) Fail(s, ChildStep.Loopback, loopbackStep);

        if (mount(null, s.Slash, null, MS_REC | MS_PRIVATE, null) != 0) Fail(s, ChildStep.Propagation, 0);
        ChildMounts.MountRootfs(s);
        // Every mount destination, device and link is resolved beneath this fd (the mounted rootfs), never by a host path.
        int root = open(s.Rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (root < 0) Fail(s, ChildStep.Rootfs, 2);
        int holder = -1;
        for (int i = 0; i < s.Mounts.Length; i++)
        {
            if (i == s.JoinAt) AwaitParent(s);
            ChildMounts.Mount(s, i, root, ref holder);
        }
        if (holder >= 0) close(holder);
        if (s.JoinAt == s.Mounts.Length) AwaitParent(s);
        ChildMounts.Devices(s, root);
        close(root);

        // pivot_root into the rootfs and detach the old root.
        if (chdir(s.Rootfs) != 0 || PivotRoot(s.Dot, s.Dot) != 0 || umount2(s.Dot, MNT_DETACH) != 0 || chdir(s.Slash) != 0)
            Fail(s, ChildStep.PivotRoot, 0);
        if (s.RootPropagation != 0 && mount(null, s.Slash, null, s.RootPropagation, null) != 0) Fail(s, ChildStep.Propagation, 1);

        // Sysctls first: /proc/sys is one of the read-only paths (runc's order too).
        for (int i = 0; i < s.Sysctls.Length; i++)
            if (!WriteAll(s.Sysctls[i].Path, s.Sysctls[i].Value, s.Sysctls[i].Length)) Fail(s, ChildStep.Sysctl, i);
        byte* st = stackalloc byte[144];
        int mask = -1;
        for (int i = 0; i < s.MaskedPaths.Length; i++)
        {
            byte* p = s.MaskedPaths[i];
            if (stat(p, st) != 0) continue; // absent: nothing to mask
            int err = (StatMode(st) & S_IFMT) == S_IFDIR ? MaskDirectory(s, p, ref mask) : mount(s.DevNull, p, null, MS_BIND, null) == 0 ? 0 : Errno;
            if (err != 0) Fail(s, ChildStep.MaskedPath, i, err);
        }
        if (mask >= 0) close(mask);
        for (int i = 0; i < s.ReadonlyPaths.Length; i++) ReadonlyPath(s, i);
        InRoot.MakeWorkdir(s);
        if (s.RootReadonly && mount(null, s.Slash, null, MS_BIND | MS_REMOUNT | MS_RDONLY | ChildMounts.LockedFlags(s.Slash), null) != 0)
            Fail(s, ChildStep.RootReadonly, 0);
        if (s.Hostname != null && sethostname(s.Hostname, s.HostnameLength) != 0) Fail(s, ChildStep.Hostname, 0);
        if (s.InitReaper) Reaper.Run(s);
        if (s.ConsoleSocket >= 0) OpenTerminal(s, true);

        BecomeProcess(s);
    }

    /// <summary>
    /// Waits for the parent: id maps written (and a cgroup2 directory clone3 refused joined). Nothing the container's command could use
    /// (devices, identity, exec) comes before this; only mounts that do not depend on the cgroups (see
    /// <see cref="ChildSpec.JoinAt"/>).
    /// </summary>
    private static void AwaitParent(ChildSpec s)
    {
        byte go = 0;
        nint r;
        while ((r = ReadNoGc(s.SyncFd, &go, 1)) < 0 && Errno == EINTR) { }
        if (r != 1 || go != 1) _exit(1); // the parent gave up (it reports why)
        if (s.UserNamespace)
        {
            // Become root of the new namespace when 0 is mapped, so created files belong to it.
            setresgid(0, 0, 0);
            setresuid(0, 0, 0);
        }
        // Now that we are in the container's cgroups, they become the root of our cgroup namespace
        // (/proc/self/cgroup shows "/"); a namespace made at clone would have kept the caller's cgroups as its root.
        if (s.UnshareCgroup && Unshare(CLONE_NEWCGROUP) != 0) Fail(s, ChildStep.CgroupNamespace, 0);
    }

    /// <summary>
    /// Opens a pseudo-terminal pair in the devpts of the current mount namespace (the container's /dev/ptmx, so the
    /// slave is a /dev/pts path inside it), sends the master to the monitor over <see cref="ChildSpec.ConsoleSocket"/>,
    /// and, with <paramref name="attach"/>, starts a new session with the slave as its controlling terminal on fds 0-2
    /// (as crun does with --console-socket). Without it the slave fd is returned (exec attaches it in the final process).
    /// </summary>
    public static int OpenTerminal(ChildSpec s, bool attach)
    {
        int master = open(s.Ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
        if (master < 0 && s.PtsPtmx != null) master = open(s.PtsPtmx, O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
        if (master < 0) Fail(s, ChildStep.Terminal, 0);
        int unlock = 0;
        if (ioctl(master, TIOCSPTLCK, (ulong)&unlock) != 0) Fail(s, ChildStep.Terminal, 1);
        // The caller's size when our stdin is its terminal, set before the process can ask for it (the relay only
        // follows later changes); else a usable 24 rows, 80 columns.
        ushort* size = stackalloc ushort[4];
        if (ioctl(0, TIOCGWINSZ, (ulong)size) != 0 || size[0] == 0 || size[1] == 0)
        {
            size[0] = 24; size[1] = 80; size[2] = 0; size[3] = 0;
        }
        ioctl(master, TIOCSWINSZ, (ulong)size);
        int slave = ioctl(master, TIOCGPTPEER, (ulong)(O_RDWR | O_NOCTTY));
        if (slave < 0) Fail(s, ChildStep.Terminal, 2);
        // The process's user owns its terminal (it may not be root in the container).
        fchown(slave, s.Uid, uint.MaxValue);
        if (!SendFd(s.ConsoleSocket, master)) Fail(s, ChildStep.Terminal, 3);
        close(master);
        close(s.ConsoleSocket);
        if (attach) AttachTerminal(s, slave);
        return slave;
    }

    /// <summary>New session, <paramref name="slave"/> as its controlling terminal and as fds 0, 1 and 2.</summary>
    public static void AttachTerminal(ChildSpec s, int slave)
    {
        if (setsid() < 0) Fail(s, ChildStep.Terminal, 4);
        if (ioctl(slave, TIOCSCTTY, 0) != 0) Fail(s, ChildStep.Terminal, 5);
        if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0) Fail(s, ChildStep.Terminal, 6);
        if (slave > 2) close(slave);
    }

    /// <summary>
    /// The last steps, shared with exec: descriptors, session, rlimits, seccomp (early when no_new_privs is off, as it then
    /// needs CAP_SYS_ADMIN), bounding set, groups, gid, uid, capabilities, umask, cwd (checked inside the root), command
    /// lookup, no_new_privs, seccomp, execve.
    /// </summary>
    public static void BecomeProcess(ChildSpec s)
    {
        ResetSignals(s);
        CloseDescriptors(s);
        // A session of its own, so no controlling terminal (unless it was just given its own pty, whose session it leads):
        // a process in the caller's session could push keystrokes into the caller's shell with TIOCSTI.
        if (setsid() < 0 && getsid(0) != getpid()) Fail(s, ChildStep.Session, 0);
        byte* st = stackalloc byte[144];
        for (int i = 0; i < s.Rlimits.Length; i++)
            if (Prlimit(s.Rlimits[i].Resource, s.Rlimits[i].Soft, s.Rlimits[i].Hard) != 0) Fail(s, ChildStep.Rlimit, i);
        if (s.OomScoreAdj != null && !WriteAll(s.OomScoreAdjPath, s.OomScoreAdj, s.OomScoreAdjLength)) Fail(s, ChildStep.OomScoreAdj, 0);
        if (!s.NoNewPrivileges && s.SeccompProgram != null) InstallSeccomp(s);

        // Identity and capabilities.
        if (s.SetCapabilities)
            for (int cap = 0; cap <= s.LastCap; cap++)
                if ((s.Bounding & (1UL << cap)) == 0 && prctl(PR_CAPBSET_DROP, (ulong)cap, 0, 0, 0) != 0 && Errno != EINVAL)
                    Fail(s, ChildStep.Bounding, cap);
        prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
        if (s.SetgroupsAllowed)
        {
            fixed (uint* g = s.Groups)
                if (setgroups(s.Groups.Length, g) != 0) Fail(s, ChildStep.Groups, 0);
        }
        if (setresgid(s.Gid, s.Gid, s.Gid) != 0) Fail(s, ChildStep.SetGid, (int)s.Gid);
        if (setresuid(s.Uid, s.Uid, s.Uid) != 0) Fail(s, ChildStep.SetUid, (int)s.Uid);
        if (s.SetCapabilities)
        {
            uint* header = stackalloc uint[2];
            header[0] = 0x20080522; // _LINUX_CAPABILITY_VERSION_3
            header[1] = 0;
            uint* data = stackalloc uint[6];
            data[0] = (uint)s.Effective; data[1] = (uint)s.Permitted; data[2] = (uint)s.Inheritable;
            data[3] = (uint)(s.Effective >> 32); data[4] = (uint)(s.Permitted >> 32); data[5] = (uint)(s.Inheritable >> 32);
            if (Capset(header, data) != 0) Fail(s, ChildStep.Capabilities, 0);
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
            for (int cap = 0; cap <= s.LastCap; cap++)
                if ((s.Ambient & (1UL << cap)) != 0 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (ulong)cap, 0, 0) != 0)
                    Fail(s, ChildStep.Ambient, cap);
        }
        umask(s.Umask);
        if (chdir(s.Cwd) != 0) Fail(s, ChildStep.Cwd, 0);
        CheckCwdInsideRoot(s);

        // Find the command before the filter is in place (it may deny what lookup needs).
        byte* path = null;
        int notExecutable = -1;
        for (int i = 0; i < s.Candidates.Length && path == null; i++)
        {
            byte* c = s.Candidates[i];
            if (stat(c, st) != 0 || (StatMode(st) & S_IFMT) == S_IFDIR) continue;
            if (access(c, 1 /* X_OK */) == 0) path = c;
            else if (notExecutable < 0) notExecutable = i;
        }
        if (path == null && !s.Pause)
        {
            if (notExecutable >= 0) Fail(s, ChildStep.NotExecutable, notExecutable, EACCES);
            Fail(s, ChildStep.CommandNotFound, 0, ENOENT);
        }

        if (s.NoNewPrivileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail(s, ChildStep.NoNewPrivileges, 0);
        if (s.NoNewPrivileges && s.SeccompProgram != null) InstallSeccomp(s);
        if (s.Pause) Launch.Pause.Run(s);

        execve(path, s.Argv, s.Envp);
        int err = Errno;
        Fail(s, err is EACCES or ENOEXEC ? ChildStep.NotExecutable : ChildStep.Execve, 0, err);
    }

    /// <summary>
    /// Closes every fd above 2 before chdir and exec, whatever their close-on-exec flag (CVE-2024-21626: a directory fd
    /// open at chdir time let "/proc/self/fd/N" as the working directory lead onto the host), except the error pipe,
    /// which is close-on-exec: it reports a failed exec and is gone after a good one.
    /// </summary>
    private static void CloseDescriptors(ChildSpec s)
    {
        uint keep = (uint)s.ErrorFd;
        if ((keep > 3 && CloseRange(3, keep - 1, 0) != 0) || CloseRange(keep + 1, uint.MaxValue, 0) != 0)
            Fail(s, ChildStep.Descriptors, 0);
    }

    /// <summary>
    /// Refuses a working directory the process's root cannot reach (a leaked fd, a moved mount): the kernel's getcwd
    /// then answers a path that does not start with '/'.
    /// </summary>
    private static void CheckCwdInsideRoot(ChildSpec s)
    {
        byte* cwd = stackalloc byte[4096];
        int n = Getcwd(cwd, 4096);
        if (n <= 0) Fail(s, ChildStep.CwdOutsideRoot, 0);
        if (cwd[0] != '/') Fail(s, ChildStep.CwdOutsideRoot, 0, ENOENT);
    }

    /// <summary>
    /// Dispositions the runtime set to "ignore" (SIGPIPE) would survive execve, and so would the signal mask. The runtime's
    /// handlers are reset first of all (none may run in the child); once done, nothing sets one again before exec, so a
    /// second call (exec's last steps) only clears the mask (-Init blocks every signal): 62 system calls fewer.
    /// </summary>
    private static void ResetSignals(ChildSpec s)
    {
        byte* set = stackalloc byte[128];
        for (int i = 0; i < 128; i++) set[i] = 0;
        sigprocmask(2 /* SIG_SETMASK */, set, null);
        if (s.SignalsReset) return;
        for (int sig = 1; sig < 65; sig++) if (sig != 9 && sig != 19) signal(sig, 0 /* SIG_DFL */);
        s.SignalsReset = true;
    }

    /// <summary>
    /// Covers the directory <paramref name="p"/> with an empty read-only tmpfs. One file system serves every masked
    /// directory: made once (read-only, as a mount and as a file system) and attached to the first, then copied
    /// (<c>open_tree</c>) onto the others; a tmpfs made per directory cost a new superblock each (12-25 us against 5 for a
    /// copy here). <paramref name="mask"/> is the attached one's fd (closing a never attached mount would unmount it and
    /// wait out an RCU grace period). 0 or errno.
    /// </summary>
    private static int MaskDirectory(ChildSpec s, byte* p, ref int mask)
    {
        byte empty = 0;
        if (mask < 0 && !s.ClassicMounts)
        {
            int fs = Fsopen(s.Tmpfs, FSOPEN_CLOEXEC);
            if (fs >= 0)
            {
                int mnt = Fsconfig(fs, FSCONFIG_SET_FLAG, s.KeyReadonly, null, 0) == 0 && Fsconfig(fs, FSCONFIG_CMD_CREATE, null, null, 0) == 0
                    ? Fsmount(fs, FSMOUNT_CLOEXEC, (uint)MOUNT_ATTR_RDONLY) : -1;
                int err = mnt < 0 ? Errno : MoveMount(mnt, &empty, AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) != 0 ? Errno : 0;
                close(fs);
                if (err == 0) mask = mnt;
                return err;
            }
            if (Errno != ENOSYS) return Errno;
            s.ClassicMounts = true;
        }
        if (mask < 0) return mount(s.Tmpfs, p, s.Tmpfs, MS_RDONLY, null) == 0 ? 0 : Errno;
        int copy = OpenTree(mask, &empty, OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH);
        int rc = copy < 0 ? Errno : MoveMount(copy, &empty, AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) != 0 ? Errno : 0;
        if (copy >= 0) close(copy);
        return rc;
    }

    /// <summary>
    /// A read-only path (after pivot_root): a detached copy of the mount tree there, made read-only as a whole (every mount
    /// below it too, with one call) before it is attached over the path. Absent: nothing to do. Classic fallback: bind onto
    /// itself, then remount the top read-only.
    /// </summary>
    private static void ReadonlyPath(ChildSpec s, int i)
    {
        byte* p = s.ReadonlyPaths[i];
        byte empty = 0;
        if (!s.ClassicMounts)
        {
            int tree = OpenTree(AT_FDCWD, p, OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
            if (tree < 0 && Errno != ENOSYS) return; // absent
            if (tree >= 0)
            {
                int err = MountSetattr(tree, &empty, AT_EMPTY_PATH | AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0, 0) != 0 ? Errno
                    : MoveMount(tree, &empty, AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) != 0 ? Errno : 0;
                close(tree);
                if (err == 0) return;
                if (err != ENOSYS) Fail(s, ChildStep.ReadonlyPath, i, err);
            }
            s.ClassicMounts = true;
        }
        byte* st = stackalloc byte[144];
        if (stat(p, st) != 0) return;
        if (mount(p, p, null, MS_BIND | MS_REC, null) != 0
            || mount(null, p, null, MS_BIND | MS_REMOUNT | MS_RDONLY | ChildMounts.LockedFlags(p), null) != 0)
            Fail(s, ChildStep.ReadonlyPath, i);
    }

    private static void InstallSeccomp(ChildSpec s)
    {
        // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
        ulong* prog = stackalloc ulong[2];
        prog[0] = s.SeccompLength;
        prog[1] = (ulong)s.SeccompProgram;
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (ulong)prog, 0, 0) != 0) Fail(s, ChildStep.Seccomp, 0);
    }

    private static bool WriteAll(byte* path, byte* data, int length)
    {
        int fd = open(path, O_WRONLY | O_CLOEXEC, 0);
        if (fd < 0) return false;
        bool ok = WriteNoGc(fd, data, length) == length;
        close(fd);
        return ok;
    }

    private static void Fail(ChildSpec s, ChildStep step, int index) => Fail(s, step, index, Errno);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void Fail(ChildSpec s, ChildStep step, int index, int err)
    {
        int* report = stackalloc int[3];
        report[0] = (int)step;
        report[1] = err;
        report[2] = index;
        WriteNoGc(s.ErrorFd, (byte*)report, 12);
        _exit(step switch { ChildStep.CommandNotFound => 127, ChildStep.NotExecutable => 126, _ => 1 });
    }
}
