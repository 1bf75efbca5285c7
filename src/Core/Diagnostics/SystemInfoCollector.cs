using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Containers.Core.Configuration;
using Containers.Core.Logging;
using Containers.Core.Networking.Rootless;
using Containers.Core.Runtime.Plan;
using Serilog;

namespace Containers.Core.Diagnostics;

/// <summary>Gathers <see cref="SystemInfo"/>: reads the kernel's own files and asks the init binary to probe features.</summary>
internal sealed class SystemInfoCollector
{
    private static readonly ILogger Log = ModuleLog.For<SystemInfoCollector>();
    private readonly ContainerPaths _paths;
    private readonly string _procRoot;
    private readonly string _etcRoot;

    public SystemInfoCollector(ContainerPaths paths, string procRoot = "/proc", string etcRoot = "/etc")
    {
        _paths = paths;
        _procRoot = procRoot;
        _etcRoot = etcRoot;
    }

    public async Task<SystemInfo> CollectAsync(string? powerShellVersion, CancellationToken ct)
    {
        uint uid = Native.Identity.EffectiveUserId;
        string user = Environment.UserName;
        var (cgroupVersion, controllers) = CgroupLayout.Read(Path.Combine(_procRoot, "self", "mountinfo"));
        var probe = await ProbeAsync(ct).ConfigureAwait(false);
        Log.Debug("Probed host features: user namespaces {UserNamespaces}, overlay {Overlay}, lowerdir+ {LowerDirPlus} {ProbeError}",
            probe.UserNamespaces, probe.Overlay, probe.OverlayLowerDirPlus, probe.Error);
        var (package, packageVersion) = await QueryPackageAsync(ct).ConfigureAwait(false);
        string initPath = InitBinary.Path;

        var info = new SystemInfo
        {
            ModuleVersion = ModuleVersion,
            PackageName = package,
            PackageVersion = packageVersion,
            DotNetVersion = Environment.Version.ToString(),
            PowerShellVersion = powerShellVersion,
            KernelRelease = ReadTrimmed(Path.Combine(_procRoot, "sys", "kernel", "osrelease")) ?? Environment.OSVersion.Version.ToString(),
            Distribution = ReadOsRelease(),
            CgroupVersion = cgroupVersion,
            CgroupControllers = controllers,
            Rootless = _paths.Rootless,
            UserId = uid,
            UserNamespaces = probe.UserNamespaces,
            Overlay = probe.Overlay,
            OverlayLowerDirPlus = probe.OverlayLowerDirPlus,
            ProbeError = probe.Error,
            SubUidRanges = SubordinateIds.Read(Path.Combine(_etcRoot, "subuid"), user, uid),
            SubGidRanges = SubordinateIds.Read(Path.Combine(_etcRoot, "subgid"), user, uid),
            DataDir = _paths.DataDir,
            StateDir = _paths.StateDir,
            LogDir = _paths.LogDir,
            DataDirBytes = DirectorySize(_paths.DataDir),
            DataDirFreeBytes = FreeBytes(_paths.DataDir),
            RegistryConfigFiles = RegistryConfigFiles(),
            PolicyFile = _paths.PolicyJson,
            PolicyFileExists = File.Exists(_paths.PolicyJson),
            AuthFile = _paths.AuthFile,
            InitPath = initPath,
            InitVersion = File.Exists(initPath) ? (await RunAsync(initPath, new InitVersion().ToArgs(), ct).ConfigureAwait(false))?.Trim() : null,
            LogFile = ModuleLog.LogFile,
            CniConfigDir = _paths.CniConfigDir,
            CniPluginDirs = _paths.CniPluginDirs,
            CniPlugins = new Networking.Cni.CniPluginRunner(_paths.CniPluginDirs).Available(),
        };
        return WithDefaultNetwork(WithRootlessNetworking(info, _paths), _paths);
    }

    /// <summary>pasta and slirp4netns as a rootless container would find them (containers.conf's helper_binaries_dir first).</summary>
    private static SystemInfo WithRootlessNetworking(SystemInfo info, ContainerPaths paths)
    {
        var config = Networking.ContainersConf.Read(paths.ContainersConfFiles);
        string? defaultNetwork;
        try { defaultNetwork = new RootlessNetworkPlanner(config).DefaultNetwork(); }
        catch (Errors.ContainersException e) { defaultNetwork = e.Message; }
        string? pasta = RootlessNetworkTools.Find(RootlessNetworkMode.Pasta, config.HelperBinariesDirs ?? []);
        string? slirp = RootlessNetworkTools.Find(RootlessNetworkMode.Slirp4netns, config.HelperBinariesDirs ?? []);
        return info with
        {
            PastaPath = pasta,
            PastaVersion = pasta is null ? null : RootlessNetworkTools.Version(pasta),
            Slirp4netnsPath = slirp,
            Slirp4netnsVersion = slirp is null ? null : RootlessNetworkTools.Version(slirp),
            DefaultRootlessNetwork = defaultNetwork,
        };
    }

