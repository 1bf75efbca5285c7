using System.Globalization;
using System.Text;
using Containers.Core.Runtime.Plan;
using Containers.Init.Native;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>
/// Starts and stops the rootless network helper of a container (<see cref="NetworkHelperPlan"/>): pasta or slirp4netns,
/// attached to the container's user and network namespaces by its pid. The monitor starts it after the id maps are
/// written and before it releases the container, so the network is up when the command runs; it stops it once the
/// container has exited. When the monitor itself was killed, Core stops it (the pid and its start time are in the state).
/// </summary>
internal static unsafe class NetworkHelper
{
    /// <summary>How long slirp4netns may take to report that the namespace is configured.</summary>
    private const int ReadyTimeoutMs = 10_000;

    /// <summary>Starts the helper for the container <paramref name="pid"/>; null when it runs, else the reason (nothing is left running).</summary>
    public static string? Start(NetworkHelperPlan plan, int pid, out int helperPid)
    {
        helperPid = 0;
        var argv = new List<string> { plan.Path };
        foreach (string a in plan.Args) argv.Add(a == NetworkHelperPlan.PidPlaceholder ? pid.ToString(CultureInfo.InvariantCulture) : a);
        return plan.Kind switch
        {
            "pasta" => StartPasta(plan, argv, out helperPid),
            "slirp4netns" => StartSlirp(plan, argv, out helperPid),
            _ => $"unknown network helper '{plan.Kind}'",
        };
    }

    /// <summary>pasta configures the namespace, binds the published ports, writes its pid file and forks into the
    /// background; the parent's exit code says whether all of that worked.</summary>
    private static string? StartPasta(NetworkHelperPlan plan, List<string> argv, out int helperPid)
    {
        helperPid = 0;
        int code = Spawn.Run(argv, out string? stderr);
        if (code != 0) return $"pasta exited {code}: {Clean(stderr)}";
        try
        {
            if (plan.PidFile is not null && int.TryParse(File.ReadAllText(plan.PidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out helperPid) && helperPid > 0)
                return null;
        }
        catch (IOException) { }
        return "pasta started but did not write its pid file";
    }

    /// <summary>slirp4netns stays in the foreground (our child): it writes "1" on fd 3 once the tap device is up and its API
    /// socket listens; the port forwards are then asked for one by one.</summary>
    private static string? StartSlirp(NetworkHelperPlan plan, List<string> argv, out int helperPid)
    {
        int* ready = stackalloc int[2];
        helperPid = 0;
        if (pipe2(ready, O_CLOEXEC) != 0) return "pipe: " + StrError(Errno);
        int pid = Spawn.Start(argv, plan.LogFile ?? "/dev/null", ready[1], out string? error);
        close(ready[1]);
        if (pid < 0) { close(ready[0]); return error; }
        var fd = new PollFd { Fd = ready[0], Events = POLLIN };
        byte answer = 0;
        int polled;
        while ((polled = poll(&fd, 1, ReadyTimeoutMs)) < 0 && Errno == EINTR) { }
        if (polled > 0) read(ready[0], &answer, 1);
        close(ready[0]);
        string? failure = answer == (byte)'1' ? null
            : polled == 0 ? $"slirp4netns did not report ready within {ReadyTimeoutMs / 1000} s"
            : "slirp4netns failed";
        foreach (var f in plan.Forwards)
        {
            if (failure is not null) break;
            failure = Forward(plan.ApiSocket!, f);
        }
        if (failure is null) { helperPid = pid; return null; }
        Stop(pid, child: true);
        string log = "";
        try { if (plan.LogFile is not null) log = File.ReadAllText(plan.LogFile); } catch (IOException) { }
        return log.Trim().Length > 0 ? $"{failure}: {Clean(log)}" : failure;
    }

    /// <summary>One <c>add_hostfwd</c> request on slirp4netns' API socket (one request per connection, ended by SHUT_WR).</summary>
    private static string? Forward(string socketPath, HostForward f)
    {
        string request = $"{{\"execute\":\"add_hostfwd\",\"arguments\":{{\"proto\":\"{f.Protocol}\",\"host_addr\":\"{f.HostAddress}\",\"host_port\":{f.HostPort},\"guest_port\":{f.ContainerPort}}}}}";
        string what = $"forwarding host port {f.HostAddress}:{f.HostPort}/{f.Protocol}";
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) return $"{what}: socket: {StrError(Errno)}";
        try
        {
            byte* addr = stackalloc byte[110]; // struct sockaddr_un
            new Span<byte>(addr, 110).Clear();
            *(ushort*)addr = AF_UNIX;
            byte[] path = Encoding.UTF8.GetBytes(socketPath);
            if (path.Length > 107) return $"{what}: the API socket path {socketPath} is too long";
            path.CopyTo(new Span<byte>(addr + 2, path.Length));
            if (connect(s, addr, 2 + path.Length + 1) != 0) return $"{what}: connecting to {socketPath}: {StrError(Errno)}";
            byte[] bytes = Encoding.UTF8.GetBytes(request);
            fixed (byte* b = bytes)
                if (write(s, b, bytes.Length) != bytes.Length) return $"{what}: {StrError(Errno)}";
            shutdown(s, 1 /* SHUT_WR */);
            var reply = new StringBuilder();
            byte* buf = stackalloc byte[512];
            nint n;
            while ((n = read(s, buf, 512)) > 0 || (n < 0 && Errno == EINTR))
                if (n > 0) reply.Append(Encoding.UTF8.GetString(buf, (int)n));
            string text = reply.ToString();
            return text.Contains("\"return\"", StringComparison.Ordinal) ? null : $"{what}: slirp4netns answered {text.Trim()}";
        }
        finally { close(s); }
    }

    /// <summary>Ends the helper: SIGTERM, then SIGKILL after a second. A child of ours (slirp4netns) is reaped.</summary>
    public static void Stop(int pid, bool child)
    {
        if (pid <= 0) return;
        int pidfd = PidfdOpen(pid);
        kill(pid, SIGTERM);
        int status;
        if (child)
        {
            var fd = new PollFd { Fd = pidfd, Events = POLLIN };
            if (pidfd < 0 || poll(&fd, 1, 1000) <= 0) kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && Errno == EINTR) { }
        }
        else if (pidfd >= 0)
        {
            var fd = new PollFd { Fd = pidfd, Events = POLLIN };
            if (poll(&fd, 1, 1000) <= 0) kill(pid, SIGKILL);
        }
        if (pidfd >= 0) close(pidfd);
    }

    /// <summary>The helper's messages without the syslog complaints pasta adds when there is no syslog.</summary>
    private static string Clean(string? text) =>
        string.Join("; ", (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("Failed to send", StringComparison.Ordinal) || !l.EndsWith("to syslog", StringComparison.Ordinal)));
}
