using Containers.Core.Errors;

namespace Containers.Core.Spec;

/// <summary>
/// Content that does not match its descriptor (size or digest), wherever it is checked: while a blob
/// streams from a registry, while the store writes it, while an archive is read. One id and one message
/// shape for each, so a script can rely on them whichever path found the mismatch.
/// </summary>
internal static class ContentErrors
{
    public const string SizeMismatchId = "SizeMismatch";
    public const string DigestMismatchId = "DigestMismatch";

    /// <param name="what">What was read, as the sentence's subject ("The blob sha256:…", "'host/repo@sha256:…'").</param>
    /// <param name="actual">The bytes seen; more than <paramref name="expected"/> (or null when reading stopped there) reads "longer than".</param>
    public static ContainersException SizeMismatch(string what, string target, long expected, long? actual) =>
        new(SizeMismatchId, ErrorKind.InvalidData,
            actual is null || actual > expected
                ? $"{what} is longer than its declared {expected} bytes; it was not stored."
                : $"{what} has {actual} bytes, not the declared {expected}; it was not stored.",
            target);

    public static ContainersException DigestMismatch(string what, string target, string expected, string actual) =>
        new(DigestMismatchId, ErrorKind.InvalidData, $"{what} has digest {actual}, not the expected {expected}; it was not stored.", target,
            "The registry or something between it and you altered the content; try another source.");
}
