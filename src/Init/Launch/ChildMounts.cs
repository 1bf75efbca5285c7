using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// The child's mounts before pivot_root: the rootfs, the config mounts, the devices and their links. Same rules as
/// <see cref="ContainerChild"/> (runs in the cloned child: raw syscalls, stack buffers, no allocation).
/// Binds go through the new mount API (Linux 5.12+): <c>open_tree</c> makes a detached copy of the source,
/// <c>mount_setattr</c> gives it its flags and propagation before anyone can see it, and <c>move_mount</c> attaches it to
/// the destination fd opened inside the root. The classic way (bind, open the destination again to reach the new mount,
/// statfs for the flags a remount must keep, remount, propagation) took 7 calls and about 3 times the kernel time;
/// it stays as the fallback when the kernel answers ENOSYS.
/// </summary>
internal static unsafe class ChildMounts
{
    private const ulong MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32, MS_NOATIME = 1024,
        MS_NODIRATIME = 2048, MS_BIND = 4096, MS_REC = 16384, MS_UNBINDABLE = 1 << 17, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19,
        MS_SHARED = 1 << 20, MS_RELATIME = 1 << 21;
    private const ulong Resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

    public static void MountRootfs(ChildSpec s)
    {
        if (s.LowerTopFirst == null)
        {
            if (mount(s.Rootfs, s.Rootfs, null, MS_BIND | MS_REC, null) != 0) ContainerChild.Fail(s, ChildStep.Rootfs, 0, Errno);
            return;
        }
        if (s.UpperDir == null && s.LowerCount == 1)
        {
            if (mount(s.LowerTopFirst[0], s.Rootfs, null, MS_BIND | MS_REC, null) != 0) ContainerChild.Fail(s, ChildStep.Rootfs, 0, Errno);
            return;
        }
        // The new mount API takes the layers one by one (no page-size limit on the option string).
        int err = OverlayNewApi(s, false);
        if (err != 0 && err != ENOSYS && s.UserNamespace) err = OverlayNewApi(s, true);
        if (err == 0) return;
        int classic = s.OverlayData == null ? EINVAL
            : mount(s.Overlay, s.Rootfs, s.Overlay, 0, s.OverlayData) == 0 ? 0
            : s.UserNamespace && mount(s.Overlay, s.Rootfs, s.Overlay, 0, s.OverlayDataUserXattr) == 0 ? 0 : Errno;
        if (classic != 0) ContainerChild.Fail(s, ChildStep.Rootfs, 1, err != ENOSYS ? err : classic);
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

    /// <summary>
    /// Mount operation <paramref name="op"/>. <paramref name="holder"/> is the fd of the cgroup tmpfs (<see
    /// cref="MountOp.Holder"/>) once mounted: the operations in it (<see cref="MountOp.InHolder"/>) are made relative to it,
    /// and the last one makes the whole tree read-only with one recursive <c>mount_setattr</c>.
    /// </summary>
    public static void Mount(ChildSpec s, int op, int root, ref int holder)
    {
        ref MountOp m = ref s.Mounts[op];
        int i = m.SpecIndex; // errors name the config.json mount (a cgroup mount expands into several operations)
        if (holder >= 0 && !m.InHolder) { close(holder); holder = -1; }
        if (m.InHolder && holder >= 0 && !s.ClassicMounts)
        {
            int err = InHolder(ref m, holder);
            if (m.Remount || (err != 0 && err != ENOSYS)) { close(holder); holder = -1; }
            if (err == 0) return;
            if (err != ENOSYS) ContainerChild.Fail(s, ChildStep.Mount, i, err);
            s.ClassicMounts = true; // the steps below redo it the classic way, by path
        }
        if (m.LinkTarget != null || m.Remount)
        {
            int dir = Openat2(root, m.Dest, O_PATH | O_CLOEXEC, Resolve);
            if (dir < 0) ContainerChild.Fail(s, ChildStep.MountTarget, i, Errno);
            byte* at = stackalloc byte[32];
            InRoot.FdPath(at, dir);
            if (m.LinkTarget != null ? Symlinkat(m.LinkTarget, dir, m.LinkName) != 0 && Errno != EEXIST
                : mount(null, at, null, MS_BIND | MS_REMOUNT | m.Flags | LockedFlags(at), null) != 0)
                ContainerChild.Fail(s, ChildStep.Mount, i, Errno);
            close(dir);
            return;
        }
        // The destination is opened inside the root (a symlink of the image resolves as if the root were /, so it cannot
        // lead out) and the mount lands on that very inode (move_mount to the fd, or /proc/self/fd/N): nothing can swap a
        // path component for a symlink between the check and the mount (CVE-2021-30465), as runc and crun do.
        int fd = InRoot.OpenDestination(root, m.Dest, m.FileTarget);
        if (fd < 0) { if (m.Optional) return; ContainerChild.Fail(s, ChildStep.MountTarget, i, -fd); }
        ulong extra = m.Bind ? m.Flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME) : 0;
        if (m.Bind && !s.ClassicMounts)
        {
            byte empty = 0;
            int err = Bind(m.Source, m.Recursive, extra, m.Propagation, fd, &empty);
            if (err == 0) { close(fd); return; }
            if (err != ENOSYS) ContainerChild.Fail(s, ChildStep.Mount, i, err);
            s.ClassicMounts = true;
        }
        byte* target = stackalloc byte[32];
        InRoot.FdPath(target, fd);
        bool sysfsFallback = false;
        if (m.Bind)
        {
            if (mount(m.Source, target, null, MS_BIND | (m.Recursive ? MS_REC : 0), null) != 0) ContainerChild.Fail(s, ChildStep.Mount, i, Errno);
        }
        else if (mount(m.Source, target, m.FsType, m.Flags, m.Data) != 0)
        {
            int err = Errno;
            if (m.SysfsFallback && err is EPERM or EACCES)
            {
                if (mount(m.HostSys, target, null, MS_BIND | MS_REC, null) != 0) ContainerChild.Fail(s, ChildStep.Mount, i, Errno);
                sysfsFallback = true;
            }
            else if (m.Optional) { close(fd); return; }
            else ContainerChild.Fail(s, ChildStep.Mount, i, err);
        }
        close(fd);
        if (sysfsFallback) extra = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
        if (m.Holder && !s.ClassicMounts)
        {
            // Opened after the mount, the fd is the tmpfs' root: what follows in it needs no walk from the root.
            holder = Openat2(root, m.Dest, O_PATH | O_DIRECTORY | O_CLOEXEC, Resolve);
            if (holder < 0) ContainerChild.Fail(s, ChildStep.Mount, i, Errno);
        }
        if (extra == 0 && m.Propagation == 0) return;

        // The new mount sits on top of the inode fd pointed at: open the destination again to reach it.
        fd = Openat2(root, m.Dest, O_PATH | O_CLOEXEC, Resolve);
        if (fd < 0) ContainerChild.Fail(s, ChildStep.Mount, i, Errno);
        InRoot.FdPath(target, fd);
        if (extra != 0 && mount(null, target, null, MS_BIND | MS_REMOUNT | extra | LockedFlags(target), null) != 0) ContainerChild.Fail(s, ChildStep.Mount, i, Errno);
        if (m.Propagation != 0 && mount(null, target, null, m.Propagation, null) != 0) ContainerChild.Fail(s, ChildStep.Mount, i, Errno);
        close(fd);
    }

