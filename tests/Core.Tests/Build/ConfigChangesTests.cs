using Containers.Core.Build;
using Containers.Core.Errors;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Build;

public class ConfigChangesTests
{
    private static readonly ContainerConfig Base = new() { Env = ["PATH=/bin", "A=old"], Cmd = ["/bin/sh"], WorkingDir = "/srv" };

    [Fact]
    public void AppliesInstructionsInOrderOnTheBase()
    {
        var c = ConfigChanges.Apply(Base, ["env A=new B=\"two words\" C='x y'", "CMD echo hi", "WORKDIR app", "WORKDIR ../tmp/", "ENV legacy value with spaces",
            "LABEL a=1 b=\"2 3\"", "EXPOSE 80 53/UDP", "USER 1000:1000", "VOLUME [\"/v1\", \"/v2\"]", "ENTRYPOINT [\"/init\"]", "STOPSIGNAL 9"]);
        Assert.Equal(["PATH=/bin", "A=new", "B=two words", "C=x y", "legacy=value with spaces"], c.Env);
        Assert.Equal(["/bin/sh", "-c", "echo hi"], c.Cmd);
        Assert.Equal("/srv/tmp", c.WorkingDir);
        Assert.Equal("2 3", c.Labels!["b"]);
        Assert.Equal(["53/udp", "80/tcp"], c.ExposedPorts!.Keys.Order());
        Assert.Equal("1000:1000", c.User);
        Assert.Equal(["/v1", "/v2"], c.Volumes!.Keys.Order());
        Assert.Equal(["/init"], c.Entrypoint);
        Assert.Equal("9", c.StopSignal);
        Assert.Equal(["/bin/sh"], Base.Cmd); // the base is not changed
    }

    [Theory]
    [InlineData("RUN true", "InvalidChange", "-Change 1: 'RUN'")]
    [InlineData("", "InvalidChange", "-Change 1:")]
    [InlineData("ENV", "InvalidContainerfileSyntax", "-Change 1: ENV expects arguments")]
    [InlineData("ENV A=\"open", "InvalidContainerfileSyntax", "-Change 1: ENV expects an unterminated \" quote")]
    [InlineData("LABEL =x", "InvalidContainerfileSyntax", "-Change 1: LABEL expects name=value, not '=x'")]
    [InlineData("EXPOSE 0", "InvalidContainerfileSyntax", "-Change 1: EXPOSE expects ports")]
    [InlineData("EXPOSE 80/icmp", "InvalidContainerfileSyntax", "-Change 1: EXPOSE expects ports")]
    [InlineData("USER a b", "InvalidContainerfileSyntax", "-Change 1: USER expects one user[:group]")]
    [InlineData("VOLUME relative", "InvalidContainerfileSyntax", "-Change 1: VOLUME expects absolute paths")]
    public void RefusesBadChangesNamingThem(string change, string errorId, string messageStart)
    {
        var e = Assert.Throws<ContainersException>(() => ConfigChanges.Apply(Base, [change]));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.StartsWith(messageStart, e.Message);
    }
}
