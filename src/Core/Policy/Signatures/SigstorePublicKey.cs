using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace Containers.Core.Policy;

/// <summary>A sigstore public key (PEM SubjectPublicKeyInfo): ECDSA (P-256/384/521), Ed25519 or RSA.</summary>
internal sealed class SigstorePublicKey
{
    private readonly byte[] _spki;

    private SigstorePublicKey(byte[] spki, string algorithm)
    {
        _spki = spki;
        Algorithm = algorithm;
    }

    /// <summary>ECDSA, Ed25519 or RSA.</summary>
    public string Algorithm { get; }

    public static SigstorePublicKey FromPem(string pem)
    {
        var field = PemEncoding.Find(pem);
        string label = pem[field.Label];
        if (label != "PUBLIC KEY") throw new FormatException($"expected a PEM PUBLIC KEY, found {label}");
        byte[] der = Convert.FromBase64String(pem[field.Base64Data]);
        var key = PublicKeyFactory.CreateKey(der);
        string algorithm = key switch
        {
            ECPublicKeyParameters => "ECDSA",
            Ed25519PublicKeyParameters => "Ed25519",
            RsaKeyParameters => "RSA",
            _ => throw new FormatException($"unsupported key type {key.GetType().Name}"),
        };
        return new SigstorePublicKey(der, algorithm);
    }

    /// <summary>Verifies a signature over the payload as sigstore does: SHA-256 ECDSA (ASN.1) / RSA PKCS#1 v1.5, or Ed25519 over the raw payload.</summary>
    public bool Verify(byte[] payload, byte[] signature)
    {
        try
        {
            switch (Algorithm)
            {
                case "ECDSA":
                    using (var ec = ECDsa.Create())
                    {
                        ec.ImportSubjectPublicKeyInfo(_spki, out _);
                        var hash = ec.KeySize switch { 384 => HashAlgorithmName.SHA384, 521 => HashAlgorithmName.SHA512, _ => HashAlgorithmName.SHA256 };
                        return ec.VerifyData(payload, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
                    }
                case "RSA":
                    using (var rsa = RSA.Create())
                    {
                        rsa.ImportSubjectPublicKeyInfo(_spki, out _);
                        return rsa.VerifyData(payload, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                    }
                default:
                    var signer = new Ed25519Signer();
                    signer.Init(false, PublicKeyFactory.CreateKey(_spki));
                    signer.BlockUpdate(payload, 0, payload.Length);
                    return signer.VerifySignature(signature);
            }
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