    /// <summary>
    /// An operation inside a tmpfs this child mounted a moment ago (it holds only what the child made, so its names need no
    /// walk inside the root), relative to its fd: a file system mounted on a directory made in it (/dev/pts under /dev); in
    /// the cgroup tmpfs a controller's directory made and its bind attached to it, a link, or (last) the flags set on the
    /// tmpfs and every bind in it at once. 0 or errno.
    /// </summary>
    private static int InHolder(ref MountOp m, int holder)
    {
        byte empty = 0;
        if (!m.Bind && m.LinkTarget == null && !m.Remount)
        {
            if (Mkdirat(holder, m.Name, 0x1ed) != 0 && Errno != EEXIST) return Errno;
            int fd = Openat(holder, m.Name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC, 0);
            if (fd < 0) return Errno;
            byte* target = stackalloc byte[32];
            InRoot.FdPath(target, fd);
            int err = mount(m.Source, target, m.FsType, m.Flags, m.Data) == 0 ? 0 : Errno;
            close(fd);
            return err;
        }
        if (m.LinkTarget != null) return Symlinkat(m.LinkTarget, holder, m.LinkName) == 0 || Errno == EEXIST ? 0 : Errno;
        if (m.Remount)
        {
            Attributes(m.Flags, out ulong set, out ulong clear);
            return MountSetattr(holder, &empty, AT_EMPTY_PATH | AT_RECURSIVE, set, clear, 0) == 0 ? 0 : Errno;
        }
        if (Mkdirat(holder, m.Name, 0x1ed) != 0 && Errno != EEXIST) return Errno;
        return Bind(m.Source, false, 0, 0, holder, m.Name);
    }

