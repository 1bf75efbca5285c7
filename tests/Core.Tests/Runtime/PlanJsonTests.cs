using System.Text.Json;
using System.Text.Json.Nodes;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Runtime;

public class PlanJsonTests
{
    private static RuntimeSpec SampleSpec() => new()
    {
        Process = new RuntimeProcess
        {
            User = new RuntimeUser { Uid = 1000, Gid = 1000, AdditionalGids = [10, 20] },
            Args = ["/bin/sh", "-c", "echo hi"],
            Env = [RuntimeDefaults.Path],
            Cwd = "/tmp",
            Capabilities = new LinuxCapabilities { Bounding = RuntimeDefaults.Capabilities(), Effective = ["CAP_KILL"] },
            Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Hard = 1024, Soft = 512 }],
            NoNewPrivileges = true,
        },
        Root = new RuntimeRoot { Path = "rootfs", Readonly = true },
        Hostname = "box",
        Mounts = RuntimeDefaults.Mounts(),
        Linux = new RuntimeLinux
        {
            Namespaces = [new LinuxNamespace { Type = "pid" }, new LinuxNamespace { Type = "network", Path = "/proc/1/ns/net" }],
            UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }],
            GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }],
            Resources = new LinuxResources
            {
                Memory = new LinuxMemory { Limit = 64 << 20 },
                Cpu = new LinuxCpu { Quota = 50000, Period = 100000, Shares = 512 },
                Pids = new LinuxPids { Limit = 32 },
            },
            CgroupsPath = "/pscontainers/abc",
            MaskedPaths = RuntimeDefaults.MaskedPaths(),
            ReadonlyPaths = RuntimeDefaults.ReadonlyPaths(),
            Seccomp = RuntimeDefaults.Seccomp(),
            Devices = [new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229, FileMode = 438 }],
            Sysctl = new() { ["net.ipv4.ip_forward"] = "1" },
        },
        Annotations = new() { ["io.pscontainers.name"] = "web" },
    };

    [Fact]
    public void RuntimeSpecUsesTheSpecsFieldNames()
    {
        string json = JsonSerializer.Serialize(SampleSpec(), PlanJsonContext.Default.RuntimeSpec);
        var node = JsonNode.Parse(json)!;
        Assert.Equal("1.0.2", (string?)node["ociVersion"]);
        Assert.Equal(1000u, (uint)node["process"]!["user"]!["uid"]!);
        Assert.Equal(2, node["process"]!["user"]!["additionalGids"]!.AsArray().Count);
        Assert.True((bool)node["process"]!["noNewPrivileges"]!);
        Assert.Equal("RLIMIT_NOFILE", (string?)node["process"]!["rlimits"]![0]!["type"]);
        Assert.True((bool)node["root"]!["readonly"]!);
        var map = node["linux"]!["uidMappings"]![0]!;
        Assert.Equal(100000u, (uint)map["hostID"]!);
        Assert.Equal(0u, (uint)map["containerID"]!);
        Assert.Equal(64L << 20, (long)node["linux"]!["resources"]!["memory"]!["limit"]!);
        Assert.Equal(50000L, (long)node["linux"]!["resources"]!["cpu"]!["quota"]!);
        Assert.Equal(32L, (long)node["linux"]!["resources"]!["pids"]!["limit"]!);
        Assert.Equal("/pscontainers/abc", (string?)node["linux"]!["cgroupsPath"]);
        Assert.Equal("SCMP_ACT_ERRNO", (string?)node["linux"]!["seccomp"]!["syscalls"]![0]!["action"]);
        Assert.Equal(1u, (uint)node["linux"]!["seccomp"]!["syscalls"]![0]!["errnoRet"]!);
        Assert.Equal("/proc/1/ns/net", (string?)node["linux"]!["namespaces"]![1]!["path"]);
        Assert.Null(node["linux"]!["namespaces"]![0]!["path"]); // nulls are omitted
        Assert.Equal("1", (string?)node["linux"]!["sysctl"]!["net.ipv4.ip_forward"]);
        Assert.Equal("web", (string?)node["annotations"]!["io.pscontainers.name"]);
    }

    [Fact]
    public void RuntimeSpecRoundTrips()
    {
        string json = JsonSerializer.Serialize(SampleSpec(), PlanJsonContext.Default.RuntimeSpec);
        var back = JsonSerializer.Deserialize(json, PlanJsonContext.Default.RuntimeSpec)!;
        Assert.Equal(json, JsonSerializer.Serialize(back, PlanJsonContext.Default.RuntimeSpec));
    }

    [Fact]
    public void ReadsCrunsOwnSpec()
    {
        // The shape `crun spec` writes (trimmed), with members we do not model.
        const string crun = """
        { "ociVersion": "1.0.0",
          "process": { "terminal": true, "user": { "uid": 0, "gid": 0 }, "args": ["sh"], "cwd": "/",
                       "capabilities": { "bounding": ["CAP_KILL"], "inheritable": [] },
                       "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }], "noNewPrivileges": true },
          "root": { "path": "rootfs", "readonly": true }, "hostname": "crun",
          "mounts": [{ "destination": "/proc", "type": "proc", "source": "proc" }],
          "linux": { "resources": { "devices": [{ "allow": false, "access": "rwm" }] },
                     "namespaces": [{ "type": "pid" }], "maskedPaths": ["/proc/kcore"], "intelRdt": {} } }
        """;
        var spec = JsonSerializer.Deserialize(crun, PlanJsonContext.Default.RuntimeSpec)!;
        Assert.True(spec.Process!.Terminal);
        Assert.Equal(["CAP_KILL"], spec.Process.Capabilities!.Bounding!);
        Assert.Empty(spec.Process.Capabilities.Inheritable!);
        Assert.Equal("crun", spec.Hostname);
        Assert.False(spec.Linux!.Resources!.Devices![0].Allow);
        Assert.Equal("rwm", spec.Linux.Resources.Devices[0].Access);
    }

    [Fact]
    public void LaunchPlanRoundTrips()
    {
        var plan = new LaunchPlan
        {
            ContainerId = "3f2a9c1d",
            BundleDir = "/var/lib/x/b",
            StateDir = "/run/x/s",
            LogPath = "/var/lib/x/ctr.log",
            Rootfs = new RootfsLayers { LowerDirs = ["/l/1", "/l/2"], UpperDir = "/u", WorkDir = "/w" },
            CgroupProcsFiles = ["/sys/fs/cgroup/memory/x/cgroup.procs"],
            NewUidMap = "/usr/bin/newuidmap",
            Stdio = StdioMode.Inherit,
        };
        string json = JsonSerializer.Serialize(plan, PlanJsonContext.Default.LaunchPlan);
        Assert.Contains("\"stdio\": \"inherit\"", json);
        Assert.Contains("\"lowerDirs\"", json);
        var back = JsonSerializer.Deserialize(json, PlanJsonContext.Default.LaunchPlan)!;
        Assert.Equal(json, JsonSerializer.Serialize(back, PlanJsonContext.Default.LaunchPlan));
        Assert.Equal(StdioMode.Inherit, back.Stdio);
        Assert.Equal(["/l/1", "/l/2"], back.Rootfs!.LowerDirs);
        Assert.Null(back.NewGidMap);
    }

    [Fact]
    public void StateRoundTripsWithLowercaseStatus()
    {
        var state = new ContainerRuntimeState
        {
            ContainerId = "abc",
            Status = ContainerStatus.Stopped,
            Pid = 42,
            PidStartTime = 123456,
            MonitorPid = 41,
            StartedAt = new DateTimeOffset(2026, 11, 29, 7, 0, 0, TimeSpan.Zero),
            FinishedAt = new DateTimeOffset(2026, 11, 29, 7, 0, 1, TimeSpan.Zero),
            ExitCode = 137,
            Signal = 9,
            OomKilled = true,
            BootId = "b1",
        };
        string json = JsonSerializer.Serialize(state, PlanJsonContext.Default.ContainerRuntimeState);
        Assert.Contains("\"status\": \"stopped\"", json);
        var back = JsonSerializer.Deserialize(json, PlanJsonContext.Default.ContainerRuntimeState)!;
        Assert.Equal(ContainerStatus.Stopped, back.Status);
        Assert.Equal(137, back.ExitCode);
        Assert.Equal(9, back.Signal);
        Assert.True(back.OomKilled);
        Assert.Equal(state.FinishedAt, back.FinishedAt);
        Assert.Equal(json, JsonSerializer.Serialize(back, PlanJsonContext.Default.ContainerRuntimeState));
    }

    [Theory]
    [InlineData("2026-11-29T07:04:58.123456700Z stdout F hello world", LogStream.Stdout, false, "hello world")]
    [InlineData("2026-11-29T07:04:58.1Z stderr P part", LogStream.Stderr, true, "part")]
    [InlineData("2026-11-29T07:04:58.000000000+01:00 stdout F ", LogStream.Stdout, false, "")]
    [InlineData("2026-11-29T07:04:58.000000000Z stdout F", LogStream.Stdout, false, "")]
    public void ParsesLogLines(string line, LogStream stream, bool partial, string text)
    {
        Assert.True(ContainerLogLine.TryParse(line, out var l));
        Assert.Equal(stream, l.Stream);
        Assert.Equal(partial, l.Partial);
        Assert.Equal(text, l.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("2026-11-29T07:04:58Z stdin F x")]
    [InlineData("2026-11-29T07:04:58Z stdout X x")]
    [InlineData("notatime stdout F x")]
    public void RefusesBadLogLines(string line) => Assert.False(ContainerLogLine.TryParse(line, out _));

    [Fact]
    public void LogLinesRoundTripWithNanosecondTimestamps()
    {
        var t = new DateTimeOffset(2026, 11, 29, 7, 4, 58, TimeSpan.Zero).AddTicks(1234567);
        var line = new ContainerLogLine(t, LogStream.Stderr, false, "a b  c");
        string text = line.ToString();
        Assert.Equal("2026-11-29T07:04:58.123456700Z stderr F a b  c", text);
        Assert.True(ContainerLogLine.TryParse(text, out var back));
        Assert.Equal(line, back);
    }
}
