using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// Places the container's process in its cgroups without the kernel's global cgroup lock. Writing a pid into a
/// <c>cgroup.procs</c> (v1 or cgroup2) write-locks <c>cgroup_threadgroup_rwsem</c>, and its first writer after an idle
/// spell waits out an RCU grace period: 1.6-18 ms in about one start in three on this host, the largest single delay of a
/// start. Two ways skip the lock. A single-threaded process writing <c>0</c> into a v1 hierarchy's <c>tasks</c> moves
/// only itself, which the kernel does without the threadgroup lock (the cloned child has one thread, so that is the whole
/// process); <c>clone3(CLONE_INTO_CGROUP)</c> creates the child directly in a cgroup2 directory (fork takes the lock only
/// for reading). So the parent opens, before clone, each v1 hierarchy's <c>tasks</c> (close-on-exec; the kernel checks the
/// credentials of the opener, so the child may write it from a user namespace before its id maps exist) and the cgroup2
/// directory, and the child writes <c>0</c> into each <c>tasks</c> as its first act (<see cref="ContainerChild"/>).
/// A cgroup2 directory that clone3 refuses (an old kernel, a seccomp filter) is joined by the parent as before.
/// </summary>
internal sealed unsafe class CgroupJoin
{
    private const long CGROUP2_SUPER_MAGIC = 0x63677270;

    /// <summary>The v1 hierarchies' <c>tasks</c> files, open for writing, and the index of each in the plan's list.</summary>
    public int[] TaskFds { get; private init; } = [];
    public int[] TaskIndexes { get; private init; } = [];
    /// <summary>The cgroup2 directory for CLONE_INTO_CGROUP (-1: none), and the <c>cgroup.procs</c> the parent writes when clone3 fails.</summary>
    public int IntoFd { get; private init; } = -1;
    public string? IntoProcs { get; private init; }

    /// <summary>Opens what the child joins through; a cgroup that cannot be opened fails the start before clone.</summary>
    public static CgroupJoin Open(IReadOnlyList<string> procsFiles)
    {
        var fds = new List<int>();
        var indexes = new List<int>();
        int into = -1;
        string? intoProcs = null;
        byte* fs = stackalloc byte[120];
        for (int i = 0; i < procsFiles.Count; i++)
        {
            string dir = Path.GetDirectoryName(procsFiles[i]) ?? "";
            if (into < 0 && Statfs(NativeString.Of(dir), fs) == 0 && *(long*)fs == CGROUP2_SUPER_MAGIC)
            {
                into = open(NativeString.Of(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
                if (into < 0) throw Failed(dir);
                intoProcs = procsFiles[i];
                continue;
            }
            string tasks = Path.Combine(dir, "tasks");
            int fd = open(NativeString.Of(tasks), O_WRONLY | O_CLOEXEC, 0);
            if (fd < 0) throw Failed(tasks);
            fds.Add(fd);
            indexes.Add(i);
        }
        return new CgroupJoin { TaskFds = [.. fds], TaskIndexes = [.. indexes], IntoFd = into, IntoProcs = intoProcs };
    }

    /// <summary>In the cloned child, before anything else: writes <c>0</c> into each <c>tasks</c> file and closes it.
    /// Returns the plan's index of the cgroup it could not join (errno tells why), or -1. No allocation: the child of a
    /// clone must not meet the GC.</summary>
    public static int JoinSelf(int[] taskFds, int[] taskIndexes)
    {
        byte zero = (byte)'0';
        for (int i = 0; i < taskFds.Length; i++)
        {
            if (WriteNoGc(taskFds[i], &zero, 1) != 1) return taskIndexes[i];
            close(taskFds[i]);
        }
        return -1;
    }

    /// <summary>Closes the parent's copies once the child exists (the child's are close-on-exec and closed after use).</summary>
    public void CloseAll()
    {
        foreach (int fd in TaskFds) close(fd);
        if (IntoFd >= 0) close(IntoFd);
    }

    private static Preparer.PlanException Failed(string path) => new("CgroupJoinFailed", $"joining cgroup: {path}: {StrError(Errno)}");
}
