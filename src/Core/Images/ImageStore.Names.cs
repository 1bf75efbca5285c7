using Containers.Core.Errors;
using Containers.Core.Spec;

namespace Containers.Core.Images;

internal sealed partial class ImageStore
{
    /// <summary>The registry a local name without one gets, as podman names local images.</summary>
    public const string LocalRegistry = "localhost";

    /// <summary>
    /// The stored form of an image name: registry/repository:tag, a short name under localhost/,
    /// :latest when no tag is given. Digests are not names.
    /// </summary>
    public static string NormalizeName(string name)
    {
        var r = ImageReference.Parse(name);
        if (r.Digest is not null && r.Tag is null)
            throw new ContainersException("InvalidImageName", ErrorKind.InvalidArgument,
                $"'{name}' names a digest; an image name needs a tag.", name, "Give a name such as registry/name:tag.");
        if (r.IsShortName) r = r.WithRegistry(LocalRegistry);
        return r.Name + ":" + (r.Tag ?? "latest");
    }

    /// <summary>Splits a stored name into repository (registry/path) and tag.</summary>
    public static (string Repository, string Tag) SplitName(string storedName)
    {
        int colon = storedName.LastIndexOf(':');
        int slash = storedName.LastIndexOf('/');
        return colon > slash ? (storedName[..colon], storedName[(colon + 1)..]) : (storedName, "latest");
    }

    /// <summary>Resolves a user's image reference against the records; matchedName is the stored name it hit, if any.</summary>
    internal static ImageRecord? Resolve(ImageDatabase db, string query, out string? matchedName)
    {
        matchedName = null;
        query = query.Trim();
        if (query.Length == 0) return null;

        // A full digest: the image id (config digest) or the manifest digest.
        if (Digest.TryParse(query, out var digest))
            return Single(db.Images.Where(r => r.ConfigDigest == digest.ToString() || r.Digest == digest.ToString() || r.Digests.Contains(digest.ToString())), query);

        // An exact stored name wins over everything else.
        var exact = db.Images.FirstOrDefault(r => r.Names.Contains(query));
        if (exact is not null) { matchedName = query; return exact; }

        // An id or id prefix (at least 3 hex digits).
        if (query.Length is >= 3 and <= 64 && query.All(c => char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c)))
        {
            var byId = db.Images.Where(r => r.Id.StartsWith(query, StringComparison.Ordinal)).ToList();
            if (byId.Count == 1) return byId[0];
            if (byId.Count > 1)
                throw new ContainersException("AmbiguousImageId", ErrorKind.InvalidArgument,
                    $"The id prefix '{query}' matches {byId.Count} images.", query, "Give more digits of the id.");
        }

        if (!ImageReference.TryParse(query, out var reference)) return null;
        if (reference.Digest is { } d && reference.Tag is null)
        {
            var byDigest = db.Images.Where(r => (r.Digest == d.ToString() || r.Digests.Contains(d.ToString()))
                                                && r.Names.Any(n => RepositoryMatches(SplitName(n).Repository, reference))).ToList();
            return Single(byDigest, query);
        }
        string tag = reference.Tag ?? "latest";
        var candidates = new List<(ImageRecord Record, string Name)>();
        foreach (var r in db.Images)
            foreach (string n in r.Names)
            {
                var (repo, t) = SplitName(n);
                if (t == tag && RepositoryMatches(repo, reference)) candidates.Add((r, n));
            }
        if (candidates.Count == 0) return null;
        var distinct = candidates.Select(c => c.Record).Distinct().ToList();
        if (distinct.Count == 1)
        {
            matchedName = candidates[0].Name;
            return distinct[0];
        }
        // Several images share the short name: prefer the local one, as podman does.
        var local = candidates.Where(c => c.Name.StartsWith(LocalRegistry + "/", StringComparison.Ordinal)).ToList();
        if (local.Count == 1)
        {
            matchedName = local[0].Name;
            return local[0].Record;
        }
        throw new ContainersException("AmbiguousImageName", ErrorKind.InvalidArgument,
            $"'{query}' matches several images: {string.Join(", ", candidates.Select(c => c.Name))}.", query,
            "Give the full name, registry/name:tag, or the image id.");
    }

    private static bool RepositoryMatches(string storedRepository, ImageReference reference)
    {
        if (!reference.IsShortName) return storedRepository == reference.Name;
        // A short name matches the end of a stored name on a path-component boundary.
        string shortName = reference.Repository;
        return storedRepository.EndsWith("/" + shortName, StringComparison.Ordinal) || storedRepository == shortName;
    }

    private static ImageRecord? Single(IEnumerable<ImageRecord> records, string query)
    {
        var list = records.ToList();
        return list.Count switch
        {
            0 => null,
            1 => list[0],
            _ => throw new ContainersException("AmbiguousImageName", ErrorKind.InvalidArgument, $"'{query}' matches {list.Count} images.", query),
        };
    }
}
