using System.Globalization;
using System.Text;
using Containers.Core.Runtime.Plan;
using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>Turns the bundle's config.json and the launch plan into a <see cref="ChildSpec"/> (all checks that can be made before clone happen here).</summary>
internal static unsafe class Preparer
{
    /// <summary>A plan or bundle the launcher refuses; the message names the offending item.</summary>
    public sealed class PlanException(string errorId, string message) : Exception(message)
    {
        public string ErrorId { get; } = errorId;
    }

    public static ulong CloneFlags(RuntimeSpec spec, out bool userNamespace)
    {
        ulong flags = 0;
        userNamespace = false;
        foreach (var ns in spec.Linux?.Namespaces ?? [])
        {
            // A network namespace made beforehand (CNI configured it) and a pod's IPC and UTS namespaces are joined by the
            // child; no other kind can be.
            if (ns.Type is "network" or "ipc" or "uts" && ns.Path is { Length: > 0 }) continue;
            if (ns.Path is { Length: > 0 }) throw new PlanException("NamespacePathUnsupported", $"joining an existing {ns.Type} namespace ({ns.Path}) is not supported");
            flags |= ns.Type switch
            {
                "user" => CLONE_NEWUSER,
                "mount" => CLONE_NEWNS,
                "pid" => CLONE_NEWPID,
                "uts" => CLONE_NEWUTS,
                "ipc" => CLONE_NEWIPC,
                "network" => CLONE_NEWNET,
                "cgroup" => CLONE_NEWCGROUP,
                _ => throw new PlanException("UnknownNamespace", $"unknown namespace type '{ns.Type}'"),
            };
            if (ns.Type == "user") userNamespace = true;
        }
        if ((flags & CLONE_NEWNS) == 0) throw new PlanException("MountNamespaceRequired", "the bundle must ask for a mount namespace");
        return flags;
    }

    /// <summary>The network namespace file to join (a bind-mounted nsfs file or /proc/PID/ns/net), or null.</summary>
    public static string? NetworkNamespacePath(RuntimeSpec spec) => JoinedNamespacePath(spec, "network");

    /// <summary>The namespace of that type the bundle joins (linux.namespaces[type].path), or null.</summary>
    public static string? JoinedNamespacePath(RuntimeSpec spec, string type) =>
        spec.Linux?.Namespaces?.FirstOrDefault(ns => ns.Type == type && ns.Path is { Length: > 0 })?.Path;

    public static ChildSpec Prepare(LaunchPlan plan, RuntimeSpec spec, bool userNamespace)
    {
        var p = spec.Process ?? throw new PlanException("NoProcess", "config.json has no process");
        if (p.Args.Count == 0) throw new PlanException("NoCommand", "config.json has no process.args");
        string rootfs = Path.GetFullPath(Path.Combine(plan.BundleDir, spec.Root?.Path ?? "rootfs"));
        if (!Directory.Exists(rootfs)) throw new PlanException("RootfsMissing", $"root.path {rootfs} does not exist");

        var s = new ChildSpec
        {
            UserNamespace = userNamespace,
            Slash = NativeString.Of("/"),
            Dot = NativeString.Of("."),
            Empty = NativeString.Of(""),
            DevNull = NativeString.Of("/dev/null"),
            Overlay = NativeString.Of("overlay"),
            Tmpfs = NativeString.Of("tmpfs"),
            Bind = NativeString.Of("bind"),
            KeyReadonly = NativeString.Of("ro"),
            Rootfs = NativeString.Of(rootfs),
            LastCap = ReadLastCap(),
        };
        s.RootPropagation = spec.Linux?.RootfsPropagation switch
        {
            null or "" => 0,
            var name => MountOptions.Parse(new RuntimeMount { Options = [name] }).Propagation is var prop and not 0
                ? prop : throw new PlanException("BadPropagation", $"unknown rootfsPropagation '{name}'"),
        };

        if (plan.Rootfs is { } layers)
        {
            if (layers.LowerDirs.Count == 0) throw new PlanException("NoLayers", "the plan's rootfs has no lower directories");
            if ((layers.UpperDir is null) != (layers.WorkDir is null)) throw new PlanException("BadLayers", "upperDir and workDir go together");
            var topFirst = Enumerable.Reverse(MountPoints.Lowers(layers, spec)).ToList();
            s.LowerTopFirst = NativeString.Array(topFirst);
            s.LowerCount = topFirst.Count;
            s.UpperDir = NativeString.Of(layers.UpperDir);
            s.WorkDir = NativeString.Of(layers.WorkDir);
            string data = "lowerdir=" + string.Join(':', topFirst) + (layers.UpperDir is null ? "" : $",upperdir={layers.UpperDir},workdir={layers.WorkDir}");
            if (data.Length < 4000)
            {
                s.OverlayData = NativeString.Of(data);
                s.OverlayDataUserXattr = NativeString.Of(data + ",userxattr");
            }
            s.KeyLowerPlus = NativeString.Of("lowerdir+");
            s.KeyUpper = NativeString.Of("upperdir");
            s.KeyWork = NativeString.Of("workdir");
            s.KeyUserXattr = NativeString.Of("userxattr");
        }

        PrepareMounts(s, spec, userNamespace, plan.CgroupProcsFiles);
        s.MaskedPaths = Pointers(spec.Linux?.MaskedPaths ?? []);
        s.ReadonlyPaths = Pointers(spec.Linux?.ReadonlyPaths ?? []);
        s.RootReadonly = spec.Root?.Readonly ?? false;
        s.Sysctls = (spec.Linux?.Sysctl ?? []).Select(kv =>
        {
            byte[] value = Encoding.UTF8.GetBytes(kv.Value);
            return new SysctlOp { Path = NativeString.Of("/proc/sys/" + kv.Key.Replace('.', '/')), Value = NativeString.Bytes(value), Length = value.Length };
        }).ToArray();
        if (spec.Hostname is { Length: > 0 } host)
        {
            s.Hostname = NativeString.Of(host);
            s.HostnameLength = Encoding.UTF8.GetByteCount(host);
        }
        PrepareProcess(s, p, spec.Linux?.Seccomp);
        s.InitReaper = spec.Annotations?.GetValueOrDefault(RuntimeDefaults.InitAnnotation) == "true";
        s.Pause = spec.Annotations?.GetValueOrDefault(RuntimeDefaults.PodInfraAnnotation) == "true";
        return s;
    }

