using System.Globalization;
using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>Turns a container record into the OCI runtime-spec config.json of its bundle.</summary>
internal static class BundleBuilder
{
    public const string AnnotationPrefix = "io.pscontainers.";

    /// <summary>Id mappings of the user namespace (rootless only).</summary>
    public sealed record IdMaps(List<LinuxIdMapping> Uid, List<LinuxIdMapping> Gid, bool UsesHelpers);

    public static RuntimeSpec Build(ContainerRecord r, IReadOnlyList<uint> additionalGids, IReadOnlyList<string> capAdd, IReadOnlyList<string> capDrop,
        IdMaps? maps, ulong nofileHardLimit)
    {
        var caps = Capabilities(capAdd, capDrop);
        var mounts = RuntimeDefaults.Mounts(r.Rootless);
        foreach (string generated in r.GeneratedFiles)
            mounts.Add(new RuntimeMount
            {
                Destination = "/etc/" + Path.GetFileName(generated), Type = "bind", Source = generated,
                Options = ["rbind", "rprivate", "nosuid", "nodev", "noexec"],
            });
        foreach (var m in r.Mounts)
        {
            mounts.Add(m.Type switch
            {
                "tmpfs" => new RuntimeMount
                {
                    Destination = m.Destination, Type = "tmpfs", Source = "tmpfs",
                    Options = ["nosuid", "nodev", .. (m.Options ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries), .. (m.ReadOnly ? (string[])["ro"] : [])],
                },
                _ => new RuntimeMount
                {
                    Destination = m.Destination, Type = "bind", Source = m.Source,
                    Options = ["rbind", "rprivate", m.ReadOnly ? "ro" : "rw", .. (m.Type == "secret" ? (string[])["nosuid", "nodev", "noexec"] : [])],
                },
            });
        }
        // A user namespace cannot mknod: a rootless container gets the host's node bound instead (as podman does).
        if (r.Rootless)
            foreach (var d in r.Resources.Devices ?? [])
                mounts.Add(new RuntimeMount { Destination = d.Path, Type = "bind", Source = d.HostPath, Options = ["bind", "rprivate", "nosuid", "noexec"] });

        var namespaces = new List<LinuxNamespace> { new() { Type = "pid" }, new() { Type = "mount" }, new() { Type = "ipc" }, new() { Type = "uts" }, new() { Type = "cgroup" } };
        if (r.Network != "host") namespaces.Add(new LinuxNamespace { Type = "network" });
        if (maps is not null) namespaces.Add(new LinuxNamespace { Type = "user" });

        var annotations = new Dictionary<string, string>(r.Labels, StringComparer.Ordinal)
        {
            [AnnotationPrefix + "name"] = r.Name,
            [AnnotationPrefix + "image"] = r.Image,
            [AnnotationPrefix + "image-id"] = r.ImageId,
        };

        ulong nofile = Math.Min(RuntimeDefaults.MaxOpenFiles, nofileHardLimit);
        return new RuntimeSpec
        {
            Process = new RuntimeProcess
            {
                Terminal = r.Tty,
                User = new RuntimeUser { Uid = r.Uid, Gid = r.Gid, AdditionalGids = additionalGids.Count > 0 ? [.. additionalGids] : null },
                Args = [.. r.Command],
                Env = [.. r.Env],
                Cwd = r.WorkingDir,
                Capabilities = LinuxCapabilities.For(r.Uid, caps),
                Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Hard = nofile, Soft = nofile }],
                NoNewPrivileges = true,
            },
            Root = new RuntimeRoot { Path = "rootfs", Readonly = r.ReadOnlyRootfs },
            Hostname = r.Hostname,
            Mounts = mounts,
            Annotations = annotations,
            Linux = new RuntimeLinux
            {
                Namespaces = namespaces,
                UidMappings = maps?.Uid,
                GidMappings = maps?.Gid,
                Resources = WithDeviceRules(ToLinux(r.Resources)),
                Devices = r.Rootless ? null : r.Resources.Devices?.Select(DeviceGrants.Node).ToList(),
                CgroupsPath = "pscontainers/" + r.Id,
                MaskedPaths = RuntimeDefaults.MaskedPaths(),
                ReadonlyPaths = RuntimeDefaults.ReadonlyPaths(),
                Seccomp = RuntimeDefaults.Seccomp(caps),
                RootfsPropagation = "rprivate",
            },
        };
    }

    /// <summary>The container joins an existing network namespace (made by CNI setup, or another container's) instead of a new one.</summary>
    public static void JoinNetworkNamespace(RuntimeSpec spec, string path) => JoinNamespace(spec, "network", path);

    /// <summary>The container joins an existing namespace of that type (a pod's, by its infra's /proc/PID/ns file).</summary>
    public static void JoinNamespace(RuntimeSpec spec, string type, string path)
    {
        var ns = spec.Linux?.Namespaces?.FirstOrDefault(n => n.Type == type);
        if (ns is not null) ns.Path = path;
    }

    /// <summary>The default set with additions and removals (<c>ALL</c> allowed in either); names with or without the CAP_ prefix.</summary>
    public static List<string> Capabilities(IReadOnlyList<string> add, IReadOnlyList<string> drop)
    {
        var set = new SortedSet<string>(RuntimeDefaults.Capabilities(), StringComparer.Ordinal);
        foreach (string a in add)
        {
            string n = Normalize(a);
            if (n == "CAP_ALL") set.UnionWith(CapabilityTable.Names);
            else set.Add(n);
        }
        foreach (string d in drop)
        {
            string n = Normalize(d);
            if (n == "CAP_ALL") set.Clear();
            else set.Remove(n);
        }
        return [.. set];
    }

    private static string Normalize(string name)
    {
        string n = name.Trim().ToUpperInvariant();
        if (!n.StartsWith("CAP_", StringComparison.Ordinal)) n = "CAP_" + n;
        if (n != "CAP_ALL" && CapabilityTable.Number(n) < 0)
            throw new ContainersException("UnknownCapability", ErrorKind.InvalidArgument, $"'{name}' is not a Linux capability.", name,
                "Use names such as NET_ADMIN or CAP_SYS_PTRACE.");
        return n;
    }

    public static LinuxResources? ToLinux(ContainerResources r)
    {
        var res = new LinuxResources();
        if (r.MemoryBytes is { } m) res.Memory = new LinuxMemory { Limit = m, Swap = m };
        if (r.CpuQuota is not null || r.CpuShares is not null)
            res.Cpu = new LinuxCpu { Quota = r.CpuQuota, Period = r.CpuQuota is null ? null : r.CpuPeriod ?? Cgroups.CgroupLimits.DefaultPeriod, Shares = r.CpuShares };
        if (r.PidsLimit is { } p) res.Pids = new LinuxPids { Limit = p };
        if (r.Devices is { Count: > 0 } d) res.Devices = Cgroups.DeviceRules.WithGrants(d.Select(DeviceGrants.Rule));
        if (r.AllDevices) res.Devices = [new LinuxDeviceCgroup { Allow = true, Access = "rwm" }];
        return res.Memory is null && res.Cpu is null && res.Pids is null && res.Devices is null ? null : res;
    }

    /// <summary>config.json always spells out its device rules (deny all, the standard allow-list, the grants), so runc and crun apply the same.</summary>
    private static LinuxResources WithDeviceRules(LinuxResources? res)
    {
        res ??= new LinuxResources();
        res.Devices ??= [.. Cgroups.DeviceRules.Default];
        return res;
    }

    /// <summary>The hard RLIMIT_NOFILE of this process, from /proc/self/limits (root here cannot raise it).</summary>
    public static ulong OpenFilesHardLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    string[] p = line[14..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (p.Length >= 2 && ulong.TryParse(p[1], CultureInfo.InvariantCulture, out ulong hard)) return hard;
                }
        }
        catch (IOException) { }
        return 1024;
    }
}
