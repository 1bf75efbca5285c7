using System.Globalization;
using System.Text;
using Containers.Core.Runtime.Plan;
using Containers.Init.Launch;
using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Monitor;

/// <summary>
/// Runs the container's health check every interval on a thread of the monitor (started after the clone: nothing may
/// start threads before it). Each check is <c>pscontainers-init exec</c> of the check's process, the path
/// Invoke-ContainerCommand takes (cgroup, namespaces, credentials, seccomp of the container), its stdout and stderr on one
/// pipe; past the timeout it gets SIGTERM (forwarded to the check) and then SIGKILL, and counts as exit -1. Results go to
/// <c>health.json</c> through <see cref="HealthRules.Record"/>; a change of status is a health_status event, and turning
/// unhealthy takes the plan's action.
/// </summary>
internal sealed unsafe class HealthMonitor(LaunchPlan plan, HealthPlan health, Supervisor supervisor, int pid, ulong pidStartTime, DateTimeOffset startedAt)
{
    public void Start() => new Thread(Loop) { IsBackground = true, Name = "health" }.Start();

    private bool ContainerRuns => StateFile.StartTime(pid) == pidStartTime;

    private void Loop()
    {
        SchedSlice.Reset(); // the checks it spawns are the container's processes: the default request size
        var startPeriodEnds = startedAt + TimeSpan.FromMilliseconds(health.StartPeriodMs);
        while (true)
        {
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Max(10, health.IntervalMs)));
            if (!ContainerRuns || supervisor.StopRequested) return;
            var result = Check();
            if (!ContainerRuns || supervisor.StopRequested) return; // a check cut short by the container's end says nothing
            ContainerHealthStatus before;
            HealthState after;
            try { (before, after) = HealthRules.Record(plan.StateDir, result, health.Retries, startPeriodEnds); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            if (after.Status == before) continue;
            supervisor.Event("health_status", null, new() { ["health_status"] = after.Status.ToString().ToLowerInvariant() });
            if (after.Status != ContainerHealthStatus.Unhealthy || health.OnFailure == ContainerHealthAction.None) continue;
            if (health.OnFailure == ContainerHealthAction.Restart) supervisor.HealthRestart = true;
            supervisor.Event("kill", null, new() { ["signal"] = "SIGKILL", ["reason"] = "unhealthy" });
            kill(pid, SIGKILL);
            return;
        }
    }

    private HealthCheckRecord Check()
    {
        var start = DateTimeOffset.UtcNow;
        int* p = stackalloc int[2];
        if (pipe2(p, O_CLOEXEC) != 0) return Result(start, 125, "pipe: " + StrError(Errno));
        int child = Spawn.Start(["/proc/self/exe", .. new InitExec(plan.StateDir, health.ProcessFile).ToArgs()], p[1]);
        close(p[1]);
        if (child < 0) { close(p[0]); return Result(start, 125, "starting the check failed"); }
        var output = new MemoryStream();
        byte* buf = stackalloc byte[4096];
        var deadline = start + TimeSpan.FromMilliseconds(health.TimeoutMs);
        bool timedOut = false;
        var fds = stackalloc PollFd[1];
        while (true)
        {
            int left = (int)Math.Clamp((deadline - DateTimeOffset.UtcNow).TotalMilliseconds, 0, int.MaxValue);
            fds[0] = new PollFd { Fd = p[0], Events = POLLIN };
            int rc = left == 0 ? 0 : poll(fds, 1, left);
            if (rc < 0 && Errno == EINTR) continue;
            if (rc == 0) { timedOut = true; break; }
            nint n = read(p[0], buf, 4096);
            if (n < 0 && Errno == EINTR) continue;
            if (n <= 0) break;
            if (output.Length < HealthRules.MaxOutput) output.Write(new ReadOnlySpan<byte>(buf, (int)n));
        }
        close(p[0]);
        if (timedOut)
        {
            // exec forwards SIGTERM to the check; SIGKILL ends the helper if the check ignores it.
            kill(child, SIGTERM);
            for (int i = 0; i < 20 && Reap(child, nohang: true) is null; i++) Thread.Sleep(50);
            kill(child, SIGKILL);
            Reap(child, nohang: false);
            return Result(start, -1, Encoding.UTF8.GetString(output.ToArray()) + $"Timed out after {(health.TimeoutMs / 1000.0).ToString(CultureInfo.InvariantCulture)} s.");
        }
        int code = Reap(child, nohang: false) ?? 125;
        return Result(start, code, Encoding.UTF8.GetString(output.ToArray()));
    }

    private static int? Reap(int child, bool nohang)
    {
        int status;
        while (true)
        {
            int r = waitpid(child, &status, nohang ? 1 /* WNOHANG */ : 0);
            if (r < 0 && Errno == EINTR) continue;
            if (r <= 0) return r == 0 ? null : 125;
            return DecodeWaitStatus(status).ExitCode;
        }
    }

    private static HealthCheckRecord Result(DateTimeOffset start, int code, string output) =>
        new() { Start = start, End = DateTimeOffset.UtcNow, ExitCode = code, Output = output };
}
