using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Runtime;

public class MountOptionsTests
{
    [Fact]
    public void SplitsFlagsAndData()
    {
        var o = MountOptions.Parse(new RuntimeMount { Type = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] });
        Assert.Equal(MountOptions.MS_NOSUID | MountOptions.MS_STRICTATIME, o.Flags);
        Assert.Equal("mode=755,size=65536k", o.Data);
        Assert.False(o.Bind);
        Assert.Equal(0UL, o.Propagation);
    }

    [Fact]
    public void LaterWordsWin()
    {
        var o = MountOptions.Parse(new RuntimeMount { Type = "tmpfs", Options = ["ro", "noexec", "rw", "exec", "nodev"] });
        Assert.Equal(MountOptions.MS_NODEV, o.Flags);
    }

    [Theory]
    [InlineData("bind", null, true, false)]
    [InlineData(null, "bind", true, false)]
    [InlineData(null, "rbind", true, true)]
    [InlineData("rbind", null, true, true)]
    [InlineData("none", null, false, false)]
    public void RecognisesBinds(string? type, string? option, bool bind, bool recursive)
    {
        var o = MountOptions.Parse(new RuntimeMount { Type = type, Options = option is null ? ["ro"] : [option, "ro"] });
        Assert.Equal(bind, o.Bind);
        Assert.Equal(recursive, o.Recursive);
        Assert.Equal(MountOptions.MS_RDONLY, o.Flags);
        Assert.Equal("", o.Data);
    }

    [Theory]
    [InlineData("rprivate", MountOptions.MS_PRIVATE | MountOptions.MS_REC)]
    [InlineData("slave", MountOptions.MS_SLAVE)]
    [InlineData("rshared", MountOptions.MS_SHARED | MountOptions.MS_REC)]
    [InlineData("unbindable", MountOptions.MS_UNBINDABLE)]
    public void Propagation(string word, ulong expected) =>
        Assert.Equal(expected, MountOptions.Parse(new RuntimeMount { Type = "bind", Options = ["rbind", word] }).Propagation);

    [Fact]
    public void IgnoresWordsWithoutMeaningHere()
    {
        var o = MountOptions.Parse(new RuntimeMount { Type = "tmpfs", Options = ["defaults", "tmpcopyup", "Z", ""] });
        Assert.Equal(0UL, o.Flags);
        Assert.Equal("", o.Data);
    }
}
