using Containers.Cmdlets.Infrastructure;
using Containers.Core.Build;
using Containers.Core.Storage;

namespace Containers.Cmdlets.Commands.Storage;

/// <summary>Base of the storage cmdlets: the analyzer over this user's runtime, image store and build cache.</summary>
public abstract class StorageCmdlet : ContainerCmdletBase
{
    private protected StorageAnalyzer OpenAnalyzer() =>
        new(Runtime, Services.OpenImageStore(), new BuildCache(BuildCache.DirectoryFor(Services.Paths)));
}
