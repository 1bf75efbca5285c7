using Containers.Core.Runtime.Plan;
using static Containers.Init.Native.Sys;

namespace Containers.Init.Launch;

/// <summary>What a child's failure report (step, errno, index) means: the message, the error id Core turns into an
/// ErrorRecord, and the exit code (127 command not found, 126 not executable, 1 for any other step, which the monitor
/// reports as 125).</summary>
internal static class StartFailure
{
    private static string TerminalStep(int index) => index switch
    {
        0 => "opening /dev/ptmx",
        1 => "unlocking it",
        2 => "opening the slave",
        3 => "passing the master to the monitor",
        4 => "setsid",
        5 => "making it the controlling terminal",
        _ => "placing it on stdin, stdout and stderr",
    };

    public static (string Message, string ErrorId, int ExitCode) Describe(RuntimeSpec spec, ChildStep step, int errno, int index, IReadOnlyList<string>? cgroups = null)
    {
        string err = StrError(errno);
        var p = spec.Process!;
        string Mount() => index >= 0 && index < (spec.Mounts?.Count ?? 0) ? $"{spec.Mounts![index].Type} on {spec.Mounts[index].Destination}" : $"#{index}";
        return step switch
        {
            ChildStep.CommandNotFound when p.Args[0].Contains('/') => ($"{p.Args[0]}: executable file not found in the container: {err}", "CommandNotFound", 127),
            ChildStep.CommandNotFound => ($"executable file `{p.Args[0]}` not found in $PATH: {err}", "CommandNotFound", 127),
            ChildStep.NotExecutable => ($"{p.Args[0]}: cannot execute: {err}", "CommandNotExecutable", 126),
            ChildStep.Execve => ($"execve {p.Args[0]}: {err}", "ExecFailed", 1),
            ChildStep.Rootfs => ($"mounting the root filesystem: {err}", "RootfsMountFailed", 1),
            ChildStep.Mount => ($"mount {Mount()}: {err}", "MountFailed", 1),
            ChildStep.NetworkNamespace => ($"joining the network namespace: {err}", "NetworkFailed", 1),
            ChildStep.Loopback => ($"bringing up lo in the container's network namespace: {err}", "NetworkFailed", 1),
            ChildStep.Terminal => ($"setting up the pseudo-terminal ({TerminalStep(index)}): {err}", "TerminalFailed", 1),
            ChildStep.MountTarget => ($"creating the mount point for {Mount()}: {err}", "MountFailed", 1),
            ChildStep.Device => ($"creating device {index}: {err}", "DeviceFailed", 1),
            ChildStep.PivotRoot => ($"pivot_root: {err}", "PivotRootFailed", 1),
            ChildStep.MaskedPath => ($"masking {spec.Linux?.MaskedPaths?.ElementAtOrDefault(index)}: {err}", "MountFailed", 1),
            ChildStep.ReadonlyPath => ($"making {spec.Linux?.ReadonlyPaths?.ElementAtOrDefault(index)} read-only: {err}", "MountFailed", 1),
            ChildStep.RootReadonly => ($"making the root filesystem read-only: {err}", "MountFailed", 1),
            ChildStep.Sysctl => ($"sysctl {spec.Linux?.Sysctl?.Keys.ElementAtOrDefault(index)}: {err}", "SysctlFailed", 1),
            ChildStep.Hostname => ($"sethostname: {err}", "HostnameFailed", 1),
            ChildStep.Rlimit => ($"setrlimit {p.Rlimits?.ElementAtOrDefault(index)?.Type}: {err}", "RlimitFailed", 1),
            ChildStep.OomScoreAdj => ($"oom_score_adj: {err}", "OomScoreAdjFailed", 1),
            ChildStep.Bounding => ($"dropping {CapabilityTable.Name(index)} from the bounding set: {err}", "CapabilitiesFailed", 1),
            ChildStep.Capabilities => ($"capset: {err}", "CapabilitiesFailed", 1),
            ChildStep.Ambient => ($"raising ambient {CapabilityTable.Name(index)}: {err}", "CapabilitiesFailed", 1),
            ChildStep.Groups => ($"setgroups: {err}", "UserFailed", 1),
            ChildStep.SetGid => ($"setgid {(uint)index}: {err}", "UserFailed", 1),
            ChildStep.SetUid => ($"setuid {(uint)index}: {err}", "UserFailed", 1),
            ChildStep.NoNewPrivileges => ($"no_new_privs: {err}", "NoNewPrivilegesFailed", 1),
            ChildStep.Seccomp => ($"installing the seccomp filter: {err}", "SeccompFailed", 1),
            ChildStep.Cwd => ($"chdir to {p.Cwd}: {err}", "CwdFailed", 1),
            ChildStep.CwdOutsideRoot => ($"the working directory {p.Cwd} lies outside the container's root: refused", "CwdOutsideRoot", 1),
            ChildStep.Descriptors => ($"closing the descriptors above 2 before exec: {err} (close_range needs Linux 5.9 or later)", "DescriptorsFailed", 1),
            ChildStep.Session => ($"setsid: {err}", "SessionFailed", 1),
            ChildStep.Propagation => ($"setting mount propagation: {err}", "MountFailed", 1),
            ChildStep.Stdio => ($"setting up stdio: {err}", "StdioFailed", 1),
            ChildStep.Cgroup => ($"joining cgroup: {(cgroups is not null && index >= 0 && index < cgroups.Count ? Path.GetDirectoryName(cgroups[index]) + "/tasks" : "#" + index)}: {err}", "CgroupJoinFailed", 1),
            ChildStep.CgroupNamespace => ($"making the cgroup namespace: {err}", "CgroupNamespaceFailed", 1),
            ChildStep.PodNamespace => ($"joining the pod's {(index == 0 ? "IPC" : "UTS")} namespace: {err}", "PodNamespaceFailed", 1),
            ChildStep.Init => ($"starting the command under the container's init ({(index == 0 ? "blocking signals" : "fork")}): {err}", "InitFailed", 1),
            _ => ($"container setup step {step}: {err}", "StartFailed", 1),
        };
    }
}
