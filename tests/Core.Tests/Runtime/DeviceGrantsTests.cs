using Containers.Core.Cgroups;
using Containers.Core.Errors;
using Containers.Core.Runtime;

namespace Containers.Core.Tests.Runtime;

/// <summary>-Device values against this host's real nodes, and what the bundle's config.json says about devices.</summary>
public sealed class DeviceGrantsTests
{
    private static readonly string[] Disks = ["/dev/vda", "/dev/sda", "/dev/loop0"];

    [Theory]
    [InlineData("/dev/null", "/dev/null", "rwm")]
    [InlineData("/dev/null:/dev/quiet", "/dev/quiet", "rwm")]
    [InlineData("/dev/null:rw", "/dev/null", "rw")]
    [InlineData("/dev/null:/dev/sub/quiet:mr", "/dev/sub/quiet", "rm")]
    public void ParsesTheDockerFormsAndReadsTheNumbersFromTheHostNode(string value, string path, string access)
    {
        var d = DeviceGrants.Parse(value);
        Assert.Equal(("/dev/null", path, "c", 1L, 3L, access), (d.HostPath, d.Path, d.Type, d.Major, d.Minor, d.Access));
        Assert.Equal(0x1b6u, d.FileMode);
    }

    [Fact]
    public void ReadsBlockDevicesAndFollowsLinks()
    {
        string? disk = Disks.FirstOrDefault(File.Exists);
        if (disk is null) return;
        Assert.Equal("b", DeviceGrants.Parse(disk).Type);
        string link = Path.Combine(Path.GetTempPath(), "devlink-" + Guid.NewGuid().ToString("N")[..8]);
        File.CreateSymbolicLink(link, "/dev/zero");
        try
        {
            var d = DeviceGrants.Parse(link + ":/dev/zero");
            Assert.Equal((1L, 5L, "/dev/zero"), (d.Major, d.Minor, d.Path));
        }
        finally { File.Delete(link); }
    }

    [Theory]
    [InlineData("/dev/pscontainers-missing", "DeviceNotFound", "/dev/pscontainers-missing")]
    [InlineData("/etc/hostname", "NotADevice", "/etc/hostname")]
    [InlineData("/tmp", "NotADevice", "/tmp")]
    [InlineData("dev/null", "InvalidDevice", "dev/null")]
    [InlineData("", "InvalidDevice", "")]
    [InlineData("/dev/null:/dev/a:r:w", "InvalidDevice", "/dev/null:/dev/a:r:w")]
    [InlineData("/dev/null:/etc/passwd", "InvalidDevice", "/dev/null:/etc/passwd")]
    [InlineData("/dev/null:/dev/../etc/x", "InvalidDevice", "/dev/null:/dev/../etc/x")]
    [InlineData("/dev/null:rwx", "InvalidDeviceAccess", "rwx")]
    public void BadValuesAreTypedErrorsNamingThePath(string value, string errorId, string target)
    {
        var e = Assert.Throws<ContainersException>(() => DeviceGrants.Parse(value));
        Assert.Equal((errorId, target), (e.ErrorId, e.Target as string));
        Assert.Contains(target, e.Message);
    }

    [Fact]
    public void TwoDevicesAtOneContainerPathAreRefused()
    {
        var e = Assert.Throws<ContainersException>(() => DeviceGrants.ParseAll(["/dev/null:/dev/x", "/dev/zero:/dev/x"]));
        Assert.Equal("InvalidDevice", e.ErrorId);
    }

    private static ContainerRecord Record(bool rootless, List<ContainerDevice>? devices) => new()
    {
        Id = new string('a', 64), Name = "t", Command = ["true"], Rootless = rootless,
        Resources = new ContainerResources { Devices = devices },
    };

    [Fact]
    public void ConfigAlwaysListsDenyAllAndTheStandardRulesAndTheCgroupGetsTheGrants()
    {
        var plain = BundleBuilder.Build(Record(false, null), [], [], [], null, 1024);
        Assert.Equal(DeviceRules.Default.Select(DeviceRules.V1Line), plain.Linux!.Resources!.Devices!.Select(DeviceRules.V1Line));
        Assert.Null(plain.Linux.Devices);
        Assert.Null(BundleBuilder.ToLinux(new ContainerResources()));

        var fuse = new ContainerDevice { HostPath = "/dev/fuse", Path = "/dev/myfuse", Type = "c", Major = 10, Minor = 229, Access = "rw", FileMode = 0x1b6 };
        var spec = BundleBuilder.Build(Record(false, [fuse]), [], [], [], null, 1024);
        Assert.Equal([.. DeviceRules.Default.Select(DeviceRules.V1Line), "c 10:229 rw"], spec.Linux!.Resources!.Devices!.Select(DeviceRules.V1Line));
        var node = Assert.Single(spec.Linux.Devices!);
        Assert.Equal(("/dev/myfuse", "c", 10L, 229L, 0x1b6u), (node.Path, node.Type, node.Major, node.Minor, node.FileMode));
        Assert.Equal(spec.Linux.Resources.Devices!.Select(DeviceRules.V1Line), BundleBuilder.ToLinux(Record(false, [fuse]).Resources)!.Devices!.Select(DeviceRules.V1Line));
    }

    [Fact]
    public void RootlessContainersGetTheHostNodeBoundInsteadOfMade()
    {
        var fuse = new ContainerDevice { HostPath = "/dev/fuse", Path = "/dev/myfuse", Type = "c", Major = 10, Minor = 229, Access = "rwm" };
        var spec = BundleBuilder.Build(Record(true, [fuse]), [], [], [], null, 1024);
        Assert.Null(spec.Linux!.Devices);
        var bind = Assert.Single(spec.Mounts!, m => m.Destination == "/dev/myfuse");
        Assert.Equal(("bind", "/dev/fuse"), (bind.Type, bind.Source));
        Assert.Contains("nosuid", bind.Options!);
    }
}
