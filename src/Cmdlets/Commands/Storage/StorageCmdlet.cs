using Containers.Cmdlets.Commands.Image;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Build;
using Containers.Core.Configuration;
using Containers.Core.Storage;

namespace Containers.Cmdlets.Commands.Storage;

/// <summary>Base of the storage cmdlets: the analyzer over this user's runtime, image store and build cache.</summary>
public abstract class StorageCmdlet : ContainerCmdletBase
{
    protected StorageAnalyzer OpenAnalyzer() =>
        new(Runtime, ImageStoreAccess.Open(), new BuildCache(BuildCache.DirectoryFor(ContainerPaths.FromEnvironment())));
}