    /// <summary>The process part, shared by run and exec: rlimits, capabilities, user, cwd, seccomp, command candidates, argv, envp.</summary>
    public static void PrepareProcess(ChildSpec s, RuntimeProcess p, LinuxSeccomp? seccompProfile)
    {
        if (p.Args.Count == 0) throw new PlanException("NoCommand", "the process has no args");
        if (s.LastCap == 0) s.LastCap = ReadLastCap();
        s.Rlimits = (p.Rlimits ?? []).Select(r => new RlimitOp
        {
            Resource = RlimitNumber(r.Type),
            Soft = r.Soft,
            Hard = r.Hard,
        }).ToArray();
        if (p.OomScoreAdj is int adj)
        {
            byte[] value = Encoding.ASCII.GetBytes(adj.ToString(CultureInfo.InvariantCulture));
            s.OomScoreAdjPath = NativeString.Of("/proc/self/oom_score_adj");
            s.OomScoreAdj = NativeString.Bytes(value);
            s.OomScoreAdjLength = value.Length;
        }

        if (p.Capabilities is { } caps)
        {
            foreach (var list in new[] { caps.Bounding, caps.Effective, caps.Permitted, caps.Inheritable, caps.Ambient })
                foreach (string name in list ?? [])
                    if (CapabilityTable.Number(name) < 0) throw new PlanException("UnknownCapability", $"unknown capability '{name}'");
            s.SetCapabilities = true;
            ulong known = s.LastCap >= 63 ? ulong.MaxValue : (1UL << (s.LastCap + 1)) - 1;
            s.Bounding = CapabilityTable.Mask(caps.Bounding) & known;
            s.Effective = CapabilityTable.Mask(caps.Effective) & known;
            s.Permitted = CapabilityTable.Mask(caps.Permitted) & known;
            s.Inheritable = CapabilityTable.Mask(caps.Inheritable) & known;
            s.Ambient = CapabilityTable.Mask(caps.Ambient) & known;
        }
        s.Uid = p.User.Uid;
        s.Gid = p.User.Gid;
        s.Groups = (p.User.AdditionalGids ?? []).ToArray();
        if (p.User.Umask is uint mask) s.Umask = (int)mask;
        s.Cwd = NativeString.Of(p.Cwd is { Length: > 0 } cwd ? cwd : "/");
        s.NoNewPrivileges = p.NoNewPrivileges;
        if (seccompProfile is { } seccomp)
        {
            List<SeccompFilter.Instruction> program;
            try { program = SeccompFilter.Compile(seccomp); }
            catch (ArgumentException e) { throw new PlanException("BadSeccomp", e.Message); }
            s.SeccompProgram = NativeString.Bytes(SeccompFilter.ToBytes(program));
            s.SeccompLength = (ushort)program.Count;
        }

        var env = p.Env ?? [];
        string arg0 = p.Args[0];
        var candidates = new List<string>();
        if (arg0.Contains('/')) candidates.Add(arg0);
        else
        {
            string path = env.LastOrDefault(e => e.StartsWith("PATH=", StringComparison.Ordinal))?[5..] ?? RuntimeDefaults.Path[5..];
            foreach (string dir in path.Split(':'))
                candidates.Add((dir.Length == 0 ? "." : dir).TrimEnd('/') + "/" + arg0);
        }
        s.Candidates = Pointers(candidates);
        s.Argv = NativeString.Array(p.Args);
        s.Envp = NativeString.Array(env);
    }

