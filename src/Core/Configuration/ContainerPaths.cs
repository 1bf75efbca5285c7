namespace Containers.Core.Configuration;

/// <summary>
/// Where the module keeps its own data and runtime state, and where it reads the containers tools'
/// configuration files. Every root can be redirected by environment variable so tests and scripts
/// run in throw-away directories; nothing here ever points at podman's own storage.
/// </summary>
internal sealed record ContainerPaths
{
    public const string DataDirVariable = "PSCONTAINERS_DATA_DIR";
    public const string StateDirVariable = "PSCONTAINERS_STATE_DIR";
    public const string ConfigDirVariable = "PSCONTAINERS_CONFIG_DIR";
    public const string LogDirVariable = "PSCONTAINERS_LOG_DIR";
    public const string RegistriesConfVariable = "CONTAINERS_REGISTRIES_CONF";
    public const string AuthFileVariable = "REGISTRY_AUTH_FILE";
    public const string CniConfigDirVariable = "PSCONTAINERS_CNI_CONFIG_DIR";
    public const string CniPluginDirVariable = "PSCONTAINERS_CNI_PLUGIN_DIR";
    public const string ContainersConfVariable = "CONTAINERS_CONF";

    /// <summary>Image store and container records.</summary>
    public required string DataDir { get; init; }
    /// <summary>Runtime state: pids, sockets, locks that do not survive a reboot.</summary>
    public required string StateDir { get; init; }
    /// <summary>Rolling log files.</summary>
    public required string LogDir { get; init; }
    /// <summary>The registries.conf that is read first (system file, or the override).</summary>
    public required string SystemRegistriesConf { get; init; }
    /// <summary>The registries.conf.d drop-in directory beside it.</summary>
    public required string SystemRegistriesConfDir { get; init; }
    /// <summary>The user's registries.conf, merged over the system file (null when an override is in force).</summary>
    public string? UserRegistriesConf { get; init; }
    /// <summary>The user's registries.conf.d drop-in directory (null when an override is in force).</summary>
    public string? UserRegistriesConfDir { get; init; }
    /// <summary>containers-policy.json in force.</summary>
    public required string PolicyJson { get; init; }
    /// <summary>Where containers-policy.json is looked for, in order (for messages when none exists).</summary>
    public IReadOnlyList<string> PolicyJsonSearched { get; init; } = [];
    /// <summary>containers-auth.json that logins are written to and read from first.</summary>
    public required string AuthFile { get; init; }
    /// <summary>~/.docker/config.json, read as a fallback for credentials.</summary>
    public required string DockerConfigFile { get; init; }
    /// <summary>True when the process runs without root privileges.</summary>
    public required bool Rootless { get; init; }
    /// <summary>CNI network configuration lists (podman 4's too): /etc/cni/net.d or PSCONTAINERS_CNI_CONFIG_DIR.</summary>
    public string CniConfigDir { get; init; } = "/etc/cni/net.d";
    /// <summary>Where CNI plugins are looked for, in order: PSCONTAINERS_CNI_PLUGIN_DIR (colon-separated), then the standard places.</summary>
    public IReadOnlyList<string> CniPluginDirs { get; init; } = DefaultCniPluginDirs;
    /// <summary>containers.conf files read in order, later keys winning (system, then the user's; or the one override).</summary>
    public IReadOnlyList<string> ContainersConfFiles { get; init; } = [];

    private static readonly string[] DefaultCniPluginDirs = ["/usr/lib/cni", "/usr/libexec/cni", "/opt/cni/bin"];

    public string ImagesDir => Path.Combine(DataDir, "images");
    public string ContainersDir => Path.Combine(DataDir, "containers");

