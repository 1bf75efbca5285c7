using Containers.Core.Native;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Networking.Rootless;

/// <summary>
/// The other half of the helper's ownership: the monitor stops pasta/slirp4netns when the container exits, but a monitor
/// that was SIGKILLed cannot. The state file keeps the helper's pid and start time; once the container is seen exited,
/// this ends the helper (only that very process: a reused pid has another start time) and removes its socket.
/// </summary>
internal static class NetworkHelperLifetime
{
    private static readonly Serilog.ILogger Log = Logging.ModuleLog.Logger.ForContext(typeof(NetworkHelperLifetime));

    /// <summary>
    /// Remove-Container, once the container has exited: gives its monitor up to <paramref name="grace"/> to end the helper
    /// as it does at every exit, then ends it here, so no helper outlives the removed container's cmdlet.
    /// </summary>
    public static void AwaitEnd(ContainerRuntimeState state, string? apiSocket, TimeSpan grace)
    {
        int pid = state.NetworkHelperPid;
        if (IsRunning(pid, state.NetworkHelperStartTime) && Processes.WaitForExit(pid, (int)grace.TotalMilliseconds) is not true)
        {
            // No pidfd (or the wait was interrupted): look again until the grace time is up.
            var deadline = DateTime.UtcNow + grace;
            while (IsRunning(pid, state.NetworkHelperStartTime) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        }
        ReleaseLeftover(state, apiSocket);
    }

    private static bool IsRunning(int pid, ulong startTime) =>
        pid > 0 && Processes.State(pid) is not (null or 'Z' or 'X') && Processes.StartTime(pid) == startTime;

    /// <summary>Ends the recorded helper of an exited container if it still runs; true when it had to.</summary>
    public static bool ReleaseLeftover(ContainerRuntimeState state, string? apiSocket)
    {
        bool killed = false;
        int pid = state.NetworkHelperPid;
        if (IsRunning(pid, state.NetworkHelperStartTime))
        {
            Processes.Kill(pid, Processes.SIGTERM);
            if (Processes.WaitForExit(pid, 1000) != true) Processes.Kill(pid, Processes.SIGKILL);
            Log.Information("Stopped the network helper (pid {Pid}) left by the killed monitor of container {Id}", pid, state.ContainerId[..Math.Min(12, state.ContainerId.Length)]);
            killed = true;
        }
        if (apiSocket is not null && File.Exists(apiSocket))
            try { File.Delete(apiSocket); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return killed;
    }
}
