using System.Globalization;
using Containers.Core.Errors;
using Containers.Core.Logging;
using Containers.Core.Runtime.Plan;
using Serilog;

namespace Containers.Core.Cgroups;

/// <summary>
/// cgroup v1: one directory per controller hierarchy (memory, cpu, cpuacct, cpuset, pids, freezer, blkio,
/// devices), each holding <c>pscontainers/&lt;id&gt;</c>. Hierarchies that are not mounted are skipped.
/// On a hybrid host (a cgroup2 mount beside the v1 hierarchies) the container also joins
/// <c>pscontainers/&lt;id&gt;</c> of the cgroup2 tree, which carries the BPF device program: the same
/// device rules enforced twice, so neither a missing v1 devices hierarchy nor a relaxed one opens devices.
/// </summary>
internal sealed class CgroupV1Manager : ICgroupManager
{
    /// <summary>The controllers a container's cgroup is created in, when mounted (and systemd's named hierarchy, as runc
    /// joins it: a container sees a cgroup of its own there too).</summary>
    public static readonly string[] Controllers = ["memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "blkio", "devices", "name=systemd"];

    private static readonly ILogger Log = ModuleLog.For<CgroupV1Manager>();
    private readonly IReadOnlyDictionary<string, string> _mounts;
    private readonly CgroupFileSystem _fs;
    private readonly string _parent;
    private readonly CgroupV2Manager? _unified;

    /// <param name="controllerMounts">controller name → mount point of its hierarchy.</param>
    /// <param name="parent">The subtree containers live in (relative to each hierarchy's root).</param>
    /// <param name="unifiedRoot">The cgroup2 mount of a hybrid host (device program only), or null.</param>
    public CgroupV1Manager(IReadOnlyDictionary<string, string> controllerMounts, CgroupFileSystem? fs = null, string parent = "pscontainers", string? unifiedRoot = null)
    {
        _mounts = controllerMounts;
        _fs = fs ?? CgroupFileSystem.Real;
        _parent = parent;
        _unified = string.IsNullOrEmpty(unifiedRoot) ? null : new CgroupV2Manager(unifiedRoot, _fs, parent);
    }

    public string Version => "v1";
    public bool Enabled => true;

    private string? Dir(string controller, string id) =>
        _mounts.TryGetValue(controller, out string? root) ? Path.Combine(root, _parent, id) : null;

    private IEnumerable<string> Dirs(string id) =>
        Controllers.Select(c => Dir(c, id)).OfType<string>().Distinct(StringComparer.Ordinal);

    public IReadOnlyList<string> Create(string containerId, LinuxResources? resources)
    {
        var created = new List<string>();
        var devices = DeviceRules.Effective(resources);
        try
        {
            if (!MakeDirs(containerId, created))
            {
                // Left by a start or a monitor that died: their processes and limits are not this start's.
                Remove(containerId);
                created.Clear();
                MakeDirs(containerId, created);
            }
            InheritCpuset(containerId);
            Apply(containerId, resources);
            ApplyDevices(containerId, devices);
            _unified?.Create(containerId, new LinuxResources { Devices = [.. devices] });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ContainersException)
        {
            // In the order they were made, as every removal goes (see ICgroupManager.Remove).
            foreach (string dir in created)
                try { _fs.RemoveDirectory(dir); } catch (IOException) { }
            if (e is ContainersException) throw;
            throw new ContainersException("CgroupCreateFailed", ErrorKind.ResourceUnavailable,
                $"Could not create the cgroup of container {containerId}: {e.Message}", containerId, inner: e);
        }
        Log.Debug("Created v1 cgroup {Parent}/{Id} in {Count} hierarchies", _parent, containerId, created.Count);
        return ProcsFiles(containerId);
    }

    /// <summary>mkdir of the container's directory in each hierarchy, each added to <paramref name="created"/>; false when
    /// one was there already.</summary>
    private bool MakeDirs(string containerId, List<string> created)
    {
        bool allNew = true;
        foreach (string dir in Dirs(containerId))
        {
            allNew &= _fs.CreateUnderParent(dir);
            created.Add(dir);
        }
        return allNew;
    }

    /// <summary>
    /// A new v1 cpuset cgroup starts with empty cpus and mems, and no process can join it: copy them down from the parent
    /// (as runc does). The container needs a cpuset of its own so that what it sees under /sys/fs/cgroup/cpuset is its own.
    /// The container's cgroup was just made, so it is written without a look; the shared parent only when it is empty.
    /// </summary>
    private void InheritCpuset(string id)
    {
        if (Dir("cpuset", id) is not { } dir) return;
        string parent = Path.GetDirectoryName(dir)!;
        foreach (string file in (string[])["cpuset.cpus", "cpuset.mems"])
        {
            string path = Path.Combine(parent, file);
            string? value = _fs.TryRead(path)?.Trim();
            if (value is { Length: 0 } && _fs.TryRead(Path.Combine(Path.GetDirectoryName(parent)!, file))?.Trim() is { Length: > 0 } inherited)
                _fs.Write(path, value = inherited);
            if (value is { Length: > 0 }) _fs.Write(Path.Combine(dir, file), value);
        }
    }

    private void Apply(string id, LinuxResources? r)
    {
        if (r is null) return;
        if (r.Memory?.Limit is { } limit && Dir("memory", id) is { } mem)
        {
            _fs.Write(Path.Combine(mem, "memory.limit_in_bytes"), limit.ToString(CultureInfo.InvariantCulture));
            string memsw = Path.Combine(mem, "memory.memsw.limit_in_bytes");
            if (r.Memory.Swap is { } swap && _fs.FileExists(memsw))
                _fs.Write(memsw, Math.Max(swap, limit).ToString(CultureInfo.InvariantCulture));
        }
        if (r.Cpu is { } cpu && Dir("cpu", id) is { } cpuDir)
        {
            if (cpu.Period is { } period) _fs.Write(Path.Combine(cpuDir, "cpu.cfs_period_us"), period.ToString(CultureInfo.InvariantCulture));
            if (cpu.Quota is { } quota) _fs.Write(Path.Combine(cpuDir, "cpu.cfs_quota_us"), quota.ToString(CultureInfo.InvariantCulture));
            if (cpu.Shares is { } shares) _fs.Write(Path.Combine(cpuDir, "cpu.shares"), shares.ToString(CultureInfo.InvariantCulture));
        }
        if (r.Pids is { } pids && Dir("pids", id) is { } pidsDir)
            _fs.Write(Path.Combine(pidsDir, "pids.max"), pids.Limit.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Writes the rules in order: deny rules to devices.deny, allow rules to devices.allow ("a" resets the list).</summary>
    private void ApplyDevices(string id, IReadOnlyList<LinuxDeviceCgroup> rules)
    {
        if (Dir("devices", id) is not { } dir) return;
        // Each run of rules of one kind through one open file (a write per rule, as the kernel reads them).
        for (int i = 0; i < rules.Count;)
        {
            bool allow = rules[i].Allow;
            var run = new List<string>();
            for (; i < rules.Count && rules[i].Allow == allow; i++) run.Add(DeviceRules.V1Line(rules[i]));
            _fs.WriteEach(Path.Combine(dir, allow ? "devices.allow" : "devices.deny"), run);
        }
    }

    public bool Exists(string containerId) => Dirs(containerId).Any(_fs.DirectoryExists) || _unified?.Exists(containerId) == true;

    public IReadOnlySet<string> ListContainerIds()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (string root in Controllers.Select(c => _mounts.GetValueOrDefault(c)).OfType<string>().Distinct(StringComparer.Ordinal))
            foreach (string dir in _fs.SubDirectories(Path.Combine(root, _parent))) ids.Add(Path.GetFileName(dir));
        if (_unified is not null) ids.UnionWith(_unified.ListContainerIds());
        return ids;
    }

    public IReadOnlyList<string> ProcsFiles(string containerId) =>
        [.. Dirs(containerId).Select(d => Path.Combine(d, "cgroup.procs")), .. _unified?.ProcsFiles(containerId) ?? []];

    public IReadOnlyList<int> ListPids(string containerId)
    {
        foreach (string c in (string[])["pids", "freezer", "memory", "cpu"])
            if (Dir(c, containerId) is { } dir && _fs.DirectoryExists(dir))
                return _fs.ReadPids(Path.Combine(dir, "cgroup.procs"));
        return [];
    }

    public CgroupStats ReadStats(string containerId)
    {
        string? mem = Dir("memory", containerId), acct = Dir("cpuacct", containerId), pids = Dir("pids", containerId), blkio = Dir("blkio", containerId);
        long? memLimit = mem is null ? null : _fs.TryReadLong(Path.Combine(mem, "memory.limit_in_bytes"));
        // An unlimited v1 limit reads as a huge page-aligned number.
        if (memLimit >= long.MaxValue / 2) memLimit = null;
        string? pidsMax = pids is null ? null : _fs.TryRead(Path.Combine(pids, "pids.max"))?.Trim();
        (ulong? read, ulong? write) = blkio is null ? (null, null) : BlkioBytes(_fs.TryRead(Path.Combine(blkio, "blkio.throttle.io_service_bytes_recursive"))
            ?? _fs.TryRead(Path.Combine(blkio, "blkio.throttle.io_service_bytes")));
        return new CgroupStats
        {
            CpuUsageNanoseconds = acct is null ? null : (ulong?)_fs.TryReadLong(Path.Combine(acct, "cpuacct.usage")),
            MemoryUsageBytes = mem is null ? null : _fs.TryReadLong(Path.Combine(mem, "memory.usage_in_bytes")),
            MemoryLimitBytes = memLimit,
            Pids = pids is null ? null : _fs.TryReadLong(Path.Combine(pids, "pids.current")),
            PidsLimit = pidsMax is null or "max" ? null : long.TryParse(pidsMax, CultureInfo.InvariantCulture, out long p) ? p : null,
            IoReadBytes = read,
            IoWriteBytes = write,
            OomKills = OomKillCount(containerId),
        };
    }

    /// <summary>Sums the Read and Write lines of blkio.throttle.io_service_bytes ("8:0 Read 4096").</summary>
    internal static (ulong? Read, ulong? Write) BlkioBytes(string? text)
    {
        if (text is null) return (null, null);
        ulong read = 0, write = 0;
        foreach (string line in text.Split('\n'))
        {
            string[] p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (p.Length != 3 || !ulong.TryParse(p[2], CultureInfo.InvariantCulture, out ulong v)) continue;
            if (p[1] == "Read") read += v;
            else if (p[1] == "Write") write += v;
        }
        return (read, write);
    }

    public void Freeze(string containerId) => SetFreezer(containerId, "FROZEN");
    public void Thaw(string containerId) => SetFreezer(containerId, "THAWED");

    public bool IsFrozen(string containerId) =>
        Dir("freezer", containerId) is { } dir && _fs.TryRead(Path.Combine(dir, "freezer.state"))?.Trim() == "FROZEN";

    private void SetFreezer(string id, string state)
    {
        if (Dir("freezer", id) is not { } dir || !_fs.DirectoryExists(dir))
            throw new ContainersException("FreezerUnavailable", ErrorKind.NotSupported,
                $"The freezer cgroup of container {id} does not exist.", id);
        string file = Path.Combine(dir, "freezer.state");
        for (int i = 0; i < 1000; i++)
        {
            // The container's monitor removes its cgroups once the container has ended: gone now is gone, not a failure to write.
            try { _fs.Write(file, state); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new ContainersException("FreezerUnavailable", ErrorKind.NotSupported,
                    $"The freezer cgroup of container {id} does not exist.", id, inner: e);
            }
            if (_fs.TryRead(file)?.Trim() == state) return;
            Thread.Sleep(2);
        }
        throw new ContainersException("FreezeTimeout", ErrorKind.Timeout, $"The freezer of container {id} did not reach {state}.", id);
    }

    public long OomKillCount(string containerId) =>
        Dir("memory", containerId) is { } mem
            ? CgroupFileSystem.KeyedValue(_fs.TryRead(Path.Combine(mem, "memory.oom_control")), "oom_kill") ?? 0
            : 0;

    public void Remove(string containerId)
    {
        if (!Exists(containerId)) return;
        bool hasFreezer = Dir("freezer", containerId) is { } f && _fs.DirectoryExists(f);
        for (int attempt = 0; attempt < 500; attempt++)
        {
            var pids = ListPids(containerId);
            if (pids.Count == 0) break;
            // Freeze first so nothing forks while we kill, then thaw so the kills are delivered.
            if (hasFreezer) try { Freeze(containerId); } catch (ContainersException) { }
            foreach (int pid in pids) Native.Processes.Kill(pid, Native.Processes.SIGKILL);
            if (hasFreezer) try { Thaw(containerId); } catch (ContainersException) { }
            Thread.Sleep(10);
        }
        foreach (string dir in Dirs(containerId))
        {
            if (!_fs.DirectoryExists(dir)) continue;
            for (int attempt = 0; ; attempt++)
            {
                try { _fs.RemoveDirectory(dir); break; }
                catch (DirectoryNotFoundException) { break; } // the monitor removed it as the container ended
                catch (IOException) when (attempt < 200) { Thread.Sleep(10); }
                catch (IOException e)
                {
                    throw new ContainersException("CgroupRemoveFailed", ErrorKind.ResourceUnavailable,
                        $"Could not remove the cgroup {dir}: {e.Message}", containerId, inner: e);
                }
            }
        }
        _unified?.Remove(containerId);
        Log.Debug("Removed v1 cgroup {Parent}/{Id}", _parent, containerId);
    }

    public void RemoveParentIfEmpty()
    {
        foreach (string root in Controllers.Select(c => _mounts.GetValueOrDefault(c)).OfType<string>().Distinct(StringComparer.Ordinal))
            if (_fs.TryRemoveEmpty(Path.Combine(root, _parent))) Log.Debug("Removed the empty cgroup {Dir}", Path.Combine(root, _parent));
        _unified?.RemoveParentIfEmpty();
    }
}
