using Containers.Core.Registry;

namespace Containers.Core.Tests.Registry;

public class AuthChallengeTests
{
    [Fact]
    public void ParsesABearerChallengeWithQuotedParameters()
    {
        var c = Assert.Single(AuthChallenge.Parse("Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\",scope=\"repository:team/app:pull,push\""));
        Assert.True(c.IsBearer);
        Assert.Equal("https://auth.example.com/token", c.Realm);
        Assert.Equal("registry.example.com", c.Service);
        Assert.Equal("repository:team/app:pull,push", c.Scope);
    }

    [Fact]
    public void ParsesSeveralChallengesAndUnquotedValues()
    {
        var list = AuthChallenge.Parse("Basic realm=\"Registry Realm\", Bearer realm=https://a.example/t, service=svc");
        Assert.Equal(2, list.Count);
        Assert.True(list[0].IsBasic);
        Assert.Equal("Registry Realm", list[0].Realm);
        Assert.True(list[1].IsBearer);
        Assert.Equal("https://a.example/t", list[1].Realm);
        Assert.Equal("svc", list[1].Service);
    }

    [Fact]
    public void KeepsEscapedQuotesAndCommasInsideQuotes()
    {
        var c = Assert.Single(AuthChallenge.Parse("Bearer realm=\"https://x/t?a=1,b=2\", error=\"say \\\"no\\\"\""));
        Assert.Equal("https://x/t?a=1,b=2", c.Realm);
        Assert.Equal("say \"no\"", c.Parameters["error"]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void EmptyHeaderHasNoChallenges(string? header) => Assert.Empty(AuthChallenge.Parse(header));

    [Fact]
    public void SchemeIsCaseInsensitive()
    {
        Assert.True(AuthChallenge.Parse("bearer realm=\"r\"")[0].IsBearer);
        Assert.True(AuthChallenge.Parse("BASIC realm=\"r\"")[0].IsBasic);
    }
}

public class LinkHeaderTests
{
    [Theory]
    [InlineData("</v2/_catalog?last=b&n=2>; rel=\"next\"", "/v2/_catalog?last=b&n=2")]
    [InlineData("<https://r.example/v2/_catalog?last=b&n=2>; rel=next", "https://r.example/v2/_catalog?last=b&n=2")]
    [InlineData("</first>; rel=\"first\", </v2/t?last=x>; rel=\"next\"", "/v2/t?last=x")]
    [InlineData("</a,b>; rel=\"prev next\"", "/a,b")]
    [InlineData("</v2/_catalog?last=b>; REL=\"NEXT\"", "/v2/_catalog?last=b")]
    public void FindsTheNextLink(string header, string expected) => Assert.Equal(expected, LinkHeader.Next([header]));

    [Theory]
    [InlineData("</prev>; rel=\"prev\"")]
    [InlineData("garbage")]
    [InlineData("")]
    public void NoNextLink(string header) => Assert.Null(LinkHeader.Next([header]));

    [Fact]
    public void NoHeaderNoLink() => Assert.Null(LinkHeader.Next(null));
}

public class TokenCacheTests
{
    [Fact]
    public void ATokenLivesUntilShortlyBeforeItsExpiry()
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var cache = new TokenCache(() => now);
        string key = TokenCache.Key("r.example", "svc", "repository:a:pull");
        cache.Put(key, "t1", TimeSpan.FromSeconds(300));
        Assert.Equal("t1", cache.Get(key));
        now = now.AddSeconds(300) - TokenCache.Margin - TimeSpan.FromSeconds(1);
        Assert.Equal("t1", cache.Get(key));
        now = now.AddSeconds(2);
        Assert.Null(cache.Get(key));
    }

    [Fact]
    public void TokensAreKeptPerScopeAndHost()
    {
        var cache = new TokenCache();
        cache.Put(TokenCache.Key("a", "s", "repository:x:pull"), "pull", TimeSpan.FromMinutes(5));
        Assert.Null(cache.Get(TokenCache.Key("a", "s", "repository:x:pull,push")));
        Assert.Null(cache.Get(TokenCache.Key("b", "s", "repository:x:pull")));
        Assert.Equal("pull", cache.Get(TokenCache.Key("a", "s", "repository:x:pull")));
    }

    [Fact]
    public void NoStatedLifetimeMeansSixtySeconds()
    {
        var now = DateTimeOffset.UnixEpoch;
        var cache = new TokenCache(() => now);
        cache.Put("k", "t", null);
        now = now.AddSeconds(49);
        Assert.Equal("t", cache.Get("k"));
        now = now.AddSeconds(2);
        Assert.Null(cache.Get("k"));
    }

    [Fact]
    public void IssuedAtCountsFromWhenTheServiceIssuedIt()
    {
        var now = DateTimeOffset.UnixEpoch.AddHours(1);
        var cache = new TokenCache(() => now);
        cache.Put("k", "t", TimeSpan.FromSeconds(60), now.AddSeconds(-55));
        Assert.Null(cache.Get("k"));
    }
}
