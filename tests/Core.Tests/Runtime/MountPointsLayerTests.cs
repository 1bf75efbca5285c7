using Containers.Core.Runtime;
using Containers.Core.Tests.Images;

namespace Containers.Core.Tests.Runtime;

/// <summary>The store's mount points layer: made whole and private once, made again when an admin deleted it, never half-made.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class MountPointsLayerTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void MakesProcDevAndSysOnceInAPrivateDirectoryWhateverTheUmask()
    {
        string data = _tmp.Sub("data");
        Directory.CreateDirectory(data);
        string dir = MountPointsLayer.Ensure(data)!;
        Assert.Equal(Path.Combine(data, "mountpoints"), dir);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        Assert.Equal(["dev", "proc", "sys"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (string d in Directory.GetDirectories(dir)) Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(d));
        ulong inode = Native.LinkStat.Get(Path.Combine(dir, "proc"))!.Value.Inode;
        Assert.Equal(dir, MountPointsLayer.Ensure(data));
        Assert.Equal(inode, Native.LinkStat.Get(Path.Combine(dir, "proc"))!.Value.Inode);
        Assert.Equal(["mountpoints"], Directory.GetFileSystemEntries(data).Select(Path.GetFileName)); // no temp sibling left
    }

    [Fact]
    public void MakesItAgainWhenDeletedAndCompletesItWhenAnEntryIsGone()
    {
        string data = _tmp.Sub("data");
        Directory.CreateDirectory(data);
        string dir = MountPointsLayer.Ensure(data)!;
        Directory.Delete(dir, recursive: true);
        Assert.Equal(dir, MountPointsLayer.Ensure(data));
        Assert.Equal(3, Directory.GetDirectories(dir).Length);
        Directory.Delete(Path.Combine(dir, "sys"));
        File.SetUnixFileMode(Path.Combine(dir, "dev"), UnixFileMode.UserRead);
        Assert.Equal(dir, MountPointsLayer.Ensure(data));
        Assert.True(Directory.Exists(Path.Combine(dir, "sys")));
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(Path.Combine(dir, "dev")));
    }

    [Fact]
    public void GivesNoLayerAndLeavesNothingWhenAFileTakesItsPlace()
    {
        string data = _tmp.Sub("data");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "mountpoints"), "not a directory");
        Assert.Null(MountPointsLayer.Ensure(data));
        Assert.Equal(["mountpoints"], Directory.GetFileSystemEntries(data).Select(Path.GetFileName));
    }

    private static readonly string[] Generated = ["/c/hosts", "/c/hostname", "/c/resolv.conf"];

    private string Layer(string name, params string[] entries)
    {
        string dir = _tmp.Sub(name);
        Directory.CreateDirectory(dir);
        foreach (string e in entries)
        {
            string path = Path.Combine(dir, e.TrimEnd('/'));
            if (e.EndsWith('/')) Directory.CreateDirectory(path);
            else File.WriteAllText(path, e);
        }
        return dir;
    }

    [Fact]
    public void FindsTheTargetsNoLayerHasAndTheTopmostEtcsModeAndOwner()
    {
        string bottom = Layer("bottom", "etc/", "etc/hostname/");
        string top = Layer("top", "etc/", "etc/passwd");
        File.SetUnixFileMode(Path.Combine(top, "etc"), (UnixFileMode)0x1C9); // 0711
        var etc = MountPointsLayer.FindEtc([bottom, top], Generated)!;
        Assert.Equal(["hosts", "resolv.conf"], etc.Names); // the image has a hostname (a directory even): today's path for it
        Assert.Equal(0x1C9u, etc.Mode);
        Assert.Equal(Native.LinkStat.Get(Path.Combine(top, "etc"))!.Value.Uid, etc.Uid);
        Assert.Equal(["resolv.conf"], MountPointsLayer.FindEtc([top], ["/c/resolv.conf"])!.Names); // -NoHosts and the like
    }

    [Fact]
    public void FindsNoneForAnEtcThatIsALinkAFileOrMissingOrWhenTheImageHasThemAll()
    {
        string plain = Layer("plain", "etc/");
        string link = Layer("link");
        File.CreateSymbolicLink(Path.Combine(link, "etc"), plain);
        string file = Layer("file", "etc");
        Assert.Null(MountPointsLayer.FindEtc([plain, link], Generated)); // the link hides the directory below
        Assert.Null(MountPointsLayer.FindEtc([plain, file], Generated));
        Assert.Null(MountPointsLayer.FindEtc([Layer("none", "bin/")], Generated));
        Assert.Null(MountPointsLayer.FindEtc([Layer("all", "etc/", "etc/hosts", "etc/hostname", "etc/resolv.conf")], Generated));
        Assert.Null(MountPointsLayer.FindEtc([plain], []));
        // A link in a lower layer's etc is never followed to the host's /etc: the name counts as present.
        string linked = Layer("linked", "etc/");
        File.CreateSymbolicLink(Path.Combine(linked, "etc", "hosts"), "/etc/hostname");
        Assert.Equal(["hostname", "resolv.conf"], MountPointsLayer.FindEtc([linked, plain], Generated)!.Names);
    }

    [RootFact]
    public void MakesEachVariantOnceWithTheImagesEtcAttributesAndEmptyTargets()
    {
        string data = _tmp.Sub("data");
        Directory.CreateDirectory(data);
        var etc = new EtcMountPoints { Mode = 0x1C9, Uid = 7, Gid = 8, Names = ["hosts", "resolv.conf"] };
        string dir = MountPointsLayer.EnsureEtc(data, etc)!;
        Assert.Equal(Path.Combine(data, "mountpoints-etc-0711-7-8-hosts+resolv.conf"), dir);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        Assert.Equal(["dev", "etc", "proc", "sys"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var st = Native.LinkStat.Get(Path.Combine(dir, "etc"))!.Value;
        Assert.Equal((0x1C9u, 7u, 8u), (st.Permissions, st.Uid, st.Gid));
        Assert.Equal(["hosts", "resolv.conf"], Directory.GetFileSystemEntries(Path.Combine(dir, "etc")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.All(Directory.GetFiles(Path.Combine(dir, "etc")), f => Assert.Equal(0, new FileInfo(f).Length));
        ulong inode = st.Inode;
        Assert.Equal(dir, MountPointsLayer.EnsureEtc(data, etc));
        Assert.Equal(inode, Native.LinkStat.Get(Path.Combine(dir, "etc"))!.Value.Inode);
        // Another image's /etc gets its own variant beside it; nothing half-made is left.
        Assert.NotEqual(dir, MountPointsLayer.EnsureEtc(data, new EtcMountPoints { Mode = 0x1ED, Names = ["hosts"] }));
        Assert.Equal(["mountpoints-etc-0711-7-8-hosts+resolv.conf", "mountpoints-etc-0755-0-0-hosts"],
            Directory.GetFileSystemEntries(data).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RefusesNamesThatAreNotGeneratedFiles()
    {
        string data = _tmp.Sub("data");
        Directory.CreateDirectory(data);
        Assert.Null(MountPointsLayer.EnsureEtc(data, new EtcMountPoints { Mode = 0x1ED, Names = ["../passwd"] }));
        Assert.Null(MountPointsLayer.EnsureEtc(data, new EtcMountPoints { Mode = 0x1ED }));
        Assert.Empty(Directory.GetFileSystemEntries(data));
    }
}
