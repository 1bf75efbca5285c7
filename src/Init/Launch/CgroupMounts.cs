using Containers.Core.Runtime.Plan;
using Containers.Init.Native;
using static Containers.Core.Runtime.Plan.CgroupMountLayout;

namespace Containers.Init.Launch;

/// <summary>
/// Turns a runtime-spec <c>cgroup</c> mount into the child's mount operations on a cgroup v1 (or hybrid) host, from
/// this process's /proc/self/mountinfo and the container's cgroup directories (<see cref="CgroupMountLayout"/>).
/// </summary>
internal static unsafe class CgroupMounts
{
    /// <summary>The operations, or null on a cgroup2-only host (one cgroup2 mount, made like any other file system).</summary>
    public static List<MountOp>? Expand(string destination, MountOptions options, IReadOnlyList<string> cgroupProcsFiles)
    {
        // Plain system calls: FileStream's machinery (its first use in the monitor, on the path before clone) cost more than the read.
        if (NativeFile.ReadLines("/proc/self/mountinfo") is not { } lines) return null;
        List<Hierarchy> hierarchies = Hierarchies(lines);
        var dirs = new List<string>(cgroupProcsFiles.Count);
        foreach (string procs in cgroupProcsFiles)
            if (Path.GetDirectoryName(procs) is { Length: > 0 } dir) dirs.Add(dir);
        var steps = Steps(destination, hierarchies, dirs, (options.Flags & MountOptions.MS_RDONLY) != 0);
        if (steps is [{ Kind: StepKind.Cgroup2 }]) return null;

        // The tmpfs stays writable until the controllers and links are in place; the last step makes it read-only.
        ulong flags = options.Flags & (MountOptions.MS_NOSUID | MountOptions.MS_NODEV | MountOptions.MS_NOEXEC | MountOptions.MS_RDONLY);
        var ops = new List<MountOp>();
        string holder = steps[0].Destination.Trim('/');
        foreach (var step in steps)
        {
            string rel = step.Destination.Trim('/');
            // Binds and links directly in the tmpfs are made relative to it (see MountOp.Holder).
            bool inHolder = step.Kind != StepKind.Tmpfs && (step.Kind == StepKind.Readonly ? rel == holder : Path.GetDirectoryName(rel) == holder);
            ops.Add(step.Kind switch
            {
                StepKind.Tmpfs => new MountOp
                {
                    Source = NativeString.Of("tmpfs"), FsType = NativeString.Of("tmpfs"), Data = NativeString.Of("mode=755"),
                    Dest = NativeString.Of(rel), Flags = flags & ~MountOptions.MS_RDONLY, Holder = true,
                },
                StepKind.Bind => new MountOp
                {
                    Source = NativeString.Of(step.Source), Dest = NativeString.Of(rel), Name = NativeString.Of(Path.GetFileName(rel)), Bind = true, Flags = flags,
                    InHolder = inHolder,
                },
                StepKind.Link => new MountOp
                {
                    Dest = NativeString.Of(Path.GetDirectoryName(rel)), LinkName = NativeString.Of(Path.GetFileName(rel)), LinkTarget = NativeString.Of(step.Source),
                    InHolder = inHolder,
                },
                _ => new MountOp { Dest = NativeString.Of(rel), Remount = true, Flags = flags, InHolder = inHolder },
            });
        }
        // The holder's last operation sets the flags of the tree (without ro: nosuid, nodev, noexec on each bind).
        if (steps[^1].Kind != StepKind.Readonly)
            ops.Add(new MountOp { Dest = NativeString.Of(holder), Remount = true, Flags = flags, InHolder = true });
        return ops;
    }
}
