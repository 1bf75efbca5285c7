using System.Management.Automation;
using Containers.Core.Services;

namespace Containers.Cmdlets.Commands.Service;

/// <summary>How the units this session writes run the module: this pwsh, this module's manifest, this session's store overrides.</summary>
internal static class UnitCmdletSupport
{
    public static ModuleCommand ModuleCommand(PSCmdlet cmdlet)
    {
        string psHome = cmdlet.SessionState.PSVariable.GetValue("PSHOME") as string ?? "";
        string pwsh = Path.Combine(psHome, "pwsh");
        if (!File.Exists(pwsh)) pwsh = "/usr/bin/pwsh";
        string manifest = Path.Combine(cmdlet.MyInvocation.MyCommand.Module?.ModuleBase ?? AppContext.BaseDirectory, "Containers.psd1");
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string v in Core.Services.ModuleCommand.Variables)
            if (Environment.GetEnvironmentVariable(v) is { Length: > 0 } value) env[v] = value;
        return new ModuleCommand(pwsh, manifest, env);
    }

    /// <summary>Reloads systemd's units when it runs, or says that the unit takes effect at the next boot with systemd.</summary>
    public static void Reload(PSCmdlet cmdlet, bool rootless)
    {
        if (!BootServiceFiles.SystemdRuns)
        {
            cmdlet.WriteWarning("systemd is not running on this machine: the unit is in place and takes effect when the machine boots with systemd.");
            return;
        }
        using var p = System.Diagnostics.Process.Start("systemctl", rootless ? ["--user", "daemon-reload"] : ["daemon-reload"]);
        p.WaitForExit();
        if (p.ExitCode != 0) cmdlet.WriteWarning($"systemctl daemon-reload exited with {p.ExitCode}; run it yourself.");
    }
}
