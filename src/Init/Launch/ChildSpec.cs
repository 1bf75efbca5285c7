namespace Containers.Init.Launch;

/// <summary>
/// Everything the cloned child needs, prepared by the parent before clone: native strings and
/// arrays of plain structs. The child only reads it (no allocation, no static constructors, no locks).
/// </summary>
internal sealed unsafe class ChildSpec
{
    public int SyncFd = -1, ErrorFd = -1;
    /// <summary>fds to place on 0, 1, 2 (-1 keeps the inherited one).</summary>
    public int StdinFd = -1, StdoutFd = -1, StderrFd = -1;
    /// <summary>process.terminal: the child opens a pseudo-terminal in the container's own devpts, sends the master
    /// over this socket (SCM_RIGHTS) and makes the slave its controlling terminal and fds 0-2. -1: no terminal.</summary>
    public int ConsoleSocket = -1;
    public byte* Ptmx, PtsPtmx;
    public bool UserNamespace;
    /// <summary>A new network namespace: bring its loopback up (as crun and runc do).</summary>
    public bool LoopbackUp;
    /// <summary>An existing network namespace (opened by the parent, close-on-exec) the child joins first; -1: none.</summary>
    public int NetNsFd = -1;
    /// <summary>A pod's IPC and UTS namespaces (its infra's, opened by the parent, close-on-exec) the child joins; -1: none.</summary>
    public int IpcNsFd = -1, UtsNsFd = -1;
    /// <summary>A pod's infra: after every step but the exec, the child pauses in its namespaces (<see cref="Pause"/>).</summary>
    public bool Pause;
    public bool SetgroupsAllowed = true;
    /// <summary>Make the cgroup namespace once the child is in its cgroups (so they are its root).</summary>
    public bool UnshareCgroup;
    /// <summary>The v1 hierarchies' <c>tasks</c> files (opened by the parent) the child writes <c>0</c> into first of all, and
    /// their indexes in the plan's cgroup list (see <see cref="CgroupJoin"/>).</summary>
    public int[] CgroupTaskFds = [], CgroupTaskIndexes = [];
    /// <summary>Where the child waits for the parent's go (id maps written, a cgroup2 clone3 refused joined, the network
    /// helper started): -1 first of all (a user namespace: nothing works before its id maps), else before
    /// <see cref="Mounts"/>[JoinAt] (the first cgroup mount; <c>Mounts.Length</c>: after the last). The mounts before it
    /// are made while the parent finishes.</summary>
    public int JoinAt = -1;
    /// <summary>-Init: the child stays as PID 1 (<see cref="Reaper"/>) and the command runs as its child.</summary>
    public bool InitReaper;
    public int LastCap;

    public byte* Slash, Dot, Empty, DevNull, Overlay, Tmpfs, Bind, KeyReadonly;
    public ulong RootPropagation;
    public byte* Rootfs;

    // Overlay rootfs (LowerTopFirst null: bind root.path onto itself).
    public byte** LowerTopFirst;
    public int LowerCount;
    public byte* UpperDir, WorkDir, OverlayData, OverlayDataUserXattr;
    public byte* KeyLowerPlus, KeyUpper, KeyWork, KeyUserXattr;

    public MountOp[] Mounts = [];
    public DeviceOp[] Devices = [];
    public LinkOp[] Links = [];
    public byte*[] MaskedPaths = [];
    public byte*[] ReadonlyPaths = [];
    public bool RootReadonly;
    /// <summary>Set by the child when the kernel lacks the new mount API (open_tree, mount_setattr: ENOSYS): mount by path.</summary>
    public bool ClassicMounts;
    /// <summary>Set by the child once it has reset every signal disposition (exec then only needs the mask cleared).</summary>
    public bool SignalsReset;
    public SysctlOp[] Sysctls = [];
    public byte* Hostname;
    public int HostnameLength;
    public RlimitOp[] Rlimits = [];
    public byte* OomScoreAdjPath, OomScoreAdj;
    public int OomScoreAdjLength;

    public ulong Bounding, Effective, Permitted, Inheritable, Ambient;
    public bool SetCapabilities;
    public uint Uid, Gid;
    public uint[] Groups = [];
    public int Umask = 0x12; // 022
    public byte* Cwd;
    public bool NoNewPrivileges;
    public byte* SeccompProgram;
    public ushort SeccompLength;
    public byte*[] Candidates = [];
    public byte** Argv, Envp;
}

