using System.Management.Automation;
using Containers.Cmdlets.Commands.Image;
using Containers.Core.Runtime;

namespace Containers.Cmdlets.Infrastructure;

/// <summary>On import, tells the image cmdlets which containers use an image (Remove-ContainerImage refuses those).</summary>
public sealed class RuntimeModuleInitializer : IModuleAssemblyInitializer
{
    public void OnImport() => ImageStoreAccess.Users = paths => new ContainerImageUsers(new ContainerStore(paths));
}
