using System.Globalization;
using Containers.Core.Errors;
using Containers.Core.Logging;
using Containers.Core.Runtime.Plan;
using Serilog;

namespace Containers.Core.Cgroups;

/// <summary>
/// cgroup v2: one unified tree; the container's cgroup is <c>&lt;root&gt;/pscontainers/&lt;id&gt;</c>,
/// with the memory, cpu, pids and io controllers enabled down to it through cgroup.subtree_control,
/// and a BPF device program (<see cref="DeviceFilterProgram"/>) attached: v2 has no devices files.
/// </summary>
internal sealed class CgroupV2Manager : ICgroupManager
{
    private static readonly ILogger Log = ModuleLog.For<CgroupV2Manager>();
    private static readonly string[] Wanted = ["cpu", "memory", "pids", "io"];
    private readonly string _root;
    private readonly CgroupFileSystem _fs;
    private readonly string _parent;
    private readonly bool _rootless;

    /// <param name="rootless">An unprivileged caller: a refused device program is skipped (see <see cref="AttachDevices"/>).</param>
    public CgroupV2Manager(string root, CgroupFileSystem? fs = null, string parent = "pscontainers", bool rootless = false)
    {
        _root = root;
        _fs = fs ?? CgroupFileSystem.Real;
        _parent = parent;
        _rootless = rootless;
    }

    public string Version => "v2";
    public bool Enabled => true;

    private string Dir(string id) => Path.Combine(_root, _parent, id);

    public IReadOnlyList<string> Create(string containerId, LinuxResources? resources)
    {
        string parent = Path.Combine(_root, _parent);
        string dir = Dir(containerId);
        try
        {
            void Prepare(string p)
            {
                EnableControllers(_root);
                // Every level down to the container's: a pod's containers sit one level deeper (pscontainers/pod-<id>/<id>).
                for (string d = p; d.Length >= parent.Length; d = Path.GetDirectoryName(d)!) EnableControllers(d);
            }
            if (!_fs.CreateUnderParent(dir, Prepare))
            {
                // Left by a start or a monitor that died: its processes and limits are not this start's.
                Remove(containerId);
                _fs.CreateUnderParent(dir, Prepare);
            }
            Apply(dir, resources);
            AttachDevices(dir, resources);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { if (_fs.DirectoryExists(dir)) _fs.RemoveDirectory(dir); } catch (IOException) { }
            throw new ContainersException("CgroupCreateFailed", ErrorKind.ResourceUnavailable,
                $"Could not create the cgroup of container {containerId}: {e.Message}", containerId, inner: e);
        }
        Log.Debug("Created v2 cgroup {Dir}", dir);
        return ProcsFiles(containerId);
    }

