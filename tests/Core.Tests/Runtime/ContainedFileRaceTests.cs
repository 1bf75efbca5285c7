using System.Text;
using Containers.Core.Runtime;

namespace Containers.Core.Tests.Runtime;

/// <summary>
/// A contained read while other processes rename files: openat2 under RESOLVE_IN_ROOT answers EAGAIN when any rename on the
/// host races its lookup of "..", which a busy host (other containers being created and removed) does all the time. The
/// read must retry, not fail: New-Container resolves the image's users this way. A real rename storm in a temp dir.
/// </summary>
public sealed class ContainedFileRaceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("contained-race-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AContainedReadThroughDotDotSurvivesRenamesElsewhereOnTheHost()
    {
        string root = Path.Combine(_dir, "root");
        Directory.CreateDirectory(Path.Combine(root, "etc", "real"));
        File.WriteAllText(Path.Combine(root, "etc", "real", "passwd"), "root:x:0:0::/root:/bin/sh\n");
        // A link that climbs with "..": each of those components is where the kernel checks for a racing rename.
        File.CreateSymbolicLink(Path.Combine(root, "etc", "passwd"), "../etc/../etc/../etc/real/../real/passwd");
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");
        Directory.CreateDirectory(a);

        using var stop = new CancellationTokenSource();
        var renamer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested) { Directory.Move(a, b); Directory.Move(b, a); }
        });
        try
        {
            for (int i = 0; i < 100_000; i++)
                Assert.Equal("root:x:0:0::/root:/bin/sh\n", Encoding.UTF8.GetString(ContainedFile.Read(root, "etc/passwd", "container test")!));
        }
        finally
        {
            stop.Cancel();
            await renamer;
        }
    }
}
