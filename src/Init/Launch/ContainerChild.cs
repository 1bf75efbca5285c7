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
    private const ulong MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32, MS_NOATIME = 1024,
        MS_NODIRATIME = 2048, MS_BIND = 4096, MS_REC = 16384, MS_PRIVATE = 1 << 18, MS_RELATIME = 1 << 21;

    public static void Run(ChildSpec s)
    {
        ResetSignals();
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
        if (s.LoopbackUp) LoopbackUp(s);

        if (mount(null, s.Slash, null, MS_REC | MS_PRIVATE, null) != 0) Fail(s, ChildStep.Propagation, 0);
        MountRootfs(s);
        // Every mount destination is resolved beneath this fd (the mounted rootfs), never by a host path.
        int root = open(s.Rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (root < 0) Fail(s, ChildStep.Rootfs, 2);
        for (int i = 0; i < s.Mounts.Length; i++)
        {
            if (i == s.JoinAt) AwaitParent(s);
            DoMount(s, i, root);
        }
        if (s.JoinAt == s.Mounts.Length) AwaitParent(s);
        close(root);
        for (int i = 0; i < s.Devices.Length; i++) MakeDevice(s, i);
        for (int i = 0; i < s.Links.Length; i++) symlink(s.Links[i].Target, s.Links[i].LinkPath);

        // pivot_root into the rootfs and detach the old root.
        if (chdir(s.Rootfs) != 0 || PivotRoot(s.Dot, s.Dot) != 0 || umount2(s.Dot, MNT_DETACH) != 0 || chdir(s.Slash) != 0)
            Fail(s, ChildStep.PivotRoot, 0);
        if (s.RootPropagation != 0 && mount(null, s.Slash, null, s.RootPropagation, null) != 0) Fail(s, ChildStep.Propagation, 1);

        // Sysctls first: /proc/sys is one of the read-only paths (runc's order too).
        for (int i = 0; i < s.Sysctls.Length; i++)
            if (!WriteAll(s.Sysctls[i].Path, s.Sysctls[i].Value, s.Sysctls[i].Length)) Fail(s, ChildStep.Sysctl, i);
        byte* st = stackalloc byte[144];
        for (int i = 0; i < s.MaskedPaths.Length; i++)
        {
            byte* p = s.MaskedPaths[i];
            if (stat(p, st) != 0) continue; // absent: nothing to mask
            int rc = (StatMode(st) & S_IFMT) == S_IFDIR
                ? mount(s.Tmpfs, p, s.Tmpfs, MS_RDONLY, null)
                : mount(s.DevNull, p, null, MS_BIND, null);
            if (rc != 0) Fail(s, ChildStep.MaskedPath, i);
        }
        for (int i = 0; i < s.ReadonlyPaths.Length; i++)
        {
            byte* p = s.ReadonlyPaths[i];
            if (stat(p, st) != 0) continue;
            if (mount(p, p, null, MS_BIND | MS_REC, null) != 0
                || mount(null, p, null, MS_BIND | MS_REMOUNT | MS_RDONLY | LockedFlags(p), null) != 0)
                Fail(s, ChildStep.ReadonlyPath, i);
        }
        InRoot.MakeWorkdir(s);
        if (s.RootReadonly && mount(null, s.Slash, null, MS_BIND | MS_REMOUNT | MS_RDONLY | LockedFlags(s.Slash), null) != 0)
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
        ResetSignals();
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

    private static void LoopbackUp(ChildSpec s)
    {
        // struct ifreq: char ifr_name[16]; short ifr_flags at 16.
        byte* ifr = stackalloc byte[40];
        for (int i = 0; i < 40; i++) ifr[i] = 0;
        ifr[0] = (byte)'l'; ifr[1] = (byte)'o';
        int sock = socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | 0x80000 /* SOCK_CLOEXEC */, 0);
        if (sock < 0 || ioctl(sock, 0x8913 /* SIOCGIFFLAGS */, (ulong)ifr) != 0) Fail(s, ChildStep.Loopback, 0);
        *(short*)(ifr + 16) |= 1; // IFF_UP
        if (ioctl(sock, 0x8914 /* SIOCSIFFLAGS */, (ulong)ifr) != 0) Fail(s, ChildStep.Loopback, 1);
        close(sock);
    }

    /// <summary>Dispositions the runtime set to "ignore" (SIGPIPE) would survive execve, and so would the signal mask.</summary>
    private static void ResetSignals()
    {
        byte* set = stackalloc byte[128];
        for (int i = 0; i < 128; i++) set[i] = 0;
        sigprocmask(2 /* SIG_SETMASK */, set, null);
        for (int sig = 1; sig < 65; sig++) if (sig != 9 && sig != 19) signal(sig, 0 /* SIG_DFL */);
    }

    private static void InstallSeccomp(ChildSpec s)
    {
        // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
        ulong* prog = stackalloc ulong[2];
        prog[0] = s.SeccompLength;
        prog[1] = (ulong)s.SeccompProgram;
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (ulong)prog, 0, 0) != 0) Fail(s, ChildStep.Seccomp, 0);
    }

    private static void MountRootfs(ChildSpec s)
    {
        if (s.LowerTopFirst == null)
        {
            if (mount(s.Rootfs, s.Rootfs, null, MS_BIND | MS_REC, null) != 0) Fail(s, ChildStep.Rootfs, 0);
            return;
        }
        if (s.UpperDir == null && s.LowerCount == 1)
        {
            if (mount(s.LowerTopFirst[0], s.Rootfs, null, MS_BIND | MS_REC, null) != 0) Fail(s, ChildStep.Rootfs, 0);
            return;
        }
        // The new mount API takes the layers one by one (no page-size limit on the option string).
        int err = OverlayNewApi(s, false);
        if (err != 0 && err != ENOSYS && s.UserNamespace) err = OverlayNewApi(s, true);
        if (err == 0) return;
        int classic = s.OverlayData == null ? EINVAL
            : mount(s.Overlay, s.Rootfs, s.Overlay, 0, s.OverlayData) == 0 ? 0
            : s.UserNamespace && mount(s.Overlay, s.Rootfs, s.Overlay, 0, s.OverlayDataUserXattr) == 0 ? 0 : Errno;
        if (classic != 0) Fail(s, ChildStep.Rootfs, 1, err != ENOSYS ? err : classic);
    }

    private static int OverlayNewApi(ChildSpec s, bool userXattr)
    {
        int fs = Fsopen(s.Overlay, FSOPEN_CLOEXEC);
        if (fs < 0) return Errno;
        int err = 0;
        for (int i = 0; i < s.LowerCount && err == 0; i++)
            if (Fsconfig(fs, FSCONFIG_SET_STRING, s.KeyLowerPlus, s.LowerTopFirst[i], 0) != 0) err = Errno;
        if (err == 0 && s.UpperDir != null
            && (Fsconfig(fs, FSCONFIG_SET_STRING, s.KeyUpper, s.UpperDir, 0) != 0 || Fsconfig(fs, FSCONFIG_SET_STRING, s.KeyWork, s.WorkDir, 0) != 0))
            err = Errno;
        if (err == 0 && userXattr && Fsconfig(fs, FSCONFIG_SET_FLAG, s.KeyUserXattr, null, 0) != 0) err = Errno;
        if (err == 0 && Fsconfig(fs, FSCONFIG_CMD_CREATE, null, null, 0) != 0) err = Errno;
        if (err == 0)
        {
            int mnt = Fsmount(fs, FSMOUNT_CLOEXEC, 0);
            if (mnt < 0) err = Errno;
            else
            {
                if (MoveMount(mnt, s.Empty, AT_FDCWD, s.Rootfs, MOVE_MOUNT_F_EMPTY_PATH) != 0) err = Errno;
                close(mnt);
            }
        }
        close(fs);
        return err;
    }

    private static void DoMount(ChildSpec s, int op, int root)
    {
        ref MountOp m = ref s.Mounts[op];
        int i = m.SpecIndex; // errors name the config.json mount (a cgroup mount expands into several operations)
        if (m.LinkTarget != null || m.Remount)
        {
            int dir = Openat2(root, m.Dest, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
            if (dir < 0) Fail(s, ChildStep.MountTarget, i);
            byte* at = stackalloc byte[32];
            InRoot.FdPath(at, dir);
            if (m.LinkTarget != null ? Symlinkat(m.LinkTarget, dir, m.LinkName) != 0 && Errno != EEXIST
                : mount(null, at, null, MS_BIND | MS_REMOUNT | m.Flags | LockedFlags(at), null) != 0)
                Fail(s, ChildStep.Mount, i);
            close(dir);
            return;
        }
        // The destination is opened inside the root (a symlink of the image resolves as if the root were /, so it cannot
        // lead out) and the mount lands on that very inode through /proc/self/fd/N: nothing can swap a path component
        // for a symlink between the check and the mount (CVE-2021-30465), as runc and crun do.
        int fd = InRoot.OpenDestination(root, m.Dest, m.FileTarget);
        if (fd < 0) { if (m.Optional) return; Fail(s, ChildStep.MountTarget, i, -fd); }
        byte* target = stackalloc byte[32];
        InRoot.FdPath(target, fd);
        bool sysfsFallback = false;
        if (m.Bind)
        {
            if (mount(m.Source, target, null, MS_BIND | (m.Recursive ? MS_REC : 0), null) != 0) Fail(s, ChildStep.Mount, i);
        }
        else if (mount(m.Source, target, m.FsType, m.Flags, m.Data) != 0)
        {
            int err = Errno;
            if (m.SysfsFallback && err is EPERM or EACCES)
            {
                if (mount(m.HostSys, target, null, MS_BIND | MS_REC, null) != 0) Fail(s, ChildStep.Mount, i);
                sysfsFallback = true;
            }
            else if (m.Optional) { close(fd); return; }
            else Fail(s, ChildStep.Mount, i, err);
        }
        close(fd);
        ulong extra = sysfsFallback ? MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
            : m.Bind ? m.Flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME) : 0;
        if (extra == 0 && m.Propagation == 0) return;

        // The new mount sits on top of the inode fd pointed at: open the destination again to reach it.
        fd = Openat2(root, m.Dest, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        if (fd < 0) Fail(s, ChildStep.Mount, i);
        InRoot.FdPath(target, fd);
        if (extra != 0 && mount(null, target, null, MS_BIND | MS_REMOUNT | extra | LockedFlags(target), null) != 0) Fail(s, ChildStep.Mount, i);
        if (m.Propagation != 0 && mount(null, target, null, m.Propagation, null) != 0) Fail(s, ChildStep.Mount, i);
        close(fd);
    }

    private static void MakeDevice(ChildSpec s, int i)
    {
        ref DeviceOp d = ref s.Devices[i];
        if (!MakeParents(d.Target)) Fail(s, ChildStep.Device, i);
        if (!s.UserNamespace && mknod(d.Target, d.Mode, d.Dev) == 0)
        {
            chown(d.Target, d.Uid, d.Gid);
            return;
        }
        if (!s.UserNamespace && Errno == EEXIST) return;
        // In a user namespace mknod is refused: bind the host's node instead (as crun and runc do).
        int fd = open(d.Target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0x1a4);
        if (fd >= 0) close(fd);
        if (mount(d.HostPath, d.Target, null, MS_BIND, null) != 0) Fail(s, ChildStep.Device, i);
    }

    /// <summary>mkdir -p of the path's parent directories (the path itself is left alone).</summary>
    private static bool MakeParents(byte* path)
    {
        int last = 0;
        for (int i = 1; path[i] != 0; i++) if (path[i] == '/') last = i;
        for (int i = 1; i <= last; i++)
        {
            if (path[i] != '/') continue;
            path[i] = 0;
            int rc = mkdir(path, 0x1ed);
            int err = Errno;
            path[i] = (byte)'/';
            if (rc != 0 && err != EEXIST) return false;
        }
        return true;
    }

    /// <summary>Flags of the mount at path that a bind remount must keep (locked in a user namespace).</summary>
    private static ulong LockedFlags(byte* path)
    {
        byte* buf = stackalloc byte[120];
        if (Statfs(path, buf) != 0) return 0;
        ulong f = StatfsFlags(buf), m = 0;
        if ((f & 2) != 0) m |= MS_NOSUID;
        if ((f & 4) != 0) m |= MS_NODEV;
        if ((f & 8) != 0) m |= MS_NOEXEC;
        if ((f & 0x400) != 0) m |= MS_NOATIME;
        if ((f & 0x800) != 0) m |= MS_NODIRATIME;
        if ((f & 0x1000) != 0) m |= MS_RELATIME;
        return m;
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
