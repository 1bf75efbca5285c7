using Containers.Core.Configuration;

namespace Containers.Core.Tests;

/// <summary>Module paths (data, state, logs, configuration, HOME) all under one throw-away root, as root (uid 0) unless another euid is given.</summary>
internal static class TestPaths
{
    public static ContainerPaths Under(string root, uint euid = 0) => ContainerPaths.FromEnvironment(v => v switch
    {
        ContainerPaths.DataDirVariable => Path.Combine(root, "data"),
        ContainerPaths.StateDirVariable => Path.Combine(root, "state"),
        ContainerPaths.LogDirVariable => Path.Combine(root, "logs"),
        ContainerPaths.ConfigDirVariable => Path.Combine(root, "config"),
        "HOME" => root,
        _ => null,
    }, euid);
}
