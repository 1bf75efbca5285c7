using System.Text.Json;
using Containers.Core.Cgroups;
using Containers.Core.Configuration;
using Containers.Core.Diagnostics;
using Containers.Core.Errors;
using Containers.Core.Networking;
using Containers.Core.Networking.Rootless;
using Containers.Core.Runtime.Plan;
using Containers.Core.Volumes;

namespace Containers.Core.Runtime;

/// <summary>Validates New-Container's options against the image and writes the container's record and bundle.</summary>
internal sealed class ContainerCreator(ContainerStore store, ContainerPaths paths, IdMapSource idMaps, ContainerNetworking networking)
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<ContainerCreator>();
    private readonly VolumeStore volumes = new(paths);

    public static readonly string[] NetworkModes = ["none", "host", "private"];

    public Task<ContainerRecord> CreateAsync(ContainerCreateOptions o, RuntimeImage image, CancellationToken ct) => CreateAsync(o, image, null, ct);

    /// <summary>With <paramref name="pod"/>, the container joins that pod (the caller holds the pod store's lock); a pod's
    /// infra container comes with <see cref="ContainerCreateOptions.PodInfra"/> instead.</summary>
    public async Task<ContainerRecord> CreateAsync(ContainerCreateOptions o, RuntimeImage image, PodMembership? pod, CancellationToken ct)
    {
        pod?.CheckJoining(o);
        bool sharedNet = pod?.Shares("net") == true, sharedUts = pod?.Shares("uts") == true;
        // A container sharing a pod's network has the pod's extra hosts and DNS servers (its /etc files are made like the infra's).
        IReadOnlyList<string> addHost = sharedNet ? pod!.AddHost : o.AddHost, dns = sharedNet ? pod!.Dns : o.Dns;
        string network = sharedNet ? "container:" + pod!.InfraName : NetworkMode(o.Network);
        IReadOnlyList<string> exposed = [.. image.Config?.ExposedPorts?.Keys ?? []];
        var networkSettings = networking.Plan(o, network, exposed);
        if (o.Name is not null && !NameGenerator.IsValidName(o.Name))
            throw new ContainersException("InvalidContainerName", ErrorKind.InvalidArgument,
                $"'{o.Name}' is not a valid container name: use letters, digits, '_', '.' and '-', starting with a letter or digit.", o.Name);
        var limits = CgroupLimits.Build(o.MemoryBytes, o.Cpus, o.CpuQuota, o.CpuPeriod, o.CpuShares, o.PidsLimit);
        var devices = DeviceGrants.ParseAll(o.Devices);
        var capAdd = o.Security.CapAdd(o.CapAdd);
        var caps = BundleBuilder.Capabilities(capAdd, o.CapDrop); // unknown names fail before anything is written
        var user = ImageUsers.Resolve(o.User ?? image.Config?.User, image.LayerDirectories, $"image {o.Image}");
        var command = CommandLine(o, image);
        var mounts = Mounts(o);
        ulong openFilesHardLimit = BundleBuilder.OpenFilesHardLimit();
        var run = o.Run.Resolve(network, image.LayerDirectories, $"image {o.Image}", openFilesHardLimit);
        mounts.AddRange(run.TmpfsMounts(o.ReadOnlyRootfs, mounts));
        var maps = paths.Rootless ? idMaps.For(user.Uid, user.Gid) : null;
        foreach (string h in addHost) HostsFiles.ParseAddHost(h);
        if (network.StartsWith("container:", StringComparison.Ordinal) && store.Find(network[10..]) is null)
            throw new ContainersException("ContainerNotFound", ErrorKind.NotFound, $"-Network {network}: there is no container '{network[10..]}'.", network[10..]);
        int maxRestarts = ServiceOptions.MaxRestarts(o);
        var healthcheck = ServiceOptions.Healthcheck(o, image.Config?.Healthcheck);

        using var storeLock = await store.LockStoreAsync(ct).ConfigureAwait(false);
        // Names through the store's name index (no record but the one named is read); the link is made before anything else.
        store.EnsureNameIndex();
        if (o.Name is not null && store.NameTaken(o.Name))
            throw new ContainersException("ContainerNameInUse", ErrorKind.AlreadyExists,
                $"The name '{o.Name}' is already used by another container.", o.Name, "Choose another -Name or remove the other container.");
        var createdVolumes = new List<string>();
        string id;
        do id = NameGenerator.NewId(); while (Directory.Exists(store.Dir(id)));
        string name = o.Name ?? NameGenerator.NewName(store.NameTaken);
        string hostname = sharedUts ? pod!.Hostname : string.IsNullOrEmpty(o.Hostname) ? id[..12] : o.Hostname;
        var member = pod ?? o.PodInfra;

        var record = new ContainerRecord
        {
            Id = id,
            Name = name,
            Image = o.Image,
            ImageId = image.Id,
            Created = DateTimeOffset.UtcNow,
            Command = command,
            Env = Environment(o, image, user, hostname),
            WorkingDir = NonEmpty(o.WorkingDir) ?? NonEmpty(image.Config?.WorkingDir) ?? "/",
            User = o.User ?? image.Config?.User,
            Uid = user.Uid,
            Gid = user.Gid,
            Hostname = hostname,
            Labels = new Dictionary<string, string>(o.Labels),
            Mounts = mounts,
            Resources = new ContainerResources
            {
                MemoryBytes = limits?.Memory?.Limit,
                CpuQuota = limits?.Cpu?.Quota,
                CpuPeriod = limits?.Cpu?.Period,
                CpuShares = limits?.Cpu?.Shares,
                PidsLimit = limits?.Pids?.Limit,
                Devices = devices.Count > 0 ? devices : null,
                AllDevices = o.Security.Privileged,
            },
            Network = network,
            NetworkSettings = networkSettings,
            RootlessPublish = RootlessNetworkMode.IsRootlessMode(network) && ContainerNetworking.PublishSpecs(o, exposed) is { Count: > 0 } published ? published : null,
            Rootless = paths.Rootless,
            ReadOnlyRootfs = o.ReadOnlyRootfs,
            Tty = o.Tty,
            Interactive = o.Interactive,
            StopSignal = run.StopSignal ?? Signals.Parse(image.Config?.StopSignal) ?? Native.Processes.SIGTERM,
            LayerDirectories = [.. image.LayerDirectories],
            RestartPolicy = o.RestartPolicy,
            MaxRestarts = maxRestarts,
            Healthcheck = healthcheck,
            Definition = o,
            PodId = member?.PodId,
            PodName = member?.PodName,
            PodInfra = o.PodInfra is not null,
            PodShare = pod is null ? null : [.. pod.Share],
        };
        if (!record.WorkingDir.StartsWith('/'))
            throw new ContainersException("InvalidWorkingDirectory", ErrorKind.InvalidArgument, $"The working directory '{record.WorkingDir}' is not absolute.", record.WorkingDir);

        string dir = store.Dir(id);
        store.ClaimName(name, id);
        try
        {
            await PrepareVolumesAsync(mounts, image, (user.Uid, user.Gid), createdVolumes, ct).ConfigureAwait(false);
            store.CreateDir(id);
            Directory.CreateDirectory(store.UpperDir(id));
            Directory.CreateDirectory(store.WorkDir(id));
            Directory.CreateDirectory(Path.Combine(store.BundleDir(id), "rootfs"));
            if (!o.NoHosts)
            {
                string hosts = Path.Combine(dir, "hosts");
                FileSystem.SmallFile.Write(hosts, HostsFiles.Hosts(hostname, network, addHost));
                record.GeneratedFiles.Add(hosts);
            }
            string hostnameFile = Path.Combine(dir, "hostname");
            FileSystem.SmallFile.Write(hostnameFile, hostname + "\n");
            record.GeneratedFiles.Add(hostnameFile);
            string resolv = Path.Combine(dir, "resolv.conf");
            FileSystem.SmallFile.Write(resolv, HostsFiles.ResolvConf(dns, network));
            record.GeneratedFiles.Add(resolv);
            // A user mount at one of these destinations covers the generated file: its target stays the image's business.
            record.EtcMountPoints = MountPointsLayer.FindEtc(record.LayerDirectories,
                record.GeneratedFiles.Where(f => !mounts.Any(m => m.Destination.TrimEnd('/') == "/etc/" + Path.GetFileName(f))));
            var spec = BundleBuilder.Build(record, user.AdditionalGids, capAdd, o.CapDrop, maps, openFilesHardLimit);
            if (networkSettings is not null) BundleBuilder.JoinNetworkNamespace(spec, networking.NetnsPath(id));
            o.Security.Apply(spec, caps);
            run.Apply(spec);
            PodSpec(spec, o, sharedUts);
            // Nothing here is fsynced: the record, written last, makes the container exist. A power loss within seconds
            // of New-Container can forget the container (no record, or an empty one, which listings skip) or, at worst,
            // leave a listed container whose start fails with a bundle error (remove it and create it again); crun and
            // runc keep no durable record at all. The record's fsync (and its directory's) cost 6 to 10 ms of every
            // create + start + wait + remove on this host's ext4.
            ContainerStore.AtomicWrite(store.SpecPath(id),
                JsonSerializer.SerializeToUtf8Bytes(spec, PlanJsonContext.Default.RuntimeSpec), durable: false);
            store.Write(record, durable: false);
        }
        catch
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
            store.Names.Unlink(name, id);
            foreach (string v in createdVolumes)
                try { volumes.Delete(v); } catch (IOException) { }
            throw;
        }
        Log.Information("Created container {Name} ({Id}) from {Image}", name, id[..12], o.Image);
        Events.EventLog.Container(paths.DataDir, "create", id, name, o.Image);
        return record;
    }

    /// <summary>
    /// none, host, private, container:NAME, or CNI network names. Nothing given: containers.conf's default_network for
    /// root when it is configured, else the default bridge network (<see cref="DefaultNetwork"/>, made on first use; private
    /// with a warning when the bridge plugin is missing). Rootless:
    /// pasta or slirp4netns (with options) too, and nothing given means containers.conf's default_rootless_network_cmd,
    /// else the installed helper (<see cref="RootlessNetworkPlanner.DefaultNetwork"/>), checked before anything is written.
    /// </summary>
    private string NetworkMode(string? given)
    {
        var conf = ContainersConf.Read(paths.ContainersConfFiles);
        string? mode = NonEmpty(given?.Trim()) ?? (paths.Rootless ? null : conf.DefaultNetwork);
        if (paths.Rootless && (mode is null || RootlessNetworkMode.IsRootlessMode(mode)))
        {
            var planner = new RootlessNetworkPlanner(conf);
            mode ??= planner.DefaultNetwork();
            if (RootlessNetworkMode.IsRootlessMode(mode)) planner.Validate(mode, []);
            return mode;
        }
        if (mode is not null && RootlessNetworkMode.IsRootlessMode(mode))
            throw new ContainersException("NetworkModeNeedsRootless", ErrorKind.InvalidArgument,
                $"-Network {mode} is user-mode networking for rootless containers; root containers use CNI networks, none, host or private.", mode);
        mode ??= DefaultNetwork.ForRoot(conf, networking.Networks.Plugins, warn: true);
        if (mode.StartsWith("container:", StringComparison.Ordinal) && mode.Length > 10) return mode;
        if (mode.Split(',').Any(n => NetworkModes.Contains(n.Trim())) && !NetworkModes.Contains(mode))
            throw new ContainersException("InvalidNetworkMode", ErrorKind.InvalidArgument,
                $"'{mode}': none, host and private cannot be combined with other networks.", mode);
        if (!NetworkModes.Contains(mode) && mode.Split(',').Any(n => !NetworkStore.NameRule(n.Trim())))
            throw new ContainersException("InvalidNetworkMode", ErrorKind.InvalidArgument,
                $"'{mode}' is not a network mode; use none, host, private, container:NAME or network names.", mode);
        return mode;
    }

    /// <summary>
    /// Makes the named volumes that do not exist yet (remembered, so a failed create removes them again) and copies the
    /// image's content into each new one. Runs under the container store's lock, which Remove-ContainerVolume takes too.
    /// </summary>
    /// <param name="user">The container's user: an empty new volume becomes theirs (root only: rootless, the volume is
    /// already root's inside, and this user cannot give it to a subordinate id).</param>
    private async Task PrepareVolumesAsync(List<ContainerMount> mounts, RuntimeImage image, (uint Uid, uint Gid) user, List<string> createdVolumes, CancellationToken ct)
    {
        foreach (var m in mounts.Where(m => m.Type == VolumeSpec.VolumeType))
        {
            string name = m.Volume!;
            volumes.GetOrCreate(name, out bool created);
            if (created) createdVolumes.Add(name);
            m.Source = volumes.DataPath(name);
            if (m.Options != VolumeSpec.NoCopy)
                await volumes.CopyUpAsync(name, image.LayerDirectories, m.Destination, paths.Rootless, paths.Rootless ? null : user, ct).ConfigureAwait(false);
            m.Options = null;
        }
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>A pod's infra pauses instead of running a command; a container sharing the pod's UTS namespace gets its
    /// hostname from the pod (joined at start), so its bundle sets none.</summary>
    private static void PodSpec(RuntimeSpec spec, ContainerCreateOptions o, bool sharedUts)
    {
        if (o.PodInfra is not null)
            spec.Annotations = new Dictionary<string, string>(spec.Annotations ?? [], StringComparer.Ordinal) { [RuntimeDefaults.PodInfraAnnotation] = "true" };
        if (sharedUts) spec.Hostname = null;
    }

    private static List<string> CommandLine(ContainerCreateOptions o, RuntimeImage image)
    {
        IReadOnlyList<string> entrypoint = o.Entrypoint ?? image.Config?.Entrypoint ?? [];
        IReadOnlyList<string> cmd = o.Command ?? (o.Entrypoint is not null ? [] : image.Config?.Cmd ?? []);
        var argv = entrypoint.Concat(cmd).ToList();
        if (argv.Count == 0 || argv[0].Length == 0)
            throw new ContainersException("NoCommand", ErrorKind.InvalidArgument,
                $"The image '{o.Image}' has no entrypoint or command and none was given.", o.Image, "Give -Command.");
        return argv;
    }

    private static List<string> Environment(ContainerCreateOptions o, RuntimeImage image, ResolvedUser user, string hostname)
    {
        var env = new List<KeyValuePair<string, string>>();
        void Set(string key, string value)
        {
            int i = env.FindIndex(kv => kv.Key == key);
            if (i >= 0) env[i] = new(key, value); else env.Add(new(key, value));
        }
        foreach (string kv in image.Config?.Env ?? [])
        {
            int eq = kv.IndexOf('=');
            if (eq > 0) Set(kv[..eq], kv[(eq + 1)..]);
        }
        if (!env.Any(kv => kv.Key == "PATH")) Set("PATH", RuntimeDefaults.Path[5..]);
        if (o.Tty && !env.Any(kv => kv.Key == "TERM")) Set("TERM", "xterm");
        Set("container", "pscontainers");
        Set("HOSTNAME", hostname);
        if (!env.Any(kv => kv.Key == "HOME")) Set("HOME", user.Home);
        foreach (var (key, value) in o.Env)
        {
            if (key.Length == 0 || key.Contains('='))
                throw new ContainersException("InvalidEnvironmentVariable", ErrorKind.InvalidArgument, $"'{key}' is not a valid environment variable name.", key);
            if (value is null) env.RemoveAll(kv => kv.Key == key);
            else Set(key, value);
        }
        return env.Select(kv => kv.Key + "=" + kv.Value).ToList();
    }

    private static List<ContainerMount> Mounts(ContainerCreateOptions o)
    {
        var mounts = new List<ContainerMount>();
        foreach (string v in o.Volumes) mounts.Add(VolumeSpec.Parse(v));
        foreach (string t in o.Tmpfs)
        {
            int colon = t.IndexOf(':');
            string dest = colon < 0 ? t : t[..colon];
            if (!dest.StartsWith('/'))
                throw new ContainersException("InvalidTmpfs", ErrorKind.InvalidArgument, $"The tmpfs destination '{dest}' is not absolute.", t);
            mounts.Add(new ContainerMount { Type = "tmpfs", Destination = dest, Options = colon < 0 ? "mode=1777" : t[(colon + 1)..] });
        }
        foreach (string s in o.Secrets)
        {
            string source = Path.GetFullPath(s);
            if (!File.Exists(source) && !Directory.Exists(source))
                throw new ContainersException("SecretNotFound", ErrorKind.NotFound, $"The secret '{source}' does not exist.", source);
            mounts.Add(new ContainerMount { Type = "secret", Source = source, Destination = "/run/secrets/" + Path.GetFileName(source.TrimEnd('/')), ReadOnly = true });
        }
        var dup = mounts.GroupBy(m => m.Destination).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null)
            throw new ContainersException("DuplicateMountDestination", ErrorKind.InvalidArgument, $"Two mounts target '{dup.Key}'.", dup.Key);
        return mounts;
    }
}