    /// <summary>Enables in <paramref name="dir"/>'s subtree_control the wanted controllers it offers.</summary>
    private void EnableControllers(string dir)
    {
        string? available = _fs.TryRead(Path.Combine(dir, "cgroup.controllers"));
        if (available is null) return;
        var offered = available.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        string? enabledText = _fs.TryRead(Path.Combine(dir, "cgroup.subtree_control"));
        var enabled = (enabledText ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var missing = Wanted.Where(c => offered.Contains(c) && !enabled.Contains(c)).ToList();
        if (missing.Count == 0) return;
        _fs.Write(Path.Combine(dir, "cgroup.subtree_control"), string.Join(' ', missing.Select(c => "+" + c)));
    }

    /// <summary>
    /// Attaches the program for the container's device rules (the default allow-list when none are given).
    /// Loading needs CAP_BPF/CAP_SYS_ADMIN: an unprivileged user with a delegated cgroup is refused, and then
    /// goes without, as under runc: in its user namespace it cannot create device nodes, and the nodes of
    /// its image and mounts are unusable (the kernel marks mounts made there nodev).
    /// </summary>
    private void AttachDevices(string dir, LinuxResources? r)
    {
        var program = DeviceFilterProgram.Build(DeviceRules.Effective(r));
        try
        {
            _fs.AttachDeviceProgram(dir, program);
            Log.Debug("Attached a device program of {Count} instructions to {Dir}", program.Length, dir);
        }
        catch (Native.NativeCallException e) when (_rootless && e.Errno == Native.FileSystemCalls.EPERM_)
        {
            Log.Debug("No device program on {Dir}: an unprivileged user may not load BPF programs ({Message})", dir, e.Message);
        }
    }

    private void Apply(string dir, LinuxResources? r)
    {
        if (r is null) return;
        if (r.Memory?.Limit is { } limit)
        {
            _fs.Write(Path.Combine(dir, "memory.max"), limit.ToString(CultureInfo.InvariantCulture));
            // v2 counts swap separately: memory+swap = limit means no swap.
            if (r.Memory.Swap is { } swap && _fs.FileExists(Path.Combine(dir, "memory.swap.max")))
                _fs.Write(Path.Combine(dir, "memory.swap.max"), Math.Max(0, swap - limit).ToString(CultureInfo.InvariantCulture));
        }
        if (r.Cpu is { } cpu)
        {
            if (cpu.Quota is { } quota)
                _fs.Write(Path.Combine(dir, "cpu.max"),
                    (quota > 0 ? quota.ToString(CultureInfo.InvariantCulture) : "max") + " " + (cpu.Period ?? CgroupLimits.DefaultPeriod).ToString(CultureInfo.InvariantCulture));
            if (cpu.Shares is { } shares)
                _fs.Write(Path.Combine(dir, "cpu.weight"), CgroupLimits.SharesToWeight(shares).ToString(CultureInfo.InvariantCulture));
        }
        if (r.Pids is { } pids)
            _fs.Write(Path.Combine(dir, "pids.max"), pids.Limit.ToString(CultureInfo.InvariantCulture));
    }

    public bool Exists(string containerId) => _fs.DirectoryExists(Dir(containerId));

    public IReadOnlySet<string> ListContainerIds() =>
        _fs.SubDirectories(Path.Combine(_root, _parent)).Select(Path.GetFileName).OfType<string>().ToHashSet(StringComparer.Ordinal);

    public IReadOnlyList<string> ProcsFiles(string containerId) => [Path.Combine(Dir(containerId), "cgroup.procs")];

    public IReadOnlyList<int> ListPids(string containerId) =>
        Exists(containerId) ? _fs.ReadPids(Path.Combine(Dir(containerId), "cgroup.procs")) : [];

    public CgroupStats ReadStats(string containerId)
    {
        string dir = Dir(containerId);
        string? memMax = _fs.TryRead(Path.Combine(dir, "memory.max"))?.Trim();
        string? pidsMax = _fs.TryRead(Path.Combine(dir, "pids.max"))?.Trim();
        long? usageUsec = CgroupFileSystem.KeyedValue(_fs.TryRead(Path.Combine(dir, "cpu.stat")), "usage_usec");
        (ulong? read, ulong? write) = IoBytes(_fs.TryRead(Path.Combine(dir, "io.stat")));
        return new CgroupStats
        {
            CpuUsageNanoseconds = usageUsec is { } u ? (ulong)u * 1000 : null,
            MemoryUsageBytes = _fs.TryReadLong(Path.Combine(dir, "memory.current")),
            MemoryLimitBytes = memMax is null or "max" ? null : long.TryParse(memMax, CultureInfo.InvariantCulture, out long m) ? m : null,
            Pids = _fs.TryReadLong(Path.Combine(dir, "pids.current")),
            PidsLimit = pidsMax is null or "max" ? null : long.TryParse(pidsMax, CultureInfo.InvariantCulture, out long p) ? p : null,
            IoReadBytes = read,
            IoWriteBytes = write,
            OomKills = OomKillCount(containerId),
        };
    }

    /// <summary>Sums rbytes= and wbytes= over the devices of io.stat ("8:0 rbytes=4096 wbytes=0 ...").</summary>
    internal static (ulong? Read, ulong? Write) IoBytes(string? text)
    {
        if (text is null) return (null, null);
        ulong read = 0, write = 0;
        foreach (string field in text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (field.StartsWith("rbytes=", StringComparison.Ordinal) && ulong.TryParse(field.AsSpan(7), CultureInfo.InvariantCulture, out ulong r)) read += r;
            else if (field.StartsWith("wbytes=", StringComparison.Ordinal) && ulong.TryParse(field.AsSpan(7), CultureInfo.InvariantCulture, out ulong w)) write += w;
        }
        return (read, write);
    }

    public void Freeze(string containerId) => SetFrozen(containerId, true);
    public void Thaw(string containerId) => SetFrozen(containerId, false);

    public bool IsFrozen(string containerId) =>
        CgroupFileSystem.KeyedValue(_fs.TryRead(Path.Combine(Dir(containerId), "cgroup.events")), "frozen") == 1;

    private void SetFrozen(string id, bool frozen)
    {
        string dir = Dir(id);
        if (!_fs.DirectoryExists(dir))
            throw new ContainersException("FreezerUnavailable", ErrorKind.NotSupported, $"The cgroup of container {id} does not exist.", id);
        _fs.Write(Path.Combine(dir, "cgroup.freeze"), frozen ? "1" : "0");
        string events = Path.Combine(dir, "cgroup.events");
        if (!_fs.FileExists(events)) return;
        for (int i = 0; i < 1000; i++)
        {
            if (IsFrozen(id) == frozen) return;
            Thread.Sleep(2);
        }
        throw new ContainersException("FreezeTimeout", ErrorKind.Timeout, $"The cgroup of container {id} did not report frozen={(frozen ? 1 : 0)}.", id);
    }

    public long OomKillCount(string containerId) =>
        CgroupFileSystem.KeyedValue(_fs.TryRead(Path.Combine(Dir(containerId), "memory.events")), "oom_kill") ?? 0;

    public void Remove(string containerId)
    {
        string dir = Dir(containerId);
        if (!_fs.DirectoryExists(dir)) return;
        string kill = Path.Combine(dir, "cgroup.kill");
        for (int attempt = 0; attempt < 500; attempt++)
        {
            var pids = ListPids(containerId);
            if (pids.Count == 0) break;
            if (_fs.FileExists(kill)) _fs.Write(kill, "1");
            else foreach (int pid in pids) Native.Processes.Kill(pid, Native.Processes.SIGKILL);
            Thread.Sleep(10);
        }
        for (int attempt = 0; ; attempt++)
        {
            try { _fs.RemoveDirectory(dir); break; }
            catch (DirectoryNotFoundException) { break; } // the monitor removed it as the container ended
            catch (IOException) when (attempt < 200) { Thread.Sleep(10); }
            catch (IOException e)
            {
                throw new ContainersException("CgroupRemoveFailed", ErrorKind.ResourceUnavailable, $"Could not remove the cgroup {dir}: {e.Message}", containerId, inner: e);
            }
        }
        Log.Debug("Removed v2 cgroup {Dir}", dir);
    }

    public void RemoveParentIfEmpty()
    {
        string parent = Path.Combine(_root, _parent);
        if (_fs.TryRemoveEmpty(parent)) Log.Debug("Removed the empty cgroup {Dir}", parent);
    }
}
