namespace Containers.Core.Formatting;

/// <summary>Ages in the words podman uses ("1 second", "5 minutes", "2 years"), for tables and statuses.</summary>
public static class HumanTime
{
    /// <summary>How long ago <paramref name="time"/> was, e.g. <c>5 minutes ago</c> or <c>just now</c> (short
    /// enough for a table column); empty when unknown.</summary>
    public static string Ago(DateTimeOffset? time)
    {
        if (time is null) return "";
        var d = DateTimeOffset.UtcNow - time.Value;
        return d.TotalSeconds < 1 ? "just now" : Describe(d) + " ago";
    }

    /// <summary>The time since <paramref name="time"/>, e.g. <c>less than a second</c>, <c>1 minute</c>, <c>3 days</c>.</summary>
    public static string Span(DateTimeOffset time) => Describe(DateTimeOffset.UtcNow - time);

    public static string Describe(TimeSpan d)
    {
        if (d.TotalSeconds < 1) return "less than a second";
        if (d.TotalSeconds < 60) return Count((int)d.TotalSeconds, "second");
        if (d.TotalMinutes < 60) return Count((int)d.TotalMinutes, "minute");
        if (d.TotalHours < 48) return Count((int)d.TotalHours, "hour");
        if (d.TotalDays < 60) return Count((int)d.TotalDays, "day");
        if (d.TotalDays < 730) return Count((int)(d.TotalDays / 30), "month");
        return Count((int)(d.TotalDays / 365), "year");
    }

    private static string Count(int n, string unit) => n == 1 ? "1 " + unit : $"{n} {unit}s";
}
