namespace Containers.Core.Images;

/// <summary>
/// One staging directory for a whole pull: every layer ingest of the pull stages its blob and layer
/// under numbered names in it, so a pull of many small layers pays for one lock file and one directory
/// instead of a lock file and a directory (made and removed) per layer. Crash safety is the same as per-layer staging: the session's lock is held while
/// the pull runs, and a later Open removes the whole directory of a session whose owner is gone.
/// </summary>
internal sealed class IngestSession : IDisposable
{
    private readonly Staging _staging;
    private int _next;

    internal IngestSession(Staging staging) => _staging = staging;

    /// <summary>A fresh path inside the session directory (nothing is created): the ingest adds its own suffixes.</summary>
    internal string NewName() =>
        System.IO.Path.Combine(_staging.Path, Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose() => _staging.Dispose();
}
