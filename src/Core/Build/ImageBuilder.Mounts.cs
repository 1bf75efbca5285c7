using Containers.Core.Errors;
using Containers.Core.Images;
using Containers.Core.Native;
using Containers.Core.Spec;

namespace Containers.Core.Build;

internal sealed partial class ImageBuilder
{
    /// <summary>What a RUN step's <c>--mount</c> flags become for its container, and what they leave to clean up.</summary>
    private sealed class StepMounts : IDisposable
    {
        public List<string> Volumes { get; } = [];
        public List<string> Tmpfs { get; } = [];
        /// <summary>Container paths mounted over: their empty mount points are not part of the layer.</summary>
        public List<string> Targets { get; } = [];
        /// <summary>The content of bind sources, for the cache key: a RUN that reads changed files runs again.</summary>
        public List<string> KeyInputs { get; } = [];
        public List<string> TempDirs { get; } = [];
        public List<IDisposable> Locks { get; } = [];

        public void Dispose()
        {
            foreach (var l in Locks) l.Dispose();
            foreach (string d in TempDirs) ContainerStoreCleanup(d);
        }
    }

    private async Task<StepMounts> PrepareMountsAsync(Instruction ins, Func<string, string> expand, CancellationToken ct)
    {
        var mounts = new StepMounts();
        try
        {
            foreach (string spec in ins.Mounts)
            {
                var m = RunMount.Parse(expand(spec), ins);
                switch (m.Type)
                {
                    case "tmpfs":
                        mounts.Tmpfs.Add(m.Target + ":mode=1777" + (m.Size is null ? "" : ",size=" + m.Size));
                        break;
                    case "secret":
                        if (options.Secrets.GetValueOrDefault(m.Id!) is not { } secret)
                        {
                            if (m.Required)
                                throw new ContainersException("BuildSecretNotFound", ErrorKind.NotFound, $"{ins.Where}: the secret '{m.Id}' is required and was not given.", ins.Where,
                                    $"Pass it: New-ContainerImage -Secret @{{ {m.Id} = '/path/to/file' }}.");
                            continue;
                        }
                        mounts.Volumes.Add(Bind(PrivateCopy(mounts, secret, m.Mode ?? 0b100_000_000, m.Uid, m.Gid), m.Target, readOnly: true, ins));
                        break;
                    case "cache":
                        mounts.Volumes.Add(Bind(CacheDirectory(mounts, m), m.Target, !m.ReadWrite, ins));
                        break;
                    default:
                        mounts.Volumes.Add(Bind(await BindSourceAsync(mounts, m, ins, expand, ct).ConfigureAwait(false), m.Target, !m.ReadWrite, ins));
                        break;
                }
                mounts.Targets.Add(m.Target);
            }
            return mounts;
        }
        catch
        {
            mounts.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A bind's source: from the context (the ignore file applies: excluded files are not there) or from a stage
    /// or image (<c>from=</c>). Writes (<c>rw</c>) land in a private copy and are thrown away, as in BuildKit.
    /// </summary>
    private async Task<string> BindSourceAsync(StepMounts mounts, RunMount m, Instruction ins, Func<string, string> expand, CancellationToken ct)
    {
        string root, source;
        Func<string, bool>? include = null;
        if (m.From is { } from)
        {
            root = await MaterializeAsync(ins, expand(from), ct).ConfigureAwait(false);
            mounts.TempDirs.Add(root);
            source = ResolveIn(root, m.Source ?? "/", ins);
        }
        else
        {
            root = _context.Directory;
            source = m.Source is null or "." or "/" ? root : _context.Resolve(m.Source, ins) is [var one] ? one : throw ins.Invalid("one bind source, not a pattern");
            include = rel => !_context.IsExcluded(rel);
        }
        bool isDir = LinkStat.Get(source)?.Type == FileSystemCalls.S_IFDIR;
        bool filtered = isDir && include is not null && _context.IgnoreFile is not null
            && Directory.EnumerateFileSystemEntries(source, "*", SearchOption.AllDirectories).Any(p => !include(Path.GetRelativePath(root, p)));
        Func<string, LinkStatus, bool>? treeFilter = filtered ? (rel, _) => include!(Path.GetRelativePath(root, Path.Combine(source, rel))) : null;

        using (var hash = new HashOnlyStream())
        {
            using (var tar = new LayerTarWriter(hash))
                if (isDir) new LayeredTreeWriter([source], LayeredTreeMode.Flat, include: treeFilter).Write(tar, ct);
                else new CopyLayerWriter(tar, [], 0).CopyFile(source, "f");
            mounts.KeyInputs.Add(m.Target + "\n" + hash.Digest());
        }
        if (!filtered && !m.ReadWrite) return source;

        string copy = Directory.CreateTempSubdirectory("pscontainers-runmount-").FullName;
        mounts.TempDirs.Add(copy);
        var pipe = new MemoryStream();
        using (var tar = new LayerTarWriter(pipe))
            if (isDir) new LayeredTreeWriter([source], LayeredTreeMode.Flat, include: treeFilter).Write(tar, ct);
            else new CopyLayerWriter(tar, [], 0).CopyFile(source, "f");
        pipe.Position = 0;
        using (var unpacker = new LayerUnpacker(copy, store.Options.Unpack)) unpacker.Unpack(pipe, ct);
        return isDir ? copy : Path.Combine(copy, "f");
    }

    /// <summary>A persistent cache directory under the build cache, one per id; locked sharing holds a lock for the step.</summary>
    private string CacheDirectory(StepMounts mounts, RunMount m)
    {
        string dir = Path.Combine(_cache.MountsPath, Digest.Sha256(System.Text.Encoding.UTF8.GetBytes(m.Id!)).Encoded[..32]);
        if (m.Sharing is "locked" or "private") mounts.Locks.Add(FileLock.Acquire(dir + ".lock"));
        if (!Directory.Exists(dir))
        {
            string temp = dir + ".new-" + Guid.NewGuid().ToString("N")[..8];
            Directory.CreateDirectory(temp);
            Files.Chmod(temp, m.Mode ?? 0b111_101_101);
            FileSystemCalls.FchownAt(AtFdCwd, temp, m.Uid, m.Gid);
            try { Directory.Move(temp, dir); }
            catch (IOException) when (Directory.Exists(dir)) { Directory.Delete(temp); } // another build made it first
        }
        return dir;
    }

    private const int AtFdCwd = -100;

    /// <summary>A copy of a host file with the mode and owner the mount asks for, so the host file is never changed.</summary>
    private static string PrivateCopy(StepMounts mounts, string file, uint mode, uint uid, uint gid)
    {
        string dir = Directory.CreateTempSubdirectory("pscontainers-secret-").FullName;
        mounts.TempDirs.Add(dir);
        Files.Chmod(dir, 0b111_001_001);
        string copy = Path.Combine(dir, "secret");
        File.Copy(file, copy);
        Files.Chmod(copy, mode);
        FileSystemCalls.FchownAt(AtFdCwd, copy, uid, gid);
        return copy;
    }

    private static string Bind(string source, string target, bool readOnly, Instruction ins) =>
        source.Contains(':', StringComparison.Ordinal)
            ? throw new ContainersException("UnsupportedContainerfileFeature", ErrorKind.NotSupported, $"{ins.Where}: the mount source {source} has a ':' in its path.", ins.Where,
                "Rename the directory or move the build context.")
            : source + ":" + target + (readOnly ? ":ro" : "");

    /// <summary>
    /// Mount points a step's mounts made in its upper dir (the target and the parents made for it, when the
    /// stage did not have them and nothing else was written into them): left out of the layer.
    /// </summary>
    private static HashSet<string> MadeForMounts(string upper, IReadOnlyList<string> targets, IReadOnlyList<StoredLayer> layers)
    {
        var made = new HashSet<string>(StringComparer.Ordinal);
        bool InStage(string rel) => layers.Any(l => LinkStat.Get(Path.Combine(l.Directory, rel)) is not null);
        foreach (string target in targets)
        {
            string rel = target.TrimStart('/');
            if (rel.Length == 0 || InStage(rel) || LinkStat.Get(Path.Combine(upper, rel)) is not { } st) continue;
            if (st.Type == FileSystemCalls.S_IFDIR ? Directory.EnumerateFileSystemEntries(Path.Combine(upper, rel)).Any() : st.Size != 0) continue;
            made.Add(rel);
            for (string? p = Path.GetDirectoryName(rel); !string.IsNullOrEmpty(p) && !InStage(p); p = Path.GetDirectoryName(p))
            {
                if (Directory.EnumerateFileSystemEntries(Path.Combine(upper, p)).Any(e => !made.Contains(Path.GetRelativePath(upper, e)))) break;
                made.Add(p);
            }
        }
        return made;
    }
}
