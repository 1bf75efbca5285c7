using Containers.Core.Configuration;

namespace Containers.Core.Tests;

/// <summary>
/// Module paths (data, state, logs, configuration, CNI networks, HOME) all under one throw-away root, as root (uid 0) unless another euid is given. Its
/// containers.conf gives containers without a network loopback only, as the Pester suite's test roots do (the default
/// bridge network is proved in Network.Tests.ps1).
/// </summary>
internal static class TestPaths
{
    public static ContainerPaths Under(string root, uint euid = 0)
    {
        Directory.CreateDirectory(Path.Combine(root, "config"));
        string conf = Path.Combine(root, "config", "containers.conf");
        if (!File.Exists(conf)) File.WriteAllText(conf, "[network]\ndefault_network = \"private\"\n");
        return ContainerPaths.FromEnvironment(v => v switch
        {
            ContainerPaths.DataDirVariable => Path.Combine(root, "data"),
            ContainerPaths.StateDirVariable => Path.Combine(root, "state"),
            ContainerPaths.LogDirVariable => Path.Combine(root, "logs"),
            ContainerPaths.ConfigDirVariable => Path.Combine(root, "config"),
            ContainerPaths.CniConfigDirVariable => Path.Combine(root, "cni"),
            "HOME" => root,
            _ => null,
        }, euid);
    }
}
