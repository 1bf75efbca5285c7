using Containers.Core.Spec;

namespace Containers.Core.Images;

/// <summary>
/// Signatures kept beside the images they sign, so an image can be re-checked against the trust policy
/// offline: one opaque document per signed manifest digest under signatures/&lt;algorithm&gt;/&lt;hex&gt;
/// (the policy area defines its content). It goes when the last image with that digest is removed.
/// </summary>
internal sealed partial class ImageStore
{
    public string SignaturesDir => Path.Combine(Root, "signatures");

    private string SignaturesPath(Digest manifestDigest) => Path.Combine(SignaturesDir, manifestDigest.Algorithm, manifestDigest.Encoded);

    /// <summary>Records (replacing) the signature document of a manifest digest.</summary>
    public void WriteSignatures(Digest manifestDigest, ReadOnlySpan<byte> document)
    {
        StoreIo.WriteAtomic(SignaturesPath(manifestDigest), document, Options.Durable);
        Log.Debug("Stored signatures of {Digest}", manifestDigest);
    }

    /// <summary>The signature document of a manifest digest, or null when none was stored.</summary>
    public byte[]? ReadSignatures(Digest manifestDigest)
    {
        try { return File.ReadAllBytes(SignaturesPath(manifestDigest)); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
    }

    /// <summary>Removes the signature document of a manifest digest (under the store lock, when its last image goes).</summary>
    private void DeleteSignatures(Digest manifestDigest)
    {
        string path = SignaturesPath(manifestDigest);
        if (File.Exists(path)) File.Delete(path);
    }
}
