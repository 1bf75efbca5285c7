using System.Diagnostics;
using System.Text;
using Containers.Core.Errors;
using Containers.Core.Runtime;

namespace Containers.Core.Tests.Runtime;

/// <summary>
/// The host reading a hostile root's files (an image layer or a live container): links stay inside the root, FIFOs and
/// devices are refused without opening them for reading, and size is capped. Real files, FIFOs and links in a temp dir.
/// </summary>
public sealed class ContainedFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("contained-").FullName;
    private readonly string _root, _hostSecret;

    public ContainedFileTests()
    {
        _root = Path.Combine(_dir, "root");
        Directory.CreateDirectory(Path.Combine(_root, "etc"));
        // A host file the container must never reach, standing in for the host's /etc/shadow.
        Directory.CreateDirectory(Path.Combine(_dir, "host"));
        _hostSecret = Path.Combine(_dir, "host", "shadow");
        File.WriteAllText(_hostSecret, "root:HOST-SECRET:19000:0:99999:7:::\n");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Passwd => Path.Combine(_root, "etc", "passwd");
    private string? ReadText() => ContainedFile.Read(_root, "etc/passwd", "container test") is { } b ? Encoding.UTF8.GetString(b) : null;

    [Fact]
    public void ARegularFileIsReadWhole()
    {
        File.WriteAllText(Passwd, "root:x:0:0::/root:/bin/sh\n");
        Assert.Equal("root:x:0:0::/root:/bin/sh\n", ReadText());
        Assert.Null(ContainedFile.Read(_root, "etc/group", "container test"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ALinkOutOfTheRootResolvesInsideIt(bool absolute)
    {
        // Absolute, or climbing with .. far past the root: both land in the root, where nothing answers to that path.
        string target = absolute ? _hostSecret : string.Concat(Enumerable.Repeat("../", 12)) + _hostSecret.TrimStart('/');
        File.CreateSymbolicLink(Passwd, target);
        Assert.Null(ReadText());
        // When the root has a file at that path, it is the root's own that is read.
        string inside = Path.Combine(_root, _hostSecret.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(inside)!);
        File.WriteAllText(inside, "root:x:4242:4242::/:/bin/sh\n");
        Assert.Equal("root:x:4242:4242::/:/bin/sh\n", ReadText());
    }

    [Fact]
    public void ADirectoryLinkOnTheWayResolvesInsideToo()
    {
        Directory.Delete(Path.Combine(_root, "etc"));
        File.CreateSymbolicLink(Path.Combine(_root, "etc"), Path.GetDirectoryName(_hostSecret)!);
        Assert.Null(ContainedFile.Read(_root, "etc/shadow", "container test"));
    }

    [Fact]
    public async Task AFifoIsRefusedWithoutBlocking()
    {
        MakeFifo(Passwd);
        var read = Task.Run(ReadText);
        // No writer ever opens the FIFO: an open for reading would block forever.
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(60))));
        var e = await Assert.ThrowsAsync<ContainersException>(() => read);
        Assert.Equal("ContainerFileNotRegular", e.ErrorId);
        Assert.Contains("/etc/passwd of container test is a FIFO", e.Message);
    }

    [Fact]
    public void ALinkToADeviceOrADirectoryIsRefused()
    {
        Directory.CreateDirectory(Path.Combine(_root, "dev"));
        File.CreateSymbolicLink(Passwd, "/dev");
        Assert.Equal("ContainerFileNotRegular", Assert.Throws<ContainersException>(ReadText).ErrorId);
    }

    [Fact]
    public void SizeIsCapped()
    {
        using (var f = File.Create(Passwd)) f.SetLength(ContainedFile.MaxBytes + 1L); // sparse: costs no disk
        var e = Assert.Throws<ContainersException>(ReadText);
        Assert.Equal(("ContainerFileTooLarge", ErrorKind.LimitExceeded, "container test"), (e.ErrorId, e.Kind, e.Target));
        using (var f = File.OpenWrite(Passwd)) f.SetLength(ContainedFile.MaxBytes);
        Assert.Equal(ContainedFile.MaxBytes, ContainedFile.Read(_root, "etc/passwd", "container test")!.Length);
    }

    [Fact]
    public void ImageUsersNeverReadTheHostThroughALayerLink()
    {
        File.CreateSymbolicLink(Passwd, _hostSecret);
        // The host file's line "root:HOST-SECRET:19000:..." would give uid 19000.
        var e = Assert.Throws<ContainersException>(() => ImageUsers.Resolve("root", [_root], "image hostile"));
        Assert.Equal("ContainerFileUnreadable", e.ErrorId);
        Assert.Contains("image hostile", e.Message);
        // A link to the layer's own file is followed inside the layer.
        File.Delete(Passwd);
        File.WriteAllText(Path.Combine(_root, "etc", "passwd.real"), "root:x:0:0::/root:/bin/sh\nweb:x:33:33::/var/www:/bin/sh\n");
        File.CreateSymbolicLink(Passwd, "/etc/passwd.real");
        Assert.Equal(33u, ImageUsers.Resolve("web", [_root], "image hostile").Uid);
    }

    [Fact]
    public async Task ImageUsersRefuseAFifoPasswdWithATypedError()
    {
        MakeFifo(Passwd);
        var resolve = Task.Run(() => ImageUsers.Resolve("root", [_root], "image hostile"));
        Assert.Same(resolve, await Task.WhenAny(resolve, Task.Delay(TimeSpan.FromSeconds(60))));
        Assert.Equal("ContainerFileNotRegular", (await Assert.ThrowsAsync<ContainersException>(() => resolve)).ErrorId);
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", path);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }
}
