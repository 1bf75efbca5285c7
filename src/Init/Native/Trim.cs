using System.Runtime.InteropServices;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Native;

/// <summary>
/// Gives back what an idle monitor holds but does not use. A monitor waiting for its container touches a few pages
/// of code (poll, the log pump), yet its resident set still counts every page of the program text, read-only data
/// and libc that starting the container touched: about 5 MiB of clean file pages. <see cref="DropCleanFilePages"/>
/// unmaps those pages from this process (madvise MADV_DONTNEED on the pages of private file mappings that
/// /proc/self/pagemap shows as present file pages, never a copied-on-write one). They stay in the page cache, shared with every other process, and come back with a minor fault when the
/// monitor needs them again (a log line, the container's exit).
/// </summary>
internal static unsafe class Trim
{
    private const int MADV_RANDOM = 1, MADV_DONTNEED = 4;

    /// <summary>Returns the number of KiB dropped from the resident set (0 when /proc/self/maps is unreadable).</summary>
    public static long DropCleanFilePages()
    {
        // The finalizer thread's work after the collection (the array pools' trim callback) and malloc's free memory
        // first: both run code whose pages would otherwise fault back right after they are dropped.
        GC.WaitForPendingFinalizers();
        _ = malloc_trim(0);
        string maps;
        try { maps = File.ReadAllText("/proc/self/maps"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
        int pagemap = open(NativeString.Of("/proc/self/pagemap"), O_RDONLY | O_CLOEXEC, 0);
        if (pagemap < 0) return 0;
        // Every page touched after a page is dropped faults back, with the 64 KiB around it (the kernel's fault-around):
        // dropping while still parsing /proc/self/maps brought back about 1 MiB of program text. So the runs are found
        // first and dropped last, in one loop that touches a few pages; MADV_RANDOM on the mappings asks the kernel to
        // bring back only the page that is touched.
        var runs = new List<(ulong Start, ulong Pages)>(256);
        try
        {
            foreach (var line in maps.AsSpan().EnumerateLines())
                if (PrivateFileMapping(line, out ulong start, out ulong end))
                {
                    _ = madvise((void*)start, (nuint)(end - start), MADV_RANDOM);
                    FindFilePages(pagemap, start, end, runs);
                }
        }
        finally { close(pagemap); }
        long dropped = 0;
        foreach (var (start, pages) in CollectionsMarshal.AsSpan(runs))
            if (madvise((void*)start, (nuint)(pages * 4096), MADV_DONTNEED) == 0) dropped += (long)pages;
        return dropped * 4;
    }

    [DllImport("libc")] private static extern int malloc_trim(nuint pad);

    /// <summary>"start-end perms offset dev inode path": a private mapping of a file (inode not 0).</summary>
    private static bool PrivateFileMapping(ReadOnlySpan<char> line, out ulong start, out ulong end)
    {
        start = end = 0;
        var f = new SpanFields(line);
        var range = f.Next();
        var perms = f.Next();
        f.Next(); f.Next(); // offset, dev
        var inode = f.Next();
        int dash = range.IndexOf('-');
        return dash > 0 && perms.Length == 4 && perms[3] == 'p' && inode.Length > 0 && inode is not "0"
            && ulong.TryParse(range[..dash], System.Globalization.NumberStyles.HexNumber, null, out start)
            && ulong.TryParse(range[(dash + 1)..], System.Globalization.NumberStyles.HexNumber, null, out end);
    }

    /// <summary>
    /// Adds to <paramref name="runs"/> the resident pages of [start, end) that still hold the file's bytes (pagemap:
    /// present, file page). A copied-on-write page (relocations, written data) is anonymous and stays: dropping it would
    /// revert it to the file's bytes.
    /// </summary>
    private static void FindFilePages(int pagemap, ulong start, ulong end, List<(ulong Start, ulong Pages)> runs)
    {
        const int Batch = 512;
        ulong* entries = stackalloc ulong[Batch];
        ulong runStart = 0, runPages = 0;
        for (ulong page = start; page < end; page += Batch * 4096UL)
        {
            ulong count = Math.Min(Batch, (end - page) / 4096);
            nint got = pread(pagemap, entries, (nint)(count * 8), (long)(page / 4096 * 8));
            if (got <= 0) break;
            count = (ulong)got / 8;
            for (ulong i = 0; i < count; i++)
            {
                ulong e = entries[i];
                bool clean = (e & (1UL << 63)) != 0 && (e & (1UL << 61)) != 0;
                if (clean)
                {
                    if (runPages == 0) runStart = page + i * 4096;
                    runPages++;
                    continue;
                }
                if (runPages > 0) runs.Add((runStart, runPages));
                runPages = 0;
            }
        }
        if (runPages > 0) runs.Add((runStart, runPages));
    }

    private ref struct SpanFields(ReadOnlySpan<char> text)
    {
        private ReadOnlySpan<char> _rest = text;

        public ReadOnlySpan<char> Next()
        {
            _rest = _rest.TrimStart(' ');
            int sp = _rest.IndexOf(' ');
            var field = sp < 0 ? _rest : _rest[..sp];
            _rest = sp < 0 ? [] : _rest[sp..];
            return field;
        }
    }
}