    /// <summary>The root default: what New-Container without -Network resolves to, and the network's file once made.</summary>
    private static SystemInfo WithDefaultNetwork(SystemInfo info, ContainerPaths paths)
    {
        if (paths.Rootless) return info;
        var store = new Networking.NetworkStore(paths);
        string name = Networking.DefaultNetwork.ForRoot(Networking.ContainersConf.Read(paths.ContainersConfFiles), store.Plugins, warn: false);
        return info with { DefaultNetwork = name, DefaultNetworkFile = store.TryFind(name)?.File };
    }

    public static string ModuleVersion =>
        typeof(SystemInfoCollector).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(SystemInfoCollector).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    private sealed record ProbeResult(bool? UserNamespaces, bool? Overlay, bool? OverlayLowerDirPlus, string? Error);

    /// <summary>Feature probes need a single-threaded process (clone into a user namespace), so init runs them.</summary>
    private static async Task<ProbeResult> ProbeAsync(CancellationToken ct)
    {
        string init = InitBinary.Path;
        if (!File.Exists(init)) return new ProbeResult(null, null, null, $"init binary not found at {init}");
        string? json = await RunAsync(init, new InitProbe().ToArgs(), ct).ConfigureAwait(false);
        if (json is null) return new ProbeResult(null, null, null, "init probe failed");
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            return new ProbeResult(
                Bool(root, "userNamespaces"), Bool(root, "overlay"), Bool(root, "overlayLowerDirPlus"),
                root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null);
        }
        catch (JsonException e)
        {
            return new ProbeResult(null, null, null, "init probe printed no JSON: " + e.Message);
        }

        static bool? Bool(JsonElement root, string name) =>
            root.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
    }

    /// <summary>Asks dpkg, then rpm, which package owns the module's files.</summary>
    private static async Task<(string?, string?)> QueryPackageAsync(CancellationToken ct)
    {
        string assembly = typeof(SystemInfoCollector).Assembly.Location;
        if (string.IsNullOrEmpty(assembly)) return (null, null);
        if (File.Exists("/usr/bin/dpkg-query"))
        {
            string? owner = await RunAsync("/usr/bin/dpkg-query", ["-S", assembly], ct).ConfigureAwait(false);
            string? name = owner?.Split(':', 2)[0].Trim();
            if (!string.IsNullOrEmpty(name))
                return (name, (await RunAsync("/usr/bin/dpkg-query", ["-W", "-f=${Version}", name], ct).ConfigureAwait(false))?.Trim());
        }
        if (File.Exists("/usr/bin/rpm"))
        {
            string? nv = await RunAsync("/usr/bin/rpm", ["-qf", "--queryformat", "%{NAME} %{VERSION}-%{RELEASE}", assembly], ct).ConfigureAwait(false);
            if (nv?.Split(' ') is [var n, var v]) return (n, v);
        }
        return (null, null);
    }

    /// <summary>Runs a program and returns its stdout, or null when it fails.</summary>
    private static async Task<string?> RunAsync(string file, string[] args, CancellationToken ct)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync(ct);
            var stderr = p.StandardError.ReadToEndAsync(ct);
            await p.WaitForExitAsync(ct).ConfigureAwait(false);
            if (p.ExitCode == 0) return await stdout.ConfigureAwait(false);
            Log.Debug("{File} {Args} exited {Code}: {Error}", file, string.Join(' ', args), p.ExitCode, (await stderr.ConfigureAwait(false)).Trim());
            return null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            Log.Debug(e, "Could not run {File}", file);
            return null;
        }
    }

    private List<string> RegistryConfigFiles()
    {
        var files = new List<string>();
        if (File.Exists(_paths.SystemRegistriesConf)) files.Add(_paths.SystemRegistriesConf);
        foreach (string? dir in new[] { _paths.SystemRegistriesConfDir, _paths.UserRegistriesConfDir })
            if (dir is not null && Directory.Exists(dir))
                files.AddRange(Directory.GetFiles(dir, "*.conf").Order(StringComparer.Ordinal));
        if (_paths.UserRegistriesConf is { } user && File.Exists(user)) files.Add(user);
        return files;
    }

    private string? ReadOsRelease()
    {
        string file = Path.Combine(_etcRoot, "os-release");
        if (!File.Exists(file)) return null;
        foreach (string line in File.ReadLines(file))
            if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
                return line["PRETTY_NAME=".Length..].Trim('"');
        return null;
    }

    private static string? ReadTrimmed(string file) => File.Exists(file) ? File.ReadAllText(file).Trim() : null;

    private static long DirectorySize(string dir)
    {
        if (!Directory.Exists(dir)) return 0;
        long total = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true };
        foreach (var f in new DirectoryInfo(dir).EnumerateFiles("*", options))
            if (f.LinkTarget is null) total += f.Length;
        return total;
    }

    private static long? FreeBytes(string dir)
    {
        for (string? d = dir; d is not null; d = Path.GetDirectoryName(d))
            if (Directory.Exists(d))
                return new DriveInfo(d).AvailableFreeSpace;
        return null;
    }
}
