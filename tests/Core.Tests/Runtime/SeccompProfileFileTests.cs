using Containers.Core.Errors;
using Containers.Core.Runtime.Plan;
using Containers.Core.Runtime.Security;

namespace Containers.Core.Tests.Runtime;

/// <summary>Profiles in Docker's and podman's JSON format read from disk, and -SecurityOpt's keys.</summary>
public sealed class SeccompProfileFileTests : IDisposable
{
    private const uint X86_64 = SyscallTable.AuditArchX86_64;
    private readonly string _dir = Directory.CreateTempSubdirectory("seccomp-profile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string json)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    private static int Nr(string name) => SyscallTable.X86_64(name);

    // The shape of moby's default.json: an allow-list, a singular "name", arg comparisons, rules by capability and by
    // architecture, members this runtime does not use (archMap, comment, minKernel).
    private const string DockerShaped = """
        {
          "defaultAction": "SCMP_ACT_ERRNO",
          "defaultErrnoRet": 1,
          "archMap": [ { "architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] } ],
          "syscalls": [
            { "names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW", "comment": "basics" },
            { "name": "personality", "action": "SCMP_ACT_ALLOW", "args": [ { "index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ" } ] },
            { "names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [ { "index": 0, "value": 40, "op": "SCMP_CMP_NE" } ] },
            { "names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_PTRACE"], "minKernel": "4.8" } },
            { "names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28, "excludes": { "caps": ["CAP_SYS_ADMIN"] } },
            { "names": ["mkdir"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
            { "names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["amd64", "x32"] } },
            { "names": ["sync_file_range"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["arm64"] } }
          ]
        }
        """;

    [Fact]
    public void ReadsDockersFormatAndResolvesItPerContainer()
    {
        var profile = SeccompProfileFile.Load(Write(DockerShaped));
        var plain = SeccompFilter.Compile(profile.Resolve(["CAP_CHOWN"]));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(plain, X86_64, Nr("read")));
        Assert.Equal(SeccompFilter.RetErrno | 1, SeccompFilter.Evaluate(plain, X86_64, Nr("open")));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(plain, X86_64, Nr("personality"), 8));
        Assert.Equal(SeccompFilter.RetErrno | 1, SeccompFilter.Evaluate(plain, X86_64, Nr("personality"), 9));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(plain, X86_64, Nr("socket"), 2));
        Assert.Equal(SeccompFilter.RetErrno | 1, SeccompFilter.Evaluate(plain, X86_64, Nr("socket"), 40));
        Assert.Equal(SeccompFilter.RetErrno | 1, SeccompFilter.Evaluate(plain, X86_64, Nr("ptrace")));
        Assert.Equal(SeccompFilter.RetErrno | 28, SeccompFilter.Evaluate(plain, X86_64, Nr("mkdir")));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(plain, X86_64, Nr("arch_prctl")));
        // A rule for another architecture is not kept on this one.
        Assert.Equal(SeccompFilter.RetErrno | 1, SeccompFilter.Evaluate(plain, X86_64, Nr("sync_file_range")));

        var debugger = SeccompFilter.Compile(profile.Resolve(["CAP_SYS_PTRACE"]));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(debugger, X86_64, Nr("ptrace")));
        var admin = SeccompFilter.Compile(profile.Resolve(["CAP_SYS_ADMIN"]));
        Assert.Equal(SeccompFilter.RetAllow, SeccompFilter.Evaluate(admin, X86_64, Nr("mkdir")));
    }

    [Fact]
    public void AProfileThatDoesNotParseNamesTheFileAndLine()
    {
        string path = Write("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [ { \"names\": [\"mkdir\"] \"action\": 1 } ]\n}");
        var e = Assert.Throws<ContainersException>(() => SeccompProfileFile.Load(path));
        Assert.Equal("InvalidSeccompProfile", e.ErrorId);
        Assert.Equal(ErrorKind.InvalidData, e.Kind);
        Assert.Equal(path, e.Target);
        Assert.Contains(path, e.Message);
        Assert.Contains("line 3", e.Message);
    }

    [Theory]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ["mkdir"], "action": "SCMP_ACT_NOTIFY" } ] }""", "SCMP_ACT_NOTIFY")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [ { "index": 0, "value": 1, "op": "SCMP_CMP_BETWEEN" } ] } ] }""", "SCMP_CMP_BETWEEN")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [ { "index": 6, "value": 1, "op": "SCMP_CMP_EQ" } ] } ] }""", "index 6")]
    // Checked even when the rule would be dropped for this container's capabilities.
    [InlineData("""{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ["ptrace"], "action": "SCMP_ACT_NOTIFY", "includes": { "caps": ["CAP_SYS_PTRACE"] } } ] }""", "SCMP_ACT_NOTIFY")]
    public void WhatTheFilterCannotExpressIsRefusedNamingTheFile(string json, string named)
    {
        string path = Write(json);
        var e = Assert.Throws<ContainersException>(() => SeccompProfileFile.Load(path));
        Assert.Equal("UnsupportedSeccompProfile", e.ErrorId);
        Assert.Contains(path, e.Message);
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void AMissingProfileIsNotFound()
    {
        var e = Assert.Throws<ContainersException>(() => SeccompProfileFile.Load(Path.Combine(_dir, "absent.json")));
        Assert.Equal("SeccompProfileNotFound", e.ErrorId);
    }

    [Fact]
    public void SecurityOptions()
    {
        string path = Write(DockerShaped);
        var custom = ContainerSecurity.Parse([$"seccomp={path}", "no-new-privileges=false"], privileged: false, p => p);
        Assert.Equal("SCMP_ACT_ERRNO", custom.Profile!.DefaultAction);
        Assert.False(custom.NoNewPrivileges);
        Assert.False(custom.Unconfined);

        var unconfined = ContainerSecurity.Parse(["seccomp=unconfined"], privileged: false, p => p);
        Assert.True(unconfined.Unconfined);
        Assert.True(unconfined.NoNewPrivileges);

        var spec = new RuntimeSpec { Process = new RuntimeProcess(), Linux = new RuntimeLinux() };
        unconfined.Apply(spec, []);
        Assert.Null(spec.Linux.Seccomp);
        custom.Apply(spec, ["CAP_SYS_PTRACE"]);
        Assert.Contains(spec.Linux.Seccomp!.Syscalls!, r => r.Names.Contains("ptrace"));
        Assert.False(spec.Process.NoNewPrivileges);
    }

    [Fact]
    public void PrivilegedHasEveryCapabilityOfThisProcessEveryDeviceAndNoFilter()
    {
        var privileged = ContainerSecurity.Parse([], privileged: true, p => p);
        Assert.True(privileged.Unconfined);
        Assert.Contains("CAP_CHOWN", privileged.CapAdd([]));
        var spec = new RuntimeSpec { Process = new RuntimeProcess(), Linux = new RuntimeLinux { MaskedPaths = ["/proc/kcore"] } };
        privileged.Apply(spec, privileged.CapAdd([]));
        Assert.Null(spec.Linux.Seccomp);
        Assert.Null(spec.Linux.MaskedPaths);
        // The cgroup's rules (made from the record): allow everything.
        var rule = Assert.Single(Containers.Core.Runtime.BundleBuilder.ToLinux(new Containers.Core.Runtime.ContainerResources { AllDevices = true })!.Devices!);
        Assert.Equal("a *:* rwm", Containers.Core.Cgroups.DeviceRules.V1Line(rule));
    }

    [Theory]
    [InlineData("apparmor=unconfined", "UnknownSecurityOption")]
    [InlineData("label=disable", "UnknownSecurityOption")]
    [InlineData("seccomp=", "InvalidSecurityOption")]
    [InlineData("no-new-privileges=maybe", "InvalidSecurityOption")]
    public void BadOptionsAreTypedErrors(string option, string errorId)
    {
        var e = Assert.Throws<ContainersException>(() => ContainerSecurity.Parse([option], privileged: false, p => p));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        if (errorId == "UnknownSecurityOption") Assert.Contains("seccomp, no-new-privileges", e.Message);
    }
}
