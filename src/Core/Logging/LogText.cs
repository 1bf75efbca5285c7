using System.Text.RegularExpressions;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace Containers.Core.Logging;

/// <summary>A log event as one compact line for PowerShell's Verbose/Debug/Warning streams.</summary>
internal static partial class LogText
{
    // :l renders string properties as they are: the default wraps them in quotes ("busybox").
    private static readonly MessageTemplateTextFormatter Formatter = new("{Message:l}");

    public static string Render(LogEvent e)
    {
        using var writer = new StringWriter();
        Formatter.Format(e, writer);
        string text = writer.ToString();
        if (e.Exception is not null) text += ": " + e.Exception.Message;
        return Whitespace().Replace(text, " ").Trim();
    }

    [GeneratedRegex(@"\s*[\r\n]+\s*")]
    private static partial Regex Whitespace();
}
