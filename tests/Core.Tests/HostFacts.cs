using Containers.Core.Cgroups;

namespace Containers.Core.Tests;

/// <summary>A test that needs root: reported as skipped, not passed, when the suite runs as another user.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Native.Identity.IsRoot) Skip = "needs root";
    }
}

/// <summary>A test of this host's real cgroup v1 hierarchies: skipped unless root on a v1 (or hybrid) host.</summary>
public sealed class CgroupV1FactAttribute : FactAttribute
{
    public CgroupV1FactAttribute()
    {
        if (!Native.Identity.IsRoot || CgroupDetector.Detect() is not CgroupV1Manager) Skip = "needs root on a cgroup v1 host";
    }
}
