using System.Management.Automation;
using System.Net;
using Containers.Core.Configuration;
using Containers.Core.Images;
using Containers.Core.Pods;
using Containers.Core.Policy;
using Containers.Core.Registry;
using Containers.Core.Runtime;
using Containers.Core.Trust;

namespace Containers.Cmdlets.Infrastructure;

/// <summary>
/// The composition root of the module: built once per cmdlet call from the caller's environment (the
/// <c>PSCONTAINERS_*</c> overrides are read then, so a test that changes them sees the change on its next call),
/// it hands out every Core service a cmdlet needs, wired the same way for all of them. No static is set anywhere:
/// a different configuration is a different context.
/// </summary>
internal sealed class CmdletContext(ContainerPaths paths)
{
    private ContainerRuntime? _runtime;

    public static CmdletContext FromEnvironment() => new(ContainerPaths.FromEnvironment());

    public ContainerPaths Paths { get; } = paths;

    private ImageStore? _images;

    /// <summary>The image store; it asks the container records which containers use an image (Remove-ContainerImage refuses those).
    /// Opened once per call (opening makes its directories and clears abandoned ingests): New-Container looks the image up
    /// for -Pull and again to create from it. Every lookup still reads the store's database.</summary>
    public ImageStore OpenImageStore() =>
        _images ??= ImageStore.Open(Paths, ImageStoreOptions.FromEnvironment(Paths) with { Users = new ContainerImageUsers(() => Containers) });

    /// <summary>The container records (cheap: no state is read).</summary>
    public ContainerStore Containers => new(Paths);

    /// <summary>The container runtime; the image store is opened only when a container is created.</summary>
    public ContainerRuntime Runtime => _runtime ??= new ContainerRuntime(Paths, new DeferredImageSource(() => new StoreImageSource(OpenImageStore())))
    {
        Pods = new PodStore(Paths),
        HandshakeOnCaller = true,
    };

    /// <summary>Pods, over the same runtime.</summary>
    public PodRuntime Pods => new(Runtime, new PodStore(Paths));

    /// <summary>registries.conf (and its drop-ins) as Core/Policy reads it.</summary>
    public RegistriesConfiguration Registries() => RegistriesConfiguration.Load(Paths);

    /// <summary>registries.conf as the registry client consults it (mirrors, blocks, insecure hosts).</summary>
    public IRegistryResolver Resolver() => PolicyRegistryResolver.Load(Paths);

    /// <summary>policy.json in force.</summary>
    public SignaturePolicy SignaturePolicy() => Core.Policy.SignaturePolicy.Load(Paths);

    /// <summary>policy.json as the puller enforces it, before anything is stored.</summary>
    public PolicyImageTrust ImageTrust() => PolicyImageTrust.Load(Paths);

    /// <summary>The auth files, for listing, storing and erasing logins.</summary>
    public CredentialStore Logins() => CredentialStore.FromEnvironment(Paths);

    /// <summary>The auth files' credentials (then the user's and Docker's), with -Credential bound to the given hosts only.</summary>
    public ICredentialSource Credentials(PSCredential? credential, IEnumerable<string> hosts)
    {
        ICredentialSource source = PolicyCredentialSource.Load(Paths);
        if (credential is null) return source;
        var explicitCredential = new Core.Registry.RegistryCredential(credential.UserName, new NetworkCredential("", credential.Password).Password);
        foreach (string host in hosts.Distinct(StringComparer.OrdinalIgnoreCase))
            source = new BoundCredential(host, explicitCredential, source);
        return source;
    }

    /// <summary>Signature checks of remote images.</summary>
    public RemoteTrust RemoteTrust() => Core.Trust.RemoteTrust.Load(Paths);

    /// <summary>Signature checks of images in the given store.</summary>
    public LocalTrust LocalTrust(ImageStore store) => Core.Trust.LocalTrust.Load(Paths, store);
}
