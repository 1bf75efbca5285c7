using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime.RunOptions;

/// <summary>
/// The run options real images need beyond limits and mounts (podman's <c>--shm-size</c>, <c>--ulimit</c>, <c>--stop-signal</c>,
/// <c>--init</c>, <c>--read-only-tmpfs</c>, <c>--group-add</c>, <c>--sysctl</c>), as given; <see cref="Resolve"/> checks them.
/// </summary>
internal sealed class ContainerRunOptions
{
    /// <summary>Size of /dev/shm in bytes (null: 64 MiB, the default).</summary>
    public long? ShmSizeBytes { get; set; }
    /// <summary><c>name=soft[:hard]</c> items.</summary>
    public IReadOnlyList<string> Ulimits { get; set; } = [];
    /// <summary>Replaces the image's StopSignal (name or number).</summary>
    public string? StopSignal { get; set; }
    /// <summary>A minimal init as PID 1 that forwards signals to the command and reaps zombies.</summary>
    public bool Init { get; set; }
    /// <summary>With a read-only root: tmpfs on /tmp, /var/tmp and /run (podman's default).</summary>
    public bool ReadOnlyTmpfs { get; set; } = true;
    /// <summary>Supplementary groups (names in the image's /etc/group, or numbers).</summary>
    public IReadOnlyList<string> GroupAdd { get; set; } = [];
    /// <summary><c>name=value</c> items for namespaced sysctls.</summary>
    public IReadOnlyList<string> Sysctls { get; set; } = [];

    /// <summary>Checks everything before anything is written (typed errors).</summary>
    internal ResolvedRunOptions Resolve(string network, IReadOnlyList<string> layers, string owner, ulong openFilesHardLimit)
    {
        if (ShmSizeBytes is <= 0)
            throw new ContainersException("InvalidShmSize", ErrorKind.InvalidArgument, $"-ShmSize must be above zero (got {ShmSizeBytes}).", ShmSizeBytes, "Give a size such as 256MB.");
        return new ResolvedRunOptions(
            ShmSizeBytes,
            RunOptions.Ulimits.Parse(Ulimits, openFilesHardLimit),
            Signals.Parse(StopSignal),
            Init,
            ReadOnlyTmpfs,
            [.. GroupAdd.Select(g => ImageUsers.ResolveGroup(g, layers, owner))],
            RunOptions.Sysctls.Parse(Sysctls, network != "host"));
    }
}

/// <summary>The checked run options, applied to the record's mounts and the bundle's config.json.</summary>
internal sealed record ResolvedRunOptions(long? ShmSizeBytes, List<PosixRlimit> Rlimits, int? StopSignal, bool Init, bool ReadOnlyTmpfs,
    List<uint> Groups, Dictionary<string, string> Sysctls)
{
    /// <summary>With a read-only root, writable tmpfs on /tmp, /var/tmp and /run unless the user mounts something there.</summary>
    public IEnumerable<ContainerMount> TmpfsMounts(bool readOnlyRoot, IReadOnlyList<ContainerMount> userMounts) =>
        !readOnlyRoot || !ReadOnlyTmpfs ? []
        : ((string[])["/tmp", "/var/tmp", "/run"]).Where(d => !userMounts.Any(m => m.Destination.TrimEnd('/') == d))
            .Select(d => new ContainerMount { Type = "tmpfs", Destination = d, Options = "mode=1777" });

    public void Apply(RuntimeSpec spec)
    {
        var process = spec.Process!;
        if (ShmSizeBytes is { } shm)
            foreach (var m in spec.Mounts ?? [])
                if (m.Destination == "/dev/shm")
                    m.Options = [.. (m.Options ?? []).Where(o => !o.StartsWith("size=", StringComparison.Ordinal)), "size=" + (shm / 1024) + "k"];
        if (Rlimits.Count > 0)
            process.Rlimits = [.. (process.Rlimits ?? []).Where(r => !Rlimits.Any(u => u.Type == r.Type)), .. Rlimits];
        if (Groups.Count > 0)
            process.User.AdditionalGids = [.. (process.User.AdditionalGids ?? []).Union(Groups)];
        if (Sysctls.Count > 0)
        {
            spec.Linux ??= new RuntimeLinux();
            spec.Linux.Sysctl = new Dictionary<string, string>(Sysctls, StringComparer.Ordinal);
        }
        if (Init)
            spec.Annotations = new Dictionary<string, string>(spec.Annotations ?? [], StringComparer.Ordinal) { [RuntimeDefaults.InitAnnotation] = "true" };
    }
}
