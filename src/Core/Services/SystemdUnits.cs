using System.Globalization;
using System.Text;
using Containers.Core.Runtime;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Services;

/// <summary>What Export-ContainerSystemdUnit writes.</summary>
public enum SystemdUnitFormat
{
    /// <summary>A <c>.service</c> unit that starts and stops the container through pwsh and this module.</summary>
    Service,
    /// <summary>A podman Quadlet <c>.container</c> file (podman 4.4 or later) running the same image and definition under podman.</summary>
    Quadlet,
}

/// <summary>The systemd units of the module: the boot service, and one unit per container (systemd or Quadlet).</summary>
internal static class SystemdUnits
{
    public const string BootServiceName = "pscontainers-restart.service";

    /// <summary>pscontainers-restart.service: a oneshot at boot that runs <c>Start-Container -Boot</c>.</summary>
    public static string BootService(ModuleCommand command)
    {
        var u = new StringBuilder();
        u.Append("# ").Append(BootServiceName).Append(": starts at boot the containers of the PowerShell Containers module whose restart\n")
         .Append("# policy is Always, or UnlessStopped and not stopped with Stop-Container (Install-ContainerBootService).\n")
         .Append("[Unit]\nDescription=Start the containers whose restart policy brings them back after a reboot (PowerShell Containers module)\n")
         .Append("Wants=network-online.target\nAfter=network-online.target local-fs.target\nStartLimitIntervalSec=0\n\n")
         .Append("[Service]\nType=oneshot\nRemainAfterExit=yes\n")
         .Append("# The containers' monitors stay in this unit's control group: stopping the unit leaves them running.\nKillMode=process\n")
         .Append("TimeoutStartSec=15min\n");
        foreach (string e in command.EnvironmentLines()) u.Append(e).Append('\n');
        u.Append("ExecStart=").Append(command.ExecLine("Start-Container -Boot -Verbose")).Append("\n\n")
         .Append("[Install]\nWantedBy=default.target\n");
        return u.ToString();
    }

    /// <summary>The unit's file name: <c>pscontainers-&lt;name&gt;.service</c> or <c>&lt;name&gt;.container</c>.</summary>
    public static string FileName(string containerName, SystemdUnitFormat format) =>
        format == SystemdUnitFormat.Quadlet ? containerName + ".container" : "pscontainers-" + containerName + ".service";

    /// <summary>
    /// Type=forking: ExecStart starts the container (nothing when it runs) and writes its monitor's pid to the PIDFile, so
    /// systemd follows the monitor; ExecStop is Stop-Container. The restart policy maps to Restart= (the monitor restarts the
    /// command itself; systemd starts it again when the monitor is gone).
    /// </summary>
    public static string ContainerService(ContainerRecord r, ModuleCommand command, string pidDirectory, int stopTimeoutSeconds)
    {
        string name = ModuleCommand.PowerShellLiteral(r.Name);
        string pidFile = Path.Combine(pidDirectory, "pscontainers-" + r.Name + ".pid");
        var u = new StringBuilder();
        u.Append("# Container ").Append(r.Name).Append(" (").Append(r.Image).Append("), written by Export-ContainerSystemdUnit.\n")
         .Append("[Unit]\nDescription=Container ").Append(r.Name).Append(" (PowerShell Containers module)\n")
         .Append("Wants=network-online.target\nAfter=network-online.target\n\n")
         .Append("[Service]\nType=forking\nPIDFile=").Append(pidFile).Append('\n')
         .Append("Restart=").Append(Restart(r.RestartPolicy)).Append('\n')
         .Append("TimeoutStopSec=").Append((stopTimeoutSeconds + 60).ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (string e in command.EnvironmentLines()) u.Append(e).Append('\n');
        u.Append("ExecStart=").Append(command.ExecLine(
            $"New-Item -ItemType Directory -Force -Path {ModuleCommand.PowerShellLiteral(pidDirectory)} | Out-Null; " +
            $"(Start-Container -Name {name} -PassThru -ErrorAction Stop).MonitorPid | Set-Content -LiteralPath {ModuleCommand.PowerShellLiteral(pidFile)}")).Append('\n');
        u.Append("ExecStop=").Append(command.ExecLine($"Stop-Container -Name {name} -Timeout {stopTimeoutSeconds.ToString(CultureInfo.InvariantCulture)} -ErrorAction Stop")).Append("\n\n")
         .Append("[Install]\nWantedBy=default.target\n");
        return u.ToString();
    }

    /// <summary>systemd's Restart= for a restart policy (UnlessStopped: a unit stop is a user's stop).</summary>
    public static string Restart(ContainerRestartPolicy policy) => policy switch
    {
        ContainerRestartPolicy.OnFailure => "on-failure",
        ContainerRestartPolicy.Always or ContainerRestartPolicy.UnlessStopped => "always",
        _ => "no",
    };
}