    /// <summary>Resolves every path from the current user and environment.</summary>
    public static ContainerPaths FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable, Native.Identity.EffectiveUserId);

    /// <summary>Resolves every path from the given environment lookup and effective uid (a seam for tests).</summary>
    public static ContainerPaths FromEnvironment(Func<string, string?> env, uint euid)
    {
        bool rootless = euid != 0;
        string home = NonEmpty(env("HOME")) ?? "/root";
        string dataHome = NonEmpty(env("XDG_DATA_HOME")) ?? Path.Combine(home, ".local", "share");
        string configHome = NonEmpty(env("XDG_CONFIG_HOME")) ?? Path.Combine(home, ".config");
        string runtimeDir = NonEmpty(env("XDG_RUNTIME_DIR")) ?? Path.Combine("/tmp", $"pscontainers-run-{euid}");

        string data = NonEmpty(env(DataDirVariable)) ?? (rootless ? Path.Combine(dataHome, "pscontainers") : "/var/lib/pscontainers");
        string state = NonEmpty(env(StateDirVariable)) ?? (rootless ? Path.Combine(runtimeDir, "pscontainers") : "/run/pscontainers");
        string logs = LogDirFromEnvironment(env, euid);

        // PSCONTAINERS_CONFIG_DIR replaces the system and user locations of registries.conf and policy.json
        // with one folder. Otherwise, as containers/image does (sysregistriesv2, signature), the per-user
        // files live under $HOME/.config/containers, not $XDG_CONFIG_HOME, and are read for root too.
        string? configDir = NonEmpty(env(ConfigDirVariable));
        string userContainers = Path.Combine(home, ".config", "containers");
        string systemConf = configDir is null ? "/etc/containers/registries.conf" : Path.Combine(configDir, "registries.conf");
        string systemConfDir = configDir is null ? "/etc/containers/registries.conf.d" : Path.Combine(configDir, "registries.conf.d");
        string? userConf = configDir is null ? Path.Combine(userContainers, "registries.conf") : null;
        string? userConfDir = configDir is null ? Path.Combine(userContainers, "registries.conf.d") : null;
        // CONTAINERS_REGISTRIES_CONF replaces the main file only (the user's registries.conf is then not
        // read); both drop-in folders, the system one and the user's, are still read (podman 4.3 on this
        // machine lists "<override> or ~/.config/containers/registries.conf.d" when it refuses a registry).
        string? registriesOverride = NonEmpty(env(RegistriesConfVariable));
        if (registriesOverride is not null)
        {
            systemConf = registriesOverride;
            userConf = null;
        }

        string policy;
        string[] policySearched;
        if (configDir is not null) policySearched = [Path.Combine(configDir, "policy.json")];
        else policySearched = [Path.Combine(userContainers, "policy.json"), "/etc/containers/policy.json"];
        policy = policySearched.FirstOrDefault(File.Exists) ?? policySearched[^1];

        // containers-auth.json(5): REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/auth.json, else
        // ~/.config/containers/auth.json when there is no runtime dir.
        string auth = NonEmpty(env(AuthFileVariable))
            ?? (NonEmpty(env("XDG_RUNTIME_DIR")) is { } xdgRun
                ? Path.Combine(xdgRun, "containers", "auth.json")
                : rootless ? Path.Combine(configHome, "containers", "auth.json") : "/run/containers/0/auth.json");

        string dockerConfig = Path.Combine(NonEmpty(env("DOCKER_CONFIG")) ?? Path.Combine(home, ".docker"), "config.json");

        // containers.conf: CONTAINERS_CONF replaces every file (as podman does); PSCONTAINERS_CONFIG_DIR replaces the
        // system and user locations with its own containers.conf, like registries.conf above.
        string[] containersConf = NonEmpty(env(ContainersConfVariable)) is { } confOverride ? [confOverride]
            : configDir is not null ? [Path.Combine(configDir, "containers.conf")]
            : ["/usr/share/containers/containers.conf", "/etc/containers/containers.conf", Path.Combine(userContainers, "containers.conf")];
        string[] pluginDirs = [.. (NonEmpty(env(CniPluginDirVariable))?.Split(':', StringSplitOptions.RemoveEmptyEntries) ?? []), .. DefaultCniPluginDirs];

        return new ContainerPaths
        {
            CniConfigDir = NonEmpty(env(CniConfigDirVariable)) ?? "/etc/cni/net.d",
            CniPluginDirs = pluginDirs,
            ContainersConfFiles = containersConf,
            DataDir = data,
            StateDir = state,
            LogDir = logs,
            SystemRegistriesConf = systemConf,
            SystemRegistriesConfDir = systemConfDir,
            UserRegistriesConf = userConf,
            UserRegistriesConfDir = userConfDir,
            PolicyJson = policy,
            PolicyJsonSearched = policySearched,
            AuthFile = auth,
            DockerConfigFile = dockerConfig,
            Rootless = rootless,
        };
    }

    /// <summary>Only <see cref="LogDir"/> of <see cref="FromEnvironment()"/>: the log sink looks at it before every cmdlet's work.</summary>
    public static string LogDirFromEnvironment() => LogDirFromEnvironment(Environment.GetEnvironmentVariable, Native.Identity.EffectiveUserId);

    /// <summary><see cref="LogDirFromEnvironment()"/> from the given environment lookup and effective uid (a seam for tests).</summary>
    public static string LogDirFromEnvironment(Func<string, string?> env, uint euid)
    {
        if (NonEmpty(env(LogDirVariable)) is { } logs) return logs;
        if (euid == 0) return "/var/log/pscontainers";
        string stateHome = NonEmpty(env("XDG_STATE_HOME")) ?? Path.Combine(NonEmpty(env("HOME")) ?? "/root", ".local", "state");
        return Path.Combine(stateHome, "pscontainers", "logs");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
