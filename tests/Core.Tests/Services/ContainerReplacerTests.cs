using Containers.Core.Cgroups;
using Containers.Core.Errors;
using Containers.Core.Runtime;
using Containers.Core.Services;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Services;

/// <summary>Replacing a container that is not running (no process started, no root needed): the new one, or the old one put back.</summary>
public sealed class ContainerReplacerTests : IDisposable
{
    private sealed class Images(RuntimeImage image) : IImageSource
    {
        public bool OldImageGone { get; set; }

        public RuntimeImage Resolve(string reference) => (reference == "test" || reference == image.Id) && !(OldImageGone && reference == image.Id)
            ? image
            : throw new ContainersException("ImageNotFound", ErrorKind.NotFound, "no image " + reference, reference);
    }

    private readonly string _root = Directory.CreateTempSubdirectory("replacer-tests-").FullName;
    private readonly Images _images;
    private readonly ContainerRuntime _runtime;

    public ContainerReplacerTests()
    {
        string layer = Path.Combine(_root, "layer");
        Directory.CreateDirectory(Path.Combine(layer, "etc"));
        File.WriteAllText(Path.Combine(layer, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        _images = new Images(new RuntimeImage(new string('a', 64), "localhost/test:latest", new ContainerConfig { Cmd = ["/bin/sh"] }, [layer]));
        var paths = TestPaths.Under(_root);
        _runtime = new ContainerRuntime(paths, _images, new NoCgroupManager("tests"), "/nonexistent/init");
    }

    public void Dispose()
    {
        // A removal deletes the container's directory in the background: let it end before the root goes.
        ContainerTrash.WaitForDeletions(TimeSpan.FromSeconds(10));
        Directory.Delete(_root, recursive: true);
    }

    private async Task<(ContainerRecord Old, ContainerCreateOptions Desired)> WebAsync(string newWorkingDir)
    {
        var c = await _runtime.CreateAsync(new ContainerCreateOptions { Image = "test", Name = "web", Command = ["sleep", "1"] }, CancellationToken.None);
        var old = _runtime.Store.Get(c.Id);
        var desired = ContainerDefinitions.Copy(old.Definition!, "web");
        desired.WorkingDir = newWorkingDir;
        return (old, desired);
    }

    private Task<ContainerChange> ReplaceAsync(ContainerRecord old, ContainerCreateOptions desired) =>
        new ContainerReplacer(_runtime).ReplaceAsync(old, desired, ContainerDefinitions.Compare(old.Definition, desired), null, CancellationToken.None);

    [Fact]
    public async Task ADifferentDefinitionMakesANewContainerUnderTheSameName()
    {
        var (old, desired) = await WebAsync("/srv");
        var change = await ReplaceAsync(old, desired);
        Assert.Equal(ContainerChangeAction.Recreated, change.Action);
        Assert.Equal("WorkingDir", Assert.Single(change.Changes).Property);
        var now = _runtime.Store.Get("web");
        Assert.NotEqual(old.Id, now.Id);
        Assert.Equal("/srv", now.WorkingDir);
        Assert.Null(_runtime.Store.TryRead(old.Id));
    }

    [Fact]
    public async Task ANewContainerThatCannotBeMadePutsThePreviousOneBack()
    {
        var (old, desired) = await WebAsync("relative/dir");
        var e = await Assert.ThrowsAsync<ContainersException>(() => ReplaceAsync(old, desired));
        Assert.Equal("ContainerRolledBack", e.ErrorId);
        Assert.Contains("not absolute", e.Message, StringComparison.Ordinal);
        var back = Assert.Single(_runtime.Store.List());
        Assert.Equal("web", back.Name);
        Assert.Equal(old.ImageId, back.ImageId);
        Assert.Equal(["sleep", "1"], back.Command);
        Assert.Empty(ContainerDefinitions.Compare(old.Definition, back.Definition!));
    }

    [Fact]
    public async Task WhenThePreviousImageIsGoneTooTheErrorSaysNeitherExists()
    {
        var (old, desired) = await WebAsync("relative/dir");
        _images.OldImageGone = true;
        var e = await Assert.ThrowsAsync<ContainersException>(() => ReplaceAsync(old, desired));
        Assert.Equal("ContainerNotRestored", e.ErrorId);
        Assert.Empty(_runtime.Store.List());
    }
}