    /// <summary>
    /// Binds <paramref name="source"/> (a host path) onto <paramref name="name"/> in <paramref name="dir"/> (or onto the fd
    /// itself when name is empty): a detached copy, its flags (<paramref name="flags"/>: MS_ flags added to the source's,
    /// on the top mount) and propagation set, then attached. 0 or errno; ENOSYS before anything was attached.
    /// </summary>
    public static int Bind(byte* source, bool recursive, ulong flags, ulong propagation, int dir, byte* name)
    {
        int tree = OpenTree(AT_FDCWD, source, OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
        if (tree < 0) return Errno;
        byte empty = 0;
        int err = 0;
        Attributes(flags, out ulong set, out ulong clear);
        ulong type = propagation & (MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE);
        // A single mount has nothing below it: its flags and propagation go in one call.
        bool propagationBelow = type != 0 && recursive && (propagation & MS_REC) != 0;
        if ((set | clear) != 0 || (type != 0 && !propagationBelow))
            err = MountSetattr(tree, &empty, AT_EMPTY_PATH, set, clear, propagationBelow ? 0 : type) == 0 ? 0 : Errno;
        if (err == 0 && propagationBelow && MountSetattr(tree, &empty, AT_EMPTY_PATH | AT_RECURSIVE, 0, 0, type) != 0) err = Errno;
        if (err == 0 && MoveMount(tree, &empty, dir, name, MOVE_MOUNT_F_EMPTY_PATH | (name[0] == 0 ? MOVE_MOUNT_T_EMPTY_PATH : 0)) != 0)
            err = Errno;
        close(tree);
        return err;
    }

    /// <summary>MS_ per-mount flags as mount_setattr's attributes to set and clear (an atime mode replaces the current one).</summary>
    public static void Attributes(ulong flags, out ulong set, out ulong clear)
    {
        set = 0;
        clear = 0;
        if ((flags & MS_RDONLY) != 0) set |= MOUNT_ATTR_RDONLY;
        if ((flags & MS_NOSUID) != 0) set |= MOUNT_ATTR_NOSUID;
        if ((flags & MS_NODEV) != 0) set |= MOUNT_ATTR_NODEV;
        if ((flags & MS_NOEXEC) != 0) set |= MOUNT_ATTR_NOEXEC;
        if ((flags & MS_NODIRATIME) != 0) set |= MOUNT_ATTR_NODIRATIME;
        if ((flags & (MS_NOATIME | MS_RELATIME)) != 0)
        {
            clear |= MOUNT_ATTR__ATIME;
            if ((flags & MS_NOATIME) != 0) set |= MOUNT_ATTR_NOATIME; // relatime is 0
        }
    }

    /// <summary>
    /// The devices and their links, made in their directory (each opened once inside the root, <c>/dev</c> for all of the
    /// default ones) by name, never through a host path.
    /// </summary>
    public static void Devices(ChildSpec s, int root)
    {
        int dir = -1;
        byte* dirPath = null;
        for (int i = 0; i < s.Devices.Length; i++)
        {
            ref DeviceOp d = ref s.Devices[i];
            dir = Directory(root, d.Parent, ref dirPath, dir);
            if (dir < 0 || !MakeDevice(s, ref d, dir)) ContainerChild.Fail(s, ChildStep.Device, i, dir < 0 ? -dir : Errno);
        }
        for (int i = 0; i < s.Links.Length; i++)
        {
            ref LinkOp l = ref s.Links[i];
            dir = Directory(root, l.Parent, ref dirPath, dir);
            if (dir >= 0) Symlinkat(l.Target, dir, l.Name);
        }
        if (dir >= 0) close(dir);
    }

    /// <summary>The fd of <paramref name="parent"/> (made if missing, inside the root): <paramref name="current"/> when it is
    /// already that one's (the same pointer: Preparer shares each directory's string). -errno on failure.</summary>
    private static int Directory(int root, byte* parent, ref byte* currentPath, int current)
    {
        if (parent == currentPath && current >= 0) return current;
        if (current >= 0) close(current);
        currentPath = parent;
        return InRoot.OpenDestination(root, parent, false);
    }

    private static bool MakeDevice(ChildSpec s, ref DeviceOp d, int dir)
    {
        if (!s.UserNamespace && Mknodat(dir, d.Name, d.Mode, d.Dev) == 0)
        {
            Fchownat(dir, d.Name, d.Uid, d.Gid, AT_SYMLINK_NOFOLLOW); // best effort, as before
            return true;
        }
        if (!s.UserNamespace && Errno == EEXIST) return true;
        // In a user namespace mknod is refused: bind the host's node instead (as crun and runc do), onto the file made here.
        int fd = Openat(dir, d.Name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0x1a4);
        if (fd < 0) return false;
        byte* target = stackalloc byte[32];
        InRoot.FdPath(target, fd);
        bool ok = mount(d.HostPath, target, null, MS_BIND, null) == 0;
        close(fd);
        return ok;
    }

    /// <summary>Flags of the mount at path that a bind remount must keep (locked in a user namespace).</summary>
    public static ulong LockedFlags(byte* path)
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
}
