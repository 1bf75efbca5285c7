using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Runtime;

/// <summary>
/// PlanReader (Init's metadata-free reader) against the serializer Core writes with: every property of the plan and of
/// config.json, filled with a distinct non-default value, must read back to the same document.
/// </summary>
public class PlanReaderTests
{
    [Fact]
    public void EveryPlanPropertyRoundTrips()
    {
        var plan = Fill<LaunchPlan>();
        string json = JsonSerializer.Serialize(plan, PlanJsonContext.Default.LaunchPlan);
        var read = PlanReader.ReadPlan(Encoding.UTF8.GetBytes(json));
        Assert.Equal(json, JsonSerializer.Serialize(read, PlanJsonContext.Default.LaunchPlan));
    }

    [Fact]
    public void EverySpecPropertyRoundTrips()
    {
        var spec = Fill<RuntimeSpec>();
        string json = JsonSerializer.Serialize(spec, PlanJsonContext.Default.RuntimeSpec);
        var read = PlanReader.ReadSpec(Encoding.UTF8.GetBytes(json));
        Assert.Equal(json, JsonSerializer.Serialize(read, PlanJsonContext.Default.RuntimeSpec));
    }

    [Fact]
    public void TheDefaultBundleRoundTrips()
    {
        var spec = new RuntimeSpec
        {
            Process = new RuntimeProcess { Args = ["/bin/true"], Capabilities = LinuxCapabilities.For(0, RuntimeDefaults.Capabilities()) },
            Mounts = RuntimeDefaults.Mounts(),
            Linux = new RuntimeLinux { MaskedPaths = RuntimeDefaults.MaskedPaths(), ReadonlyPaths = RuntimeDefaults.ReadonlyPaths(), Seccomp = RuntimeDefaults.Seccomp() },
        };
        string json = JsonSerializer.Serialize(spec, PlanJsonContext.Default.RuntimeSpec);
        Assert.Equal(json, JsonSerializer.Serialize(PlanReader.ReadSpec(Encoding.UTF8.GetBytes(json)), PlanJsonContext.Default.RuntimeSpec));
    }

    [Fact]
    public void ReadsWhatTheSerializerAcceptsFromOtherTools()
    {
        // Unknown members (of any shape), comments, trailing commas, nulls and a repeated property (last wins).
        const string json = """
            {
              // written by hand
              "ociVersion": "1.1.0",
              "hooks": { "prestart": [ { "path": "/x", "args": ["a", {"b": [1, 2]}] } ] },
              "process": { "args": ["/bin/sh"], "user": { "uid": 7, "gid": 8, "umask": null }, "cwd": "/a", "cwd": "/b", },
              "root": null,
              "linux": { "uidMappings": [ { "containerID": 0, "hostID": 1000, "size": 1 } ], "intelRdt": {} },
            }
            """;
        var spec = PlanReader.ReadSpec(Encoding.UTF8.GetBytes(json))!;
        var expected = JsonSerializer.Deserialize(json, PlanJsonContext.Default.RuntimeSpec)!;
        Assert.Equal(JsonSerializer.Serialize(expected, PlanJsonContext.Default.RuntimeSpec), JsonSerializer.Serialize(spec, PlanJsonContext.Default.RuntimeSpec));
        Assert.Equal("/b", spec.Process!.Cwd);
        Assert.Equal(1000u, spec.Linux!.UidMappings![0].HostId);
        Assert.Null(spec.Root);
    }

    [Fact]
    public void EnumsReadByTheirJsonNames()
    {
        var plan = PlanReader.ReadPlan("""{"stdio":"inherit","restart":{"policy":"on-failure"},"health":{"onFailure":"restart"}}"""u8)!;
        Assert.Equal(StdioMode.Inherit, plan.Stdio);
        Assert.Equal(ContainerRestartPolicy.OnFailure, plan.Restart!.Policy);
        Assert.Equal(ContainerHealthAction.Restart, plan.Health!.OnFailure);
    }

