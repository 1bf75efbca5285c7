using System.Management.Automation;
using System.Reflection;
using Containers.Core.Errors;

namespace Containers.Cmdlets.Infrastructure;

/// <summary>
/// Makes a process run in a container report like a native command in PowerShell 7.4+: stderr lines go
/// to the error stream (so <c>2&gt;&amp;1</c> captures them) without -ErrorAction/$ErrorActionPreference
/// turning them into terminating errors and without failing <c>$?</c>; a non-zero exit sets
/// $LASTEXITCODE and <c>$?</c> to $false, and is an error only when $PSNativeCommandUseErrorActionPreference is $true.
/// </summary>
internal static class NativeCommandResult
{
    public const string StderrErrorId = "NativeCommandError";
    public const string ExitErrorId = "ProgramExitedWithNonZeroCode";

    // PowerShell writes a native command's stderr through this internal entry point (isFromNativeStdError:
    // true skips the error action preference); a cmdlet has no public one. Null if a future PowerShell drops it.
    private static readonly MethodInfo? WriteErrorSkipAllowCheck = typeof(Cmdlet).Assembly
        .GetType("System.Management.Automation.MshCommandRuntime")?
        .GetMethod("_WriteErrorSkipAllowCheck", BindingFlags.Instance | BindingFlags.NonPublic, [typeof(ErrorRecord), typeof(ActionPreference?), typeof(bool)]);

    /// <summary>One stderr line, as PowerShell writes a native command's (shown as the bare line).</summary>
    public static void WriteStderr(PSCmdlet cmdlet, string line, object? target)
    {
        var record = new ErrorRecord(new RemoteException(line), StderrErrorId, ErrorCategory.NotSpecified, target);
        var preference = ErrorActionOf(cmdlet);
        if (preference is ActionPreference.Ignore) return;
        // -ErrorAction SilentlyContinue keeps its meaning for a cmdlet: not shown, but in -ErrorVariable and $Error.
        bool quiet = preference is ActionPreference.SilentlyContinue;
        if (Invoke(cmdlet, record, quiet ? preference : null, fromStderr: !quiet)) return;
        if (preference is ActionPreference.Stop or ActionPreference.Inquire) cmdlet.Host.UI.WriteErrorLine(line); // no native path: shown, not thrown
        else cmdlet.WriteError(record);
    }

    /// <summary>Sets $LASTEXITCODE; a non-zero code fails <c>$?</c> and, when asked for, writes the error.</summary>
    public static void Exited(PSCmdlet cmdlet, int code, string program, string container)
    {
        cmdlet.SessionState.PSVariable.Set("global:LASTEXITCODE", code);
        if (code == 0) return;
        var e = new ContainersException(ExitErrorId, ErrorKind.Internal,
            $"The command \"{program}\" in container {container} ended with non-zero exit code: {code}.", container,
            "Check its error output; $LASTEXITCODE holds the code.");
        e.Data["ExitCode"] = code;
        var record = ErrorRecordFactory.From(e);
        if (cmdlet.GetVariableValue("PSNativeCommandUseErrorActionPreference") is true) cmdlet.WriteError(record);
        else Invoke(cmdlet, record, ActionPreference.Ignore, fromStderr: false); // $? = $false, nothing shown
    }

    private static bool Invoke(PSCmdlet cmdlet, ErrorRecord record, ActionPreference? preference, bool fromStderr)
    {
        if (WriteErrorSkipAllowCheck is null || !WriteErrorSkipAllowCheck.DeclaringType!.IsInstanceOfType(cmdlet.CommandRuntime)) return false;
        try { WriteErrorSkipAllowCheck.Invoke(cmdlet.CommandRuntime, [record, preference, fromStderr]); }
        catch (TargetInvocationException e) when (e.InnerException is not null) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException); }
        return true;
    }

    /// <summary>The error action in effect: -ErrorAction, else $ErrorActionPreference.</summary>
    private static ActionPreference? ErrorActionOf(PSCmdlet cmdlet)
    {
        object? value = cmdlet.MyInvocation.BoundParameters.TryGetValue("ErrorAction", out var bound) ? bound : cmdlet.GetVariableValue("ErrorActionPreference");
        return LanguagePrimitives.TryConvertTo(value, out ActionPreference preference) ? preference : null; // the variable may hold a string
    }
}
