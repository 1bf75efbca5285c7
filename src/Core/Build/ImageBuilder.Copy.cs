using System.Globalization;
using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Native;

namespace Containers.Core.Build;

internal sealed partial class ImageBuilder
{
    private async Task CopyStepAsync(StageState s, Instruction ins, Func<string, string> expand, CancellationToken ct)
    {
        var words = InstructionArguments.JsonArray(ins.Arguments) ?? InstructionArguments.Words(ins.Arguments, e => ins.Invalid(e));
        words = words.Select(expand).ToList();
        if (words.Count < 2) throw ins.Invalid("one or more sources and a destination");
        foreach (string flag in ins.Flags.Keys)
            if (flag is not ("from" or "chown" or "chmod") || (flag == "from" && ins.Keyword == "ADD"))
                throw ins.Invalid($"the flags {(ins.Keyword == "ADD" ? "--chown, --chmod" : "--from, --chown, --chmod")}, not --{flag}");
        string destRaw = words[^1];
        string dest = ConfigChanges.CleanPath(destRaw.StartsWith('/') ? destRaw : (s.Exec.WorkingDir ?? "/") + "/" + destRaw).TrimStart('/');
        uint? mode = ins.Flags.TryGetValue("chmod", out var chmod)
            ? uint.TryParse(chmod, NumberStyles.None, CultureInfo.InvariantCulture, out _) && chmod.All(c => c is >= '0' and <= '7') ? Convert.ToUInt32(chmod, 8) : throw ins.Invalid("--chmod=<octal mode>")
            : null;
        var stageDirs = s.Layers.Select(l => l.Directory).Reverse().ToList();
        (uint, uint)? owner = ins.Flags.TryGetValue("chown", out var chown) ? ResolveOwner(ins, chown, stageDirs) : null;

        string? materialized = null;
        using var heredocs = new HeredocFiles(ins.Heredocs, expand);
        try
        {
            string root;
            List<string> sources;
            if (ins.Flags.TryGetValue("from", out var from))
            {
                materialized = await MaterializeAsync(ins, expand(from), ct).ConfigureAwait(false);
                root = materialized;
                sources = words[..^1].Select(w => heredocs.Find(w) ?? ResolveIn(materialized, w, ins)).ToList();
            }
            else
            {
                root = _context.Directory;
                sources = words[..^1].SelectMany(w => heredocs.Find(w) is { } file ? [file]
                    : ins.Keyword == "ADD" && w.Contains("://", StringComparison.Ordinal)
                    ? throw new ContainersException("UnsupportedContainerfileFeature", ErrorKind.NotSupported, $"{ins.Where}: ADD of a URL is not supported.", ins.Where,
                        "Download the file into the context first, then ADD or COPY it.")
                    : _context.Resolve(w, ins)).ToList();
                owner ??= (0u, 0u); // context files belong to root in the image, whoever owns them here
            }
            bool destIsDir = destRaw.EndsWith('/') || sources.Count > 1 || (sources.Count == 1 && Directory.Exists(sources[0]));
            // New directories get the build's time in the layer, and none in the cache key's hash.
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), time = now;
            void Write(LayerTarWriter tar, CancellationToken t)
            {
                var w = new CopyLayerWriter(tar, stageDirs, time)
                {
                    Owner = owner, Mode = mode, IncludeRoot = root,
                    Include = materialized is null ? rel => !_context.IsExcluded(rel) : null,
                };
                foreach (string src in sources)
                {
                    t.ThrowIfCancellationRequested();
                    if (Directory.Exists(src) && LinkStat.Get(src)?.Type == FileSystemCalls.S_IFDIR) w.CopyDirectory(src, dest);
                    else if (ins.Keyword == "ADD" && !heredocs.Contains(src) && OpenArchive(src) is { } archive)
                        using (archive) w.Extract(archive, dest);
                    else w.CopyFile(src, destIsDir ? (dest.Length == 0 ? "" : dest + "/") + Path.GetFileName(src) : dest);
                }
            }
            // The inputs are the layer's own bytes: hashed first, so an unchanged COPY is a cache hit without storing anything.
            string inputs;
            using (var hash = new HashOnlyStream())
            {
                time = 0;
                using (var tar = new LayerTarWriter(hash)) Write(tar, ct);
                inputs = hash.Digest();
                time = now;
            }
            string text = ins.Keyword + " " + string.Join(' ', ins.Flags.Select(f => $"--{f.Key}={f.Value}").Concat(words));
            string key = BuildCache.Key(s.ParentId, text, inputs);
            if (await TryCacheAsync(s, key, ins.Text, ct).ConfigureAwait(false)) return;
            Report(ins.Text, cached: false);
            await AddLayerStepAsync(s, $"/bin/sh -c #(nop) {text}", key, Write, ct).ConfigureAwait(false);
        }
        finally
        {
            if (materialized is not null) ContainerStoreCleanup(materialized);
        }
    }

    /// <summary>The file system of an earlier stage or a local image, unpacked into a private temp dir for COPY --from.</summary>
    private async Task<string> MaterializeAsync(Instruction ins, string from, CancellationToken ct)
    {
        var image = _stageResults.GetValueOrDefault(from.ToLowerInvariant()) ?? await store.FindAsync(from, ct).ConfigureAwait(false)
            ?? throw new ContainersException("BuildStageNotFound", ErrorKind.NotFound, $"{ins.Where}: --from={from} names no earlier stage and no local image.", from,
                "Name a stage defined above this instruction (FROM ... AS name), its number, or an installed image.");
        string dir = Path.Combine(Path.GetTempPath(), "pscontainers-copyfrom-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var dirs = image.Layers.Select(l => l.Directory).Reverse().ToList();
        await Task.Run(() =>
        {
            var pipe = new MemoryStream();
            using (var tar = new LayerTarWriter(pipe)) new LayeredTreeWriter(dirs, LayeredTreeMode.Flat).Write(tar, ct);
            pipe.Position = 0;
            using var unpacker = new LayerUnpacker(dir, store.Options.Unpack);
            unpacker.Unpack(pipe, ct);
        }, ct).ConfigureAwait(false);
        return dir;
    }

    private static string ResolveIn(string root, string source, Instruction ins)
    {
        string full = Path.GetFullPath(Path.Combine(root, ConfigChanges.CleanPath("/" + source).TrimStart('/')));
        if (!File.Exists(full) && !Directory.Exists(full) && LinkStat.Get(full) is null)
            throw new ContainersException("BuildSourceNotFound", ErrorKind.NotFound, $"{ins.Where}: {ins.Keyword} --from source '{source}' does not exist in that stage.", ins.Where,
                "Check the path in the stage it comes from.");
        return full;
    }

    private static void ContainerStoreCleanup(string dir)
    {
        try { Runtime.ContainerStore.DeleteTree(dir); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>A local archive ADD unpacks (tar, possibly gzip or zstd compressed), or null for any other file.</summary>
    private static Stream? OpenArchive(string path)
    {
        if (!File.Exists(path)) return null;
        var file = File.OpenRead(path);
        var head = new byte[4];
        int n = file.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        file.Position = 0;
        var decompressed = LayerDecompression.Open(file, LayerDecompression.Sniff(head.AsSpan(0, n)));
        var block = new byte[512];
        int got;
        try { got = decompressed.ReadAtLeast(block, 512, throwOnEndOfStream: false); }
        catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException) { got = 0; }
        file.Dispose();
        if (got < 512 || !block.AsSpan(257, 5).SequenceEqual("ustar"u8)) return null;
        var again = File.OpenRead(path);
        return LayerDecompression.Open(again, LayerDecompression.Sniff(head.AsSpan(0, n)));
    }

    /// <summary>--chown=user[:group], numeric or names looked up in the stage's /etc/passwd and /etc/group.</summary>
    private static (uint, uint) ResolveOwner(Instruction ins, string spec, IReadOnlyList<string> stageDirs)
    {
        string[] parts = spec.Split(':', 2);
        string? Lookup(string file, string name, int field)
        {
            string? path = stageDirs.Select(d => Path.Combine(d, file)).FirstOrDefault(File.Exists);
            if (path is null) return null;
            return File.ReadLines(path).Select(l => l.Split(':')).FirstOrDefault(f => f.Length > field && f[0] == name)?[field];
        }
        uint Id(string value, string file)
        {
            if (uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out uint id)) return id;
            return uint.TryParse(Lookup(file, value, 2), NumberStyles.None, CultureInfo.InvariantCulture, out id) ? id
                : throw ins.Invalid($"--chown with a numeric id or a name the image's /{file} has, not '{value}'");
        }
        uint uid = Id(parts[0], "etc/passwd");
        uint gid = parts.Length == 2 ? Id(parts[1], "etc/group")
            : uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out _) ? uid
            : uint.Parse(Lookup("etc/passwd", parts[0], 3) ?? "0", CultureInfo.InvariantCulture);
        return (uid, gid);
    }

    /// <summary>Hashes what is written and keeps nothing.</summary>
    private sealed class HashOnlyStream : Stream
    {
        private readonly System.Security.Cryptography.IncrementalHash _hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        public string Digest() => Convert.ToHexStringLower(_hash.GetCurrentHash());
        public override void Write(byte[] buffer, int offset, int count) => _hash.AppendData(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => _hash.AppendData(buffer);
        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => 0;
        public override long Position { get => 0; set { } }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { if (disposing) _hash.Dispose(); base.Dispose(disposing); }
    }
}
