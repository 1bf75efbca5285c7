using System.Runtime;

namespace Containers.Init.Native;

/// <summary>
/// Keeps the runtime from starting a garbage collection while a child is cloned or forked. The child's code is
/// compiled with GC polls (after every <c>SuppressGCTransition</c> call): had another runtime thread (the finalizer
/// thread) begun a collection at the moment of clone, the child's copy of memory would say "threads are being
/// suspended" and its first poll would wait for a collection that never ends in the child. Entering the region runs
/// one small blocking collection (the heap here is a few hundred KiB) and then no thread may start another until
/// <see cref="Dispose"/>, which the parent calls right after clone returns (never the child).
/// </summary>
internal readonly struct NoGc : IDisposable
{
    private readonly bool _entered;

    private NoGc(bool entered) => _entered = entered;

    public static NoGc Enter()
    {
        try { return new NoGc(GC.TryStartNoGCRegion(256 * 1024)); }
        catch (InvalidOperationException) { return default; } // already in a region
    }

    public void Dispose()
    {
        if (!_entered || GCSettings.LatencyMode != GCLatencyMode.NoGCRegion) return;
        try { GC.EndNoGCRegion(); }
        catch (InvalidOperationException) { } // the budget ran out and a collection ended the region
    }
}
