namespace Containers.Core.Diagnostics;

/// <summary>What support needs to know about this host and this module, every feature probed.</summary>
public sealed record SystemInfo
{
    public required string ModuleVersion { get; init; }
    /// <summary>The distro package's version when the module was installed by dpkg or rpm; null otherwise.</summary>
    public string? PackageVersion { get; init; }
    public string? PackageName { get; init; }
    public required string DotNetVersion { get; init; }
    public string? PowerShellVersion { get; init; }
    public required string KernelRelease { get; init; }
    public string? Distribution { get; init; }
    /// <summary>"v1" (legacy or hybrid hierarchy) or "v2" (unified only).</summary>
    public required string CgroupVersion { get; init; }
    public required IReadOnlyList<string> CgroupControllers { get; init; }
    public required bool Rootless { get; init; }
    public required uint UserId { get; init; }
    public bool? UserNamespaces { get; init; }
    public bool? Overlay { get; init; }
    /// <summary>Whether overlayfs accepts the new mount API's "lowerdir+" (deep layer stacks).</summary>
    public bool? OverlayLowerDirPlus { get; init; }
    public string? ProbeError { get; init; }
    public required IReadOnlyList<IdRange> SubUidRanges { get; init; }
    public required IReadOnlyList<IdRange> SubGidRanges { get; init; }
    public required string DataDir { get; init; }
    public required string StateDir { get; init; }
    public required string LogDir { get; init; }
    public long DataDirBytes { get; init; }
    /// <summary>DataDirBytes for reading, in MiB. A property of the type rather than a types.ps1xml script property: a
    /// types file makes every Import-Module parse it and its script block (about 7 ms of a new session's first call).</summary>
    public string DataDirSize => string.Format(System.Globalization.CultureInfo.CurrentCulture, "{0:N1} MiB", DataDirBytes / 1048576.0);
    public long? DataDirFreeBytes { get; init; }
    public required IReadOnlyList<string> RegistryConfigFiles { get; init; }
    public required string PolicyFile { get; init; }
    public required bool PolicyFileExists { get; init; }
    public required string AuthFile { get; init; }
    public required string InitPath { get; init; }
    public string? InitVersion { get; init; }
    public string? LogFile { get; init; }
    /// <summary>Where CNI network configuration lists are read (PSCONTAINERS_CNI_CONFIG_DIR or /etc/cni/net.d).</summary>
    public string CniConfigDir { get; init; } = "";
    /// <summary>Where CNI plugins are looked for, in order.</summary>
    public IReadOnlyList<string> CniPluginDirs { get; init; } = [];
    /// <summary>The CNI plugins found there (bridge, host-local, portmap ...; Debian: containernetworking-plugins).</summary>
    public IReadOnlyList<string> CniPlugins { get; init; } = [];
    /// <summary>The network a root container joins without -Network (containers.conf's default_network, else the default
    /// bridge network made on first use), and its file in the CNI directory (null until first use, or for none/host/private).</summary>
    public string? DefaultNetwork { get; init; }
    public string? DefaultNetworkFile { get; init; }
    /// <summary>Rootless networking: pasta (Debian package passt) and slirp4netns, where found (null when missing), their
    /// versions, and the network a rootless container gets by default.</summary>
    public string? PastaPath { get; init; }
    public string? PastaVersion { get; init; }
    public string? Slirp4netnsPath { get; init; }
    public string? Slirp4netnsVersion { get; init; }
    public string? DefaultRootlessNetwork { get; init; }
}

/// <summary>A subordinate id range from /etc/subuid or /etc/subgid.</summary>
public sealed record IdRange(uint Start, uint Count)
{
    public override string ToString() => $"{Start}-{Start + Count - 1}";
}
