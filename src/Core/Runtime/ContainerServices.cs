using System.Text.Json;
using Containers.Core.Events;
using Containers.Core.Events.Journal;
using Containers.Core.Native;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Runtime;

/// <summary>
/// What Core adds to a start for the monitor's services (restart policy, health check, events) and reads back from it:
/// the files in the container's directory that the monitor and the cmdlets share.
/// </summary>
internal static class ContainerServices
{
    public const string HealthProcessFile = "health-process.json";
    /// <summary>Created by Core when it records the exit a killed monitor missed, so the die event is written once.</summary>
    private const string DieRecordedFile = "die-recorded";

    public static string DataDir(this ContainerStore store) => Path.GetDirectoryName(store.Root)!;

    /// <summary>Records a container event in the journal beside the store (never throws).</summary>
    public static void Event(this ContainerStore store, string action, ContainerRecord r, int? exitCode = null, Dictionary<string, string>? attributes = null) =>
        EventLog.Container(store.DataDir(), action, r.Id, r.Name, r.Image, exitCode, attributes);

    /// <summary>Before a start: no state, stop request, health or die marker of the previous run.</summary>
    public static void ResetForStart(ContainerStore store, string id)
    {
        // One unlink each (File.Delete also stats the directory when the file is not there, as it mostly is not).
        foreach (string name in new[] { LaunchPlan.StateFileName, LaunchPlan.StopFileName, HealthRules.FileName, DieRecordedFile })
            FileSystemCalls.UnlinkAt(FileSystemCalls.AT_FDCWD, Path.Combine(store.Dir(id), name), directory: false);
    }

    /// <summary>Fills the plan's service fields; writes the health check's process (the container's own, with the check's argv).</summary>
    public static void AddToPlan(LaunchPlan plan, ContainerRecord r, ContainerStore store)
    {
        plan.ContainerName = r.Name;
        plan.Image = r.Image;
        plan.EventsPath = EventJournal.PathIn(store.DataDir());
        if (r.RestartPolicy != ContainerRestartPolicy.No) plan.Restart = new RestartPlan { Policy = r.RestartPolicy, MaxRestarts = r.MaxRestarts };
        if (r.Healthcheck is not { } h) return;
        string file = WriteHealthProcess(r, store, h);
        plan.Health = new HealthPlan
        {
            ProcessFile = file,
            IntervalMs = (long)h.Interval.TotalMilliseconds,
            TimeoutMs = (long)h.Timeout.TotalMilliseconds,
            StartPeriodMs = (long)h.StartPeriod.TotalMilliseconds,
            Retries = h.Retries,
            OnFailure = h.OnFailure,
        };
    }

    /// <summary>The check runs as the container's process does (user, environment, capabilities, seccomp), with its argv.</summary>
    public static string WriteHealthProcess(ContainerRecord r, ContainerStore store, ContainerHealthcheck h)
    {
        var process = ExecPlanner.Plan(store.ReadSpec(r.Id)?.Process, new ExecOptions { Command = h.Command }, _ => throw new InvalidOperationException(), r.Name);
        string file = Path.Combine(store.Dir(r.Id), HealthProcessFile);
        ContainerStore.AtomicWrite(file, JsonSerializer.SerializeToUtf8Bytes(process, PlanJsonContext.Default.RuntimeProcess), durable: false);
        return file;
    }

    /// <summary>Stop-Container's first act: from now on the monitor starts nothing again (it checks after every launch too).</summary>
    public static void RequestStop(ContainerStore store, string id)
    {
        try { File.WriteAllBytes(Path.Combine(store.Dir(id), LaunchPlan.StopFileName), []); }
        catch (DirectoryNotFoundException) { }
    }

    /// <summary>Stop-Container stopped it (and no start came since): what the boot service needs for UnlessStopped.</summary>
    public static bool StopRequested(ContainerStore store, string id) => File.Exists(Path.Combine(store.Dir(id), LaunchPlan.StopFileName));

    public static ContainerHealth? Health(ContainerStore store, ContainerRecord r, ContainerState state) =>
        r.Healthcheck is not null && state.IsActive()
            ? ContainerHealth.From(r.Name, HealthRules.Read(store.Dir(r.Id)) ?? new HealthState())
            : null;

    /// <summary>The monitor died without recording the exit: the first caller to notice writes the die event (once).</summary>
    public static void RecordLostExit(ContainerStore store, ContainerRecord r)
    {
        try
        {
            using (new FileStream(Path.Combine(store.Dir(r.Id), DieRecordedFile), FileMode.CreateNew, FileAccess.Write)) { }
        }
        catch (IOException) { return; } // already recorded (or the directory is gone)
        store.Event("die", r, attributes: new() { ["reason"] = "monitor-lost" });
    }

    /// <summary>Whether the monitor of a stopped state still runs (it waits out a restart backoff).</summary>
    public static bool MonitorAlive(ContainerRuntimeState s) =>
        s.MonitorPid > 0 && Processes.Exists(s.MonitorPid) && Processes.State(s.MonitorPid) is not ('Z' or 'X' or null);
}