    private static void PrepareMounts(ChildSpec s, RuntimeSpec spec, bool userNamespace, IReadOnlyList<string> cgroupProcsFiles)
    {
        var mounts = new List<MountOp>();
        bool devTmpfs = false;
        int index = -1, firstCgroup = -1, holder = -1;
        string? holderDest = null;
        foreach (var m in spec.Mounts ?? [])
        {
            if (!m.Destination.StartsWith('/')) throw new PlanException("BadMount", $"mount destination '{m.Destination}' is not absolute");
            if (m.Destination.Split('/').Contains("..")) throw new PlanException("BadMount", $"mount destination '{m.Destination}' contains '..'");
            var o = MountOptions.Parse(m);
            index++;
            if (m.Type == "cgroup" && firstCgroup < 0) firstCgroup = mounts.Count;
            if (m.Type == "cgroup" && CgroupMounts.Expand(m.Destination, o, cgroupProcsFiles) is { } cgroupOps)
            {
                mounts.AddRange(cgroupOps.Select(op => op with { SpecIndex = index }));
                holderDest = null;
                continue;
            }
            string dest = m.Destination.Trim('/');
            bool fileTarget = false;
            if (o.Bind)
            {
                if (m.Source is not { Length: > 0 } src || !Path.IsPathRooted(src)) throw new PlanException("BadMount", $"bind mount to {m.Destination} needs an absolute source");
                if (!File.Exists(src) && !Directory.Exists(src)) throw new PlanException("BindSourceMissing", $"bind mount source {src} does not exist");
                fileTarget = !Directory.Exists(src);
            }
            if (m.Destination == "/dev" && m.Type == "tmpfs") devTmpfs = true;
            string? type = m.Type switch { "cgroup" => "cgroup2", "bind" or "rbind" => null, var t => t };
            // A file system mounted right below a tmpfs this child has just mounted (/dev/pts, /dev/shm, /dev/mqueue under
            // /dev) is made relative to the tmpfs' fd (MountOp.Holder): nothing but what the child made is in it.
            int slash = dest.LastIndexOf('/');
            string name = dest[(slash + 1)..];
            bool inHolder = holderDest != null && type is not null and not "cgroup2" and not "sysfs" && o.Propagation == 0
                && slash > 0 && dest[..slash] == holderDest && name is not ("" or "." or "..");
            if (inHolder) mounts[holder] = mounts[holder] with { Holder = true };
            else holderDest = null;
            mounts.Add(new MountOp
            {
                Source = NativeString.Of(m.Source ?? m.Type ?? "none"),
                Dest = NativeString.Of(dest.Length == 0 ? "." : dest),
                FsType = NativeString.Of(type),
                Data = o.Data.Length > 0 ? NativeString.Of(o.Data) : null,
                Flags = o.Flags & ~MountOptions.MS_REMOUNT,
                Propagation = o.Propagation,
                Bind = o.Bind,
                Recursive = o.Recursive,
                FileTarget = fileTarget,
                SysfsFallback = m.Type == "sysfs" && userNamespace,
                HostSys = NativeString.Of("/sys"),
                Optional = m.Type == "cgroup",
                SpecIndex = index,
                InHolder = inHolder,
                Name = inHolder ? NativeString.Of(name) : null,
            });
            if (!inHolder && type == "tmpfs" && dest.Length > 0) (holder, holderDest) = (mounts.Count - 1, dest);
        }
        s.Mounts = mounts.ToArray();
        // In a user namespace the child waits for its id maps before anything; else it mounts what does not depend on its
        // cgroups while the parent places it in them.
        s.JoinAt = userNamespace ? -1 : firstCgroup >= 0 ? firstCgroup : s.Mounts.Length;

        var devices = new List<DeviceOp>();
        var links = new List<LinkOp>();
        var parents = new Dictionary<string, nint>(StringComparer.Ordinal); // one native string per directory: the child opens it once
        if (devTmpfs)
        {
            foreach (var (name, major, minor) in new[] { ("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0) })
                devices.Add(Device(parents, "/dev/" + name, major, minor, 0x1b6, 0, 0, 'c'));
            foreach (var (link, target) in new[] { ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx"), ("core", "/proc/kcore") })
                links.Add(new LinkOp { Target = NativeString.Of(target), Parent = Parent(parents, "dev"), Name = NativeString.Of(link) });
        }
        foreach (var d in spec.Linux?.Devices ?? [])
        {
            if (!d.Path.StartsWith("/dev/", StringComparison.Ordinal)) throw new PlanException("BadDevice", $"device path {d.Path} is not under /dev");
            devices.Add(Device(parents, d.Path, d.Major, d.Minor, (int)(d.FileMode ?? 0x1b6) & 0xfff, d.Uid ?? 0, d.Gid ?? 0, d.Type.Length > 0 ? d.Type[0] : 'c'));
        }
        s.Devices = devices.ToArray();
        s.Links = links.ToArray();
    }

    private static byte* Parent(Dictionary<string, nint> parents, string dir)
    {
        if (!parents.TryGetValue(dir, out nint p)) parents[dir] = p = (nint)NativeString.Of(dir);
        return (byte*)p;
    }

    private static DeviceOp Device(Dictionary<string, nint> parents, string path, long major, long minor, int perm, uint uid, uint gid, char type)
    {
        int kind = type switch
        {
            'b' => S_IFBLK,
            'p' => S_IFIFO,
            'c' or 'u' => S_IFCHR,
            _ => throw new PlanException("BadDevice", $"device {path} has unknown type '{type}'"),
        };
        ulong maj = (ulong)major, min = (ulong)minor;
        ulong dev = ((maj & 0xfffff000UL) << 32) | ((maj & 0xfffUL) << 8) | ((min & 0xffffff00UL) << 12) | (min & 0xffUL);
        string rel = path.Trim('/');
        int slash = rel.LastIndexOf('/');
        string padded = "/" + rel + "/";
        if (slash <= 0 || padded.Contains("//", StringComparison.Ordinal) || padded.Contains("/./", StringComparison.Ordinal) || padded.Contains("/../", StringComparison.Ordinal)) throw new PlanException("BadDevice", $"device path {path} is not a plain path under /dev");
        return new DeviceOp
        {
            Parent = Parent(parents, rel[..slash]), Name = NativeString.Of(rel[(slash + 1)..]), HostPath = NativeString.Of(path),
            Mode = kind | perm, Dev = dev, Uid = uid, Gid = gid,
        };
    }

    private static byte*[] Pointers(List<string> items)
    {
        var result = new byte*[items.Count];
        for (int i = 0; i < items.Count; i++) result[i] = NativeString.Of(items[i]);
        return result;
    }

    private static int RlimitNumber(string type) => type switch
    {
        "RLIMIT_CPU" => 0,
        "RLIMIT_FSIZE" => 1,
        "RLIMIT_DATA" => 2,
        "RLIMIT_STACK" => 3,
        "RLIMIT_CORE" => 4,
        "RLIMIT_RSS" => 5,
        "RLIMIT_NPROC" => 6,
        "RLIMIT_NOFILE" => 7,
        "RLIMIT_MEMLOCK" => 8,
        "RLIMIT_AS" => 9,
        "RLIMIT_LOCKS" => 10,
        "RLIMIT_SIGPENDING" => 11,
        "RLIMIT_MSGQUEUE" => 12,
        "RLIMIT_NICE" => 13,
        "RLIMIT_RTPRIO" => 14,
        "RLIMIT_RTTIME" => 15,
        _ => throw new PlanException("UnknownRlimit", $"unknown rlimit '{type}'"),
    };

    private static int ReadLastCap()
    {
        Span<byte> text = stackalloc byte[16];
        int n = NativeFile.ReadSmall("/proc/sys/kernel/cap_last_cap", text);
        return n > 0 && int.TryParse(text[..n].TrimEnd((byte)'\n'), NumberStyles.None, CultureInfo.InvariantCulture, out int last) ? last : CapabilityTable.Last;
    }
}
