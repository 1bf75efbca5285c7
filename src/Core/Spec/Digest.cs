using System.Security.Cryptography;
using Containers.Core.Errors;

namespace Containers.Core.Spec;

/// <summary>An OCI content digest, "algorithm:encoded" (sha256 or sha512, lowercase hex).</summary>
public readonly record struct Digest
{
    private Digest(string algorithm, string encoded)
    {
        Algorithm = algorithm;
        Encoded = encoded;
    }

    public string Algorithm { get; }
    public string Encoded { get; }

    public override string ToString() => Algorithm + ":" + Encoded;

    /// <summary>The first 12 hex digits, as image and container tables show ids.</summary>
    public string Short => Encoded.Length > 12 ? Encoded[..12] : Encoded;

    public static Digest Parse(string value) =>
        TryParse(value, out var d)
            ? d
            : throw new ContainersException("InvalidDigest", ErrorKind.InvalidArgument,
                $"'{value}' is not a valid digest.", value, "Give a digest as sha256:<64 lowercase hex digits>.");

    public static bool TryParse(string? value, out Digest digest)
    {
        digest = default;
        if (value is null) return false;
        int colon = value.IndexOf(':');
        if (colon <= 0) return false;
        string algorithm = value[..colon];
        string encoded = value[(colon + 1)..];
        int expected = algorithm switch { "sha256" => 64, "sha512" => 128, _ => -1 };
        if (expected < 0 || encoded.Length != expected) return false;
        foreach (char c in encoded)
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        digest = new Digest(algorithm, encoded);
        return true;
    }

    public static Digest Sha256(ReadOnlySpan<byte> data) => new("sha256", Convert.ToHexStringLower(SHA256.HashData(data)));

    public static Digest FromHash(string algorithm, byte[] hash) => new(algorithm, Convert.ToHexStringLower(hash));

    /// <summary>An incremental hasher for this digest's algorithm, to verify content while it streams.</summary>
    public IncrementalHash CreateHasher() => Algorithm switch
    {
        "sha256" => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
        "sha512" => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
        _ => throw new InvalidOperationException("default(Digest) has no algorithm"),
    };

    /// <summary>Whether data hashes to this digest.</summary>
    public bool Matches(ReadOnlySpan<byte> data)
    {
        using var hasher = CreateHasher();
        hasher.AppendData(data);
        return Convert.ToHexStringLower(hasher.GetHashAndReset()) == Encoded;
    }
}
