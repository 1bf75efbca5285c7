using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Containers.Core.Errors;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace Containers.Core.Policy;

/// <summary>
/// A private key for sigstore signing: ECDSA P-256 (the default, as cosign) or Ed25519. Reads and
/// writes the encrypted format cosign and skopeo use ("ENCRYPTED SIGSTORE PRIVATE KEY": PKCS#8
/// sealed with scrypt and NaCl secretbox), and plain PKCS#8 PEM.
/// </summary>
public sealed class SigningKey
{
    private const string EncryptedLabel = "ENCRYPTED SIGSTORE PRIVATE KEY";
    private const string CosignEncryptedLabel = "ENCRYPTED COSIGN PRIVATE KEY";
    private readonly byte[] _pkcs8;

    private SigningKey(byte[] pkcs8)
    {
        _pkcs8 = pkcs8;
        var key = PrivateKeyFactory.CreateKey(pkcs8);
        Algorithm = key switch
        {
            ECPrivateKeyParameters => "ECDSA",
            Ed25519PrivateKeyParameters => "Ed25519",
            RsaPrivateCrtKeyParameters => "RSA",
            _ => throw PolicyErrors.SigningKeyUnsupported($"Keys of type {key.GetType().Name} cannot sign."),
        };
    }

    public string Algorithm { get; }

    public static SigningKey Generate(string algorithm = "ECDSA")
    {
        if (algorithm.Equals("Ed25519", StringComparison.OrdinalIgnoreCase))
        {
            var priv = new Ed25519PrivateKeyParameters(new Org.BouncyCastle.Security.SecureRandom());
            return new SigningKey(PrivateKeyInfoFactory.CreatePrivateKeyInfo(priv).GetEncoded());
        }
        if (!algorithm.Equals("ECDSA", StringComparison.OrdinalIgnoreCase))
            throw PolicyErrors.SigningKeyUnsupported($"'{algorithm}' keys cannot be generated; use ECDSA or Ed25519.", algorithm);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new SigningKey(ec.ExportPkcs8PrivateKey());
    }

    /// <summary>The public key as PEM SubjectPublicKeyInfo, the form policy.json's keyPath reads.</summary>
    public string PublicKeyPem
    {
        get
        {
            var pub = PrivateKeyFactory.CreateKey(_pkcs8) switch
            {
                Ed25519PrivateKeyParameters ed => (Org.BouncyCastle.Crypto.AsymmetricKeyParameter)ed.GeneratePublicKey(),
                _ => null,
            };
            byte[] spki;
            if (pub is not null) spki = SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(pub).GetEncoded();
            else if (Algorithm == "ECDSA") { using var ec = ECDsa.Create(); ec.ImportPkcs8PrivateKey(_pkcs8, out _); spki = ec.ExportSubjectPublicKeyInfo(); }
            else { using var rsa = RSA.Create(); rsa.ImportPkcs8PrivateKey(_pkcs8, out _); spki = rsa.ExportSubjectPublicKeyInfo(); }
            return PemEncoding.WriteString("PUBLIC KEY", spki) + "\n";
        }
    }