/// <summary>Signal names and numbers (x86_64).</summary>
internal static class Signals
{
    private static readonly Dictionary<string, int> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["HUP"] = 1, ["INT"] = 2, ["QUIT"] = 3, ["ILL"] = 4, ["TRAP"] = 5, ["ABRT"] = 6, ["BUS"] = 7, ["FPE"] = 8, ["KILL"] = 9,
        ["USR1"] = 10, ["SEGV"] = 11, ["USR2"] = 12, ["PIPE"] = 13, ["ALRM"] = 14, ["TERM"] = 15, ["STKFLT"] = 16, ["CHLD"] = 17,
        ["CONT"] = 18, ["STOP"] = 19, ["TSTP"] = 20, ["TTIN"] = 21, ["TTOU"] = 22, ["URG"] = 23, ["XCPU"] = 24, ["XFSZ"] = 25,
        ["VTALRM"] = 26, ["PROF"] = 27, ["WINCH"] = 28, ["IO"] = 29, ["PWR"] = 30, ["SYS"] = 31,
    };

    /// <summary>SIGTERM for 15; the number for a signal without a name (real-time signals).</summary>
    public static string Name(int signal) => ByName.FirstOrDefault(kv => kv.Value == signal).Key is { } n ? "SIG" + n : signal.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses <c>SIGTERM</c>, <c>TERM</c> or <c>15</c>; null for null/empty; throws InvalidSignal otherwise.</summary>
    public static int? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        string t = text.Trim();
        if (int.TryParse(t, out int n) && n is > 0 and < 65) return n;
        if (t.StartsWith("SIG", StringComparison.OrdinalIgnoreCase)) t = t[3..];
        if (ByName.TryGetValue(t, out n)) return n;
        throw new ContainersException("InvalidSignal", ErrorKind.InvalidArgument, $"'{text}' is not a signal.", text);
    }
}

