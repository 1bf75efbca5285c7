using Containers.Core.Configuration;

namespace Containers.Core.Tests.Runtime;

/// <summary>Every path of the module (data, state, logs, config, home) under one temp directory.</summary>
internal static class TestPaths
{
    public static ContainerPaths Under(string root) => ContainerPaths.FromEnvironment(v => v switch
    {
        ContainerPaths.DataDirVariable => Path.Combine(root, "data"),
        ContainerPaths.StateDirVariable => Path.Combine(root, "state"),
        ContainerPaths.LogDirVariable => Path.Combine(root, "logs"),
        ContainerPaths.ConfigDirVariable => Path.Combine(root, "config"),
        "HOME" => root,
        _ => null,
    }, 0);
}