    /// <summary>Writes the encrypted private key (mode 0600) and the public key (0644).</summary>
    public void WriteKeyPair(string privateKeyPath, string publicKeyPath, string passphrase)
    {
        AtomicFile.WriteAllText(privateKeyPath, ExportEncryptedPem(passphrase), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        AtomicFile.WriteAllText(publicKeyPath, PublicKeyPem,
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    /// <summary>Reads a private key file (see <see cref="FromPem"/>).</summary>
    public static SigningKey Load(string path, string? passphrase)
    {
        if (!File.Exists(path))
            throw PolicyErrors.SigningKeyNotFound(path);
        return FromPem(File.ReadAllText(path), passphrase);
    }

    public byte[] Sign(byte[] payload)
    {
        switch (Algorithm)
        {
            case "ECDSA":
                using (var ec = ECDsa.Create())
                {
                    ec.ImportPkcs8PrivateKey(_pkcs8, out _);
                    return ec.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
                }
            case "RSA":
                using (var rsa = RSA.Create())
                {
                    rsa.ImportPkcs8PrivateKey(_pkcs8, out _);
                    return rsa.SignData(payload, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                }
            default:
                var signer = new Ed25519Signer();
                signer.Init(true, PrivateKeyFactory.CreateKey(_pkcs8));
                signer.BlockUpdate(payload, 0, payload.Length);
                return signer.GenerateSignature();
        }
    }

    /// <summary>Reads a PEM private key: encrypted sigstore/cosign (needs the passphrase) or plain PKCS#8.</summary>
    public static SigningKey FromPem(string pem, string? passphrase)
    {
        PemFields field;
        try { field = PemEncoding.Find(pem); }
        catch (ArgumentException) { throw Bad("the file is not PEM"); }
        string label = pem[field.Label];
        byte[] der = Convert.FromBase64String(pem[field.Base64Data]);
        switch (label)
        {
            case "PRIVATE KEY":
                return new SigningKey(der);
            case EncryptedLabel or CosignEncryptedLabel:
                if (passphrase is null) throw Bad("the key is encrypted; give its passphrase");
                return new SigningKey(Decrypt(der, passphrase));
            default:
                throw Bad($"PEM '{label}' is not a PKCS#8 or sigstore private key");
        }

        static ContainersException Bad(string why) =>
            new("SigningKeyInvalid", ErrorKind.InvalidData, "The signing key cannot be read: " + why + ".");
    }

    /// <summary>The private key as an encrypted sigstore PEM that skopeo --sign-by-sigstore-private-key and cosign read.</summary>
    public string ExportEncryptedPem(string passphrase, int scryptN = 32768)
    {
        byte[] salt = RandomNumberGenerator.GetBytes(32);
        byte[] nonce = RandomNumberGenerator.GetBytes(24);
        byte[] key = SCrypt.Generate(Encoding.UTF8.GetBytes(passphrase), salt, scryptN, 8, 1, 32);
        byte[] sealedBox = SecretBox(key, nonce, _pkcs8, seal: true)!;
        var envelope = new JsonObject
        {
            ["kdf"] = new JsonObject
            {
                ["name"] = "scrypt",
                ["params"] = new JsonObject { ["N"] = scryptN, ["r"] = 8, ["p"] = 1 },
                ["salt"] = Convert.ToBase64String(salt),
            },
            ["cipher"] = new JsonObject { ["name"] = "nacl/secretbox", ["nonce"] = Convert.ToBase64String(nonce) },
            ["ciphertext"] = Convert.ToBase64String(sealedBox),
        };
        return PemEncoding.WriteString(EncryptedLabel, Encoding.UTF8.GetBytes(envelope.ToJsonString())) + "\n";
    }

    private static byte[] Decrypt(byte[] envelopeJson, string passphrase)
    {
        try
        {
            using var doc = JsonDocument.Parse(envelopeJson);
            var r = doc.RootElement;
            var kdf = r.GetProperty("kdf");
            var p = kdf.GetProperty("params");
            if (kdf.GetProperty("name").GetString() != "scrypt" || r.GetProperty("cipher").GetProperty("name").GetString() != "nacl/secretbox")
                throw new FormatException("unsupported kdf or cipher");
            byte[] key = SCrypt.Generate(Encoding.UTF8.GetBytes(passphrase), Convert.FromBase64String(kdf.GetProperty("salt").GetString()!),
                p.GetProperty("N").GetInt32(), p.GetProperty("r").GetInt32(), p.GetProperty("p").GetInt32(), 32);
            return SecretBox(key, Convert.FromBase64String(r.GetProperty("cipher").GetProperty("nonce").GetString()!),
                       Convert.FromBase64String(r.GetProperty("ciphertext").GetString()!), seal: false)
                   ?? throw PolicyErrors.SigningKeyPassphraseWrong();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            throw PolicyErrors.SigningKeyInvalid(e.Message, e);
        }
    }

    /// <summary>NaCl crypto_secretbox (XSalsa20-Poly1305): seal gives tag||ciphertext; open returns null when the tag is wrong.</summary>
    private static byte[]? SecretBox(byte[] key, byte[] nonce, byte[] input, bool seal)
    {
        var cipher = new XSalsa20Engine();
        cipher.Init(true, new ParametersWithIV(new KeyParameter(key), nonce));
        byte[] otk = new byte[32];
        cipher.ProcessBytes(new byte[32], 0, 32, otk, 0);
        var mac = new Poly1305();
        mac.Init(new KeyParameter(otk));
        if (seal)
        {
            byte[] output = new byte[16 + input.Length];
            cipher.ProcessBytes(input, 0, input.Length, output, 16);
            mac.BlockUpdate(output, 16, input.Length);
            mac.DoFinal(output, 0);
            return output;
        }
        if (input.Length < 16) return null;
        mac.BlockUpdate(input, 16, input.Length - 16);
        byte[] tag = new byte[16];
        mac.DoFinal(tag, 0);
        if (!CryptographicOperations.FixedTimeEquals(tag, input.AsSpan(0, 16))) return null;
        byte[] plain = new byte[input.Length - 16];
        cipher.ProcessBytes(input, 16, plain.Length, plain, 0);
        return plain;
    }
}

/// <summary>Makes sigstore signatures in the form skopeo and cosign produce.</summary>
public static class SigstoreSigner
{
    /// <summary>Signs that <paramref name="manifestDigest"/> is <paramref name="identity"/> (a fully-qualified reference).</summary>
    public static SigstoreSignature Sign(SigningKey key, Spec.ImageReference identity, Spec.Digest manifestDigest, string creator = "Containers PowerShell module")
    {
        if (identity.IsShortName)
            throw PolicyErrors.SignatureIdentityInvalid(identity);
        var payload = new JsonObject
        {
            ["critical"] = new JsonObject
            {
                ["identity"] = new JsonObject { ["docker-reference"] = identity.ToString() },
                ["image"] = new JsonObject { ["docker-manifest-digest"] = manifestDigest.ToString() },
                ["type"] = SigstoreVerifier.PayloadType,
            },
            ["optional"] = new JsonObject { ["creator"] = creator, ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() },
        };
        byte[] bytes = Encoding.UTF8.GetBytes(payload.ToJsonString());
        return new SigstoreSignature(bytes, Convert.ToBase64String(key.Sign(bytes)));
    }
}