internal unsafe struct MountOp
{
    public byte* Source, FsType, Data;
    /// <summary>The destination relative to the container root ("." for the root itself); the child walks it in place.</summary>
    public byte* Dest;
    public ulong Flags, Propagation;
    public bool Bind, Recursive, FileTarget;
    /// <summary>sysfs: falls back to a recursive bind of the host's /sys when mounting is refused (a user namespace without its own netns).</summary>
    public bool SysfsFallback;
    /// <summary>Failure is not fatal (cgroup mounts on hosts where our cgroup namespace cannot mount one).</summary>
    public bool Optional;
    public byte* HostSys;
    /// <summary>Not a mount: a symbolic link LinkName -> LinkTarget made in the directory Dest (cgroup v1 co-mounted controllers).</summary>
    public byte* LinkName, LinkTarget;
    /// <summary>Not a mount: the mount on Dest remounted with Flags (the cgroup tmpfs made read-only once filled).</summary>
    public bool Remount;
    /// <summary>A tmpfs this child mounts (the cgroup one, /dev): once mounted the child keeps its fd, and the operations
    /// right after it marked <see cref="InHolder"/> are made relative to it (<see cref="Name"/>, <see cref="LinkName"/>); in
    /// the cgroup one the last (<see cref="Remount"/>) sets the flags of the whole tree with one call.</summary>
    public bool Holder, InHolder;
    /// <summary>The last component of <see cref="Dest"/>, for a mount or bind in the holder.</summary>
    public byte* Name;
    /// <summary>The index of the config.json mount this operation comes from (for error messages).</summary>
    public int SpecIndex;
}

internal unsafe struct DeviceOp
{
    /// <summary>The directory relative to the container root (devices of the same one share the pointer) and the node's name in it.</summary>
    public byte* Parent, Name;
    public byte* HostPath;
    public int Mode; // S_IFCHR|perm
    public ulong Dev;
    public uint Uid, Gid;
}

internal unsafe struct LinkOp
{
    /// <summary>The link <see cref="Name"/> in <see cref="Parent"/> (relative to the container root), pointing to <see cref="Target"/>.</summary>
    public byte* Target, Parent, Name;
}

internal unsafe struct SysctlOp
{
    public byte* Path, Value;
    public int Length;
}

internal struct RlimitOp
{
    public int Resource;
    public ulong Soft, Hard;
}

/// <summary>Where the child failed; the parent turns it into a message. Reported as three ints on the error pipe: step, errno, index.</summary>
internal enum ChildStep
{
    Sync = 1, UserIds, Stdio, Propagation, Rootfs, Mount, MountTarget, Device, PivotRoot, MaskedPath, ReadonlyPath,
    RootReadonly, Sysctl, Hostname, Rlimit, OomScoreAdj, Bounding, Groups, SetGid, SetUid, Capabilities, Ambient,
    NoNewPrivileges, Seccomp, Cwd, CommandNotFound, NotExecutable, Execve,
    /// <summary>exec: joining a cgroup, joining a namespace, and (not a failure) the final pid.</summary>
    Cgroup, Setns, Started,
    /// <summary>Bringing up lo in the new network namespace.</summary>
    Loopback,
    /// <summary>Joining the network namespace named in config.json (linux.namespaces[network].path).</summary>
    NetworkNamespace,
    /// <summary>Opening the pseudo-terminal (index: 0 open ptmx, 1 unlock, 2 open the slave, 3 send the master, 4 setsid, 5 controlling tty, 6 dup).</summary>
    Terminal,
    /// <summary>Closing the descriptors above 2 before exec (close_range, Linux 5.9+).</summary>
    Descriptors,
    /// <summary>setsid: the process gets a session of its own (no controlling terminal shared with the caller).</summary>
    Session,
    /// <summary>After chdir, the working directory is not reachable from the container's root.</summary>
    CwdOutsideRoot,
    /// <summary>unshare(CLONE_NEWCGROUP) after the parent placed the child in its cgroups.</summary>
    CgroupNamespace,
    /// <summary>-Init: blocking the signals (index 0) or forking the command (1).</summary>
    Init,
    /// <summary>Joining a pod's IPC (index 0) or UTS (1) namespace.</summary>
    PodNamespace,
}