/// <summary>The user namespace mappings for a rootless container: subordinate ranges through newuidmap, else the single own id.</summary>
internal class IdMapSource
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.For<IdMapSource>();
    public string SubUidFile { get; init; } = "/etc/subuid";
    public string SubGidFile { get; init; } = "/etc/subgid";
    public uint Uid { get; init; } = Native.Identity.EffectiveUserId;
    public uint Gid { get; init; } = Native.Identity.EffectiveGroupId;
    // Looked up when first needed (rootless maps only): .NET reads the passwd database at every Environment.UserName.
    private string? _userName;
    public string UserName { get => _userName ??= System.Environment.UserName; init => _userName = value; }

    public virtual BundleBuilder.IdMaps For(uint containerUid, uint containerGid)
    {
        var subUids = SubordinateIds.Read(SubUidFile, UserName, Uid);
        var subGids = SubordinateIds.Read(SubGidFile, UserName, Uid);
        if (subUids.Count > 0 && subGids.Count > 0)
        {
            static List<LinuxIdMapping> Ranges(uint own, IReadOnlyList<IdRange> ranges)
            {
                var list = new List<LinuxIdMapping> { new() { ContainerId = 0, HostId = own, Size = 1 } };
                uint next = 1;
                foreach (var r in ranges) { list.Add(new() { ContainerId = next, HostId = r.Start, Size = r.Count }); next += r.Count; }
                return list;
            }
            return new BundleBuilder.IdMaps(Ranges(Uid, subUids), Ranges(Gid, subGids), UsesHelpers: true);
        }
        Log.Warning("User {User} has no subordinate id ranges in {SubUid}/{SubGid}: the container maps only your own id (root inside is you outside); other users and groups inside the container are unavailable",
            UserName, SubUidFile, SubGidFile);
        if (containerUid != 0 || containerGid != 0)
            throw new ContainersException("UserNotMapped", ErrorKind.InvalidArgument,
                $"The container user {containerUid}:{containerGid} cannot be mapped: without subordinate id ranges only root (your own id) exists inside.",
                $"{containerUid}:{containerGid}", "Ask the administrator for ranges in /etc/subuid and /etc/subgid, or run as root inside (-User 0).");
        return new BundleBuilder.IdMaps([new() { ContainerId = 0, HostId = Uid, Size = 1 }], [new() { ContainerId = 0, HostId = Gid, Size = 1 }], UsesHelpers: false);
    }
}
