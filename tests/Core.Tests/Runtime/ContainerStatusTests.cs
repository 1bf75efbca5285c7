using Containers.Core.Runtime;

namespace Containers.Core.Tests.Runtime;

public class ContainerStatusTests
{
    [Theory]
    [InlineData(0.2, "Up less than a second")]
    [InlineData(1.5, "Up 1 second")]
    [InlineData(42, "Up 42 seconds")]
    [InlineData(61, "Up 1 minute")]
    [InlineData(7200, "Up 2 hours")]
    [InlineData(3 * 86400, "Up 3 days")]
    public void RunningStatusReadsLikePodmanPs(double secondsAgo, string expected)
    {
        var c = new Container { State = ContainerState.Running, StartedAt = DateTime.Now.AddSeconds(-secondsAgo) };
        Assert.Equal(expected, c.Status);
    }

    [Fact]
    public void ExitedStatusNamesTheExitCode()
    {
        var c = new Container { State = ContainerState.Exited, ExitCode = 3, FinishedAt = DateTime.Now.AddMinutes(-5) };
        Assert.Equal("Exited (3) 5 minutes ago", c.Status);
    }

    [Fact]
    public void AnExitWithinTheSecondReadsJustNow()
    {
        var c = new Container { State = ContainerState.Exited, ExitCode = 0, FinishedAt = DateTime.Now };
        Assert.Equal("Exited (0) just now", c.Status);
    }

    [Theory]
    [InlineData(45 * 86400, "45 days ago")]
    [InlineData(90 * 86400, "3 months ago")]
    [InlineData(800 * 86400, "2 years ago")]
    public void ImageAgesReadInDaysMonthsAndYears(double daysAgoInSeconds, string expected) =>
        Assert.Equal(expected, Containers.Core.Formatting.HumanTime.Ago(DateTimeOffset.UtcNow.AddSeconds(-daysAgoInSeconds)));
}