    [Theory]
    [InlineData("", "does not contain any JSON token")]
    [InlineData("{\"version\": 1, \"bundleDir\": \"/b\"", "Expected depth to be zero")]
    [InlineData("{\"version\": \"1\"}", "'version' must be a 32-bit integer, not a string")]
    [InlineData("{\"version\": 4294967296}", "'version' must be a 32-bit integer")]
    [InlineData("{\"cgroupProcsFiles\": \"/sys/fs/cgroup/x\"}", "'cgroupProcsFiles' must be an array, not a string")]
    [InlineData("{\"stdio\": \"tty\"}", "'stdio' must be one of its known names")]
    [InlineData("{\"rootfs\": [1]}", "must be an object, not an array")]
    [InlineData("[]", "'the plan' must be an object")]
    [InlineData("{} {}", "invalid after a single JSON value")]
    [InlineData("{\"version\": 1,,}", "")]
    public void AMalformedPlanIsAJsonExceptionThatSaysWhy(string json, string reason)
    {
        var e = Assert.ThrowsAny<JsonException>(() => PlanReader.ReadPlan(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"process\": {\"user\": {\"uid\": -1}}}", "'uid' must be an unsigned 32-bit integer, not a number")]
    [InlineData("{\"process\": {\"terminal\": \"yes\"}}", "'terminal' must be true or false")]
    [InlineData("{\"mounts\": [null]}", "'mounts' must be an object, not null")]
    [InlineData("{\"linux\": {\"sysctl\": {\"a\": 1}}}", "'sysctl' must be a string, not a number")]
    public void AMalformedSpecNamesTheProperty(string json, string reason)
    {
        var e = Assert.ThrowsAny<JsonException>(() => PlanReader.ReadSpec(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheStateFileIsWrittenAsTheSerializerWritesIt()
    {
        foreach (var state in new[] { Fill<ContainerRuntimeState>(), new ContainerRuntimeState { ContainerId = "c", Error = "ünïcode <&> \"q\"" } })
        {
            var stream = new MemoryStream();
            PlanWriter.WriteState(stream, state);
            Assert.Equal(JsonSerializer.Serialize(state, PlanJsonContext.Default.ContainerRuntimeState), Encoding.UTF8.GetString(stream.ToArray()));
        }
    }

    [Fact]
    public void TheHandshakeIsWrittenAsTheOneLineContextWroteIt()
    {
        var oneLine = new PlanJsonContext(new JsonSerializerOptions(PlanJsonContext.Default.Options)
        { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        foreach (var result in new[] { Fill<LaunchResult>(), new LaunchResult { Pid = 1, MonitorPid = 2 }, new LaunchResult { Error = "`x` not found in $PATH: ü <&>", ErrorId = "CommandNotFound", ExitCode = 127 } })
            Assert.Equal(JsonSerializer.Serialize(result, oneLine.LaunchResult), Encoding.UTF8.GetString(PlanWriter.LaunchResult(result)));
    }

    /// <summary>An instance whose every settable property holds a value unlike its default (lists and maps of two).</summary>
    internal static T Fill<T>() => (T)Fill(typeof(T), 1);

    private static object Fill(Type type, int seed)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return "s" + seed;
        if (type == typeof(bool)) return true;
        if (type.IsEnum) return Enum.GetValues(type).GetValue(Enum.GetValues(type).Length - 1)!;
        if (type == typeof(int) || type == typeof(uint) || type == typeof(long) || type == typeof(ulong)) return Convert.ChangeType(1000 + seed, type, System.Globalization.CultureInfo.InvariantCulture);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            var list = (IList)Activator.CreateInstance(type)!;
            list.Add(Fill(type.GetGenericArguments()[0], seed + 1));
            list.Add(Fill(type.GetGenericArguments()[0], seed + 2));
            return list;
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            var map = (IDictionary)Activator.CreateInstance(type)!;
            map["k" + seed] = "v" + seed;
            map["k" + (seed + 1)] = "v" + (seed + 1);
            return map;
        }
        object o = Activator.CreateInstance(type)!;
        int n = 0;
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            p.SetValue(o, Fill(p.PropertyType, seed * 10 + ++n));
        return o;
    }
}
