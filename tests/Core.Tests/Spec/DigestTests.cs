using System.Text;
using Containers.Core.Errors;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Spec;

public class DigestTests
{
    [Fact]
    public void HashesContentAsSha256sumDoes()
    {
        // sha256sum of "hello\n"
        var d = Digest.Sha256(Encoding.ASCII.GetBytes("hello\n"));
        Assert.Equal("sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", d.ToString());
        Assert.True(d.Matches(Encoding.ASCII.GetBytes("hello\n")));
        Assert.False(d.Matches(Encoding.ASCII.GetBytes("hello")));
        Assert.Equal("5891b5b522d5", d.Short);
    }

    [Theory]
    [InlineData("sha256:abc")]
    [InlineData("md5:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")]
    [InlineData("sha256:5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03")]
    [InlineData("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")]
    public void RejectsMalformedDigests(string text)
    {
        Assert.False(Digest.TryParse(text, out _));
        Assert.Equal("InvalidDigest", Assert.Throws<ContainersException>(() => Digest.Parse(text)).ErrorId);
    }
}
