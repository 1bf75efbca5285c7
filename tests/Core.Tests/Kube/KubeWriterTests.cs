using Containers.Core.Kube;
using Containers.Core.Runtime;
using Containers.Core.Spec;

namespace Containers.Core.Tests.Kube;

/// <summary>Containers written as podman kube generate 4.3 writes them (Kube.Tests.ps1 compares with podman itself).</summary>
public sealed class KubeWriterTests
{
    private static readonly ContainerConfig Busybox = new()
    {
        Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        Cmd = ["/bin/sh"],
    };

    private static string Write(ContainerRecord r, ContainerConfig? image = null) =>
        KubeWriter.Write(KubeExportPod.Group([new KubeExportContainer(r, image ?? Busybox)]), service: true, DateTimeOffset.UnixEpoch, "1.0");

    private static ContainerRecord Record(ContainerCreateOptions o, params string[] env) => new()
    {
        Id = new string('a', 64), Name = "web", Image = "localhost/busybox", Hostname = "aaaaaaaaaaaa", Definition = o,
        Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "container=pscontainers", "HOSTNAME=aaaaaaaaaaaa", "HOME=/root", .. env],
    };

    [Fact]
    public void LoneContainerIsAPodNamedAfterItWithOnlyWhatDiffersFromTheImage()
    {
        var o = new ContainerCreateOptions { Image = "localhost/busybox", Command = ["sleep", "60"], Env = new Dictionary<string, string?> { ["A"] = "1" } };
        string yaml = Write(Record(o, "A=1"));
        Assert.Contains("kind: Pod\nmetadata:", yaml, StringComparison.Ordinal);
        Assert.Contains("  name: web-pod\n", yaml, StringComparison.Ordinal);
        Assert.Contains("  - command:\n    - sleep\n    - \"60\"\n    env:\n    - name: A\n      value: \"1\"\n    image: localhost/busybox:latest\n    name: web\n", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("HOSTNAME", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("container=", yaml, StringComparison.Ordinal);
        Assert.Contains("creationTimestamp: \"1970-01-01T00:00:00Z\"", yaml, StringComparison.Ordinal);
        Assert.Contains("    securityContext:\n      capabilities: {}\n", yaml, StringComparison.Ordinal);
        Assert.Contains("  restartPolicy: Never\n", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("kind: Service", yaml, StringComparison.Ordinal); // nothing published
    }

    [Fact]
    public void EntrypointIsCommandAndCmdIsArgsAndTheImagesOwnAreLeftOut()
    {
        var image = Busybox with { Entrypoint = ["/bin/busybox"], Cmd = ["sh"] };
        string same = Write(Record(new ContainerCreateOptions { Image = "b" }), image);
        Assert.DoesNotContain("command:", same, StringComparison.Ordinal);
        Assert.Contains("  - args:\n    - sh\n", same, StringComparison.Ordinal);
        string both = Write(Record(new ContainerCreateOptions { Image = "b", Entrypoint = ["/bin/env"], Command = ["-i"] }), image);
        Assert.Contains("  - args:\n    - -i\n    command:\n    - /bin/env\n", both, StringComparison.Ordinal);
    }

    [Fact]
    public void PortsLimitsUserAndHealthAreWrittenAndAServiceForThePorts()
    {
        var o = new ContainerCreateOptions
        {
            Image = "b", Publish = ["8080:80", "127.0.0.1:5353:53/udp"], CapAdd = ["net_admin"], User = "1000:1000",
            RestartPolicy = Core.Runtime.Plan.ContainerRestartPolicy.Always,
        };
        var r = Record(o);
        r.User = "1000:1000";
        r.Uid = 1000;
        r.RestartPolicy = o.RestartPolicy;
        r.Gid = 1000;
        r.Resources = new ContainerResources { MemoryBytes = 64L << 20, CpuQuota = 150_000, CpuPeriod = 100_000 };
        r.Healthcheck = new ContainerHealthcheck { Test = ["CMD-SHELL", "true"], Interval = TimeSpan.FromSeconds(10), Timeout = TimeSpan.FromSeconds(3), Retries = 4 };
        string yaml = Write(r);
        Assert.Contains("    ports:\n    - containerPort: 80\n      hostPort: 8080\n    - containerPort: 53\n      hostIP: 127.0.0.1\n      hostPort: 5353\n      protocol: UDP\n", yaml, StringComparison.Ordinal);
        Assert.Contains("      limits:\n        cpu: 1500m\n        memory: 64Mi\n", yaml, StringComparison.Ordinal);
        Assert.Contains("        add:\n        - CAP_NET_ADMIN\n", yaml, StringComparison.Ordinal);
        Assert.Contains("      runAsGroup: 1000\n      runAsUser: 1000\n", yaml, StringComparison.Ordinal);
        Assert.Contains("    livenessProbe:\n      exec:\n        command:\n        - /bin/sh\n        - -c\n        - \"true\"\n      failureThreshold: 4\n      periodSeconds: 10\n      timeoutSeconds: 3\n", yaml, StringComparison.Ordinal);
        Assert.Contains("  restartPolicy: Always\n", yaml, StringComparison.Ordinal);
        Assert.Contains("kind: Service", yaml, StringComparison.Ordinal);
        Assert.Contains("  type: NodePort\n", yaml, StringComparison.Ordinal);
        // What it writes reads back to the same options.
        var back = KubeReader.Read(yaml, "x").Pods[0];
        Assert.Equal(["8080:80/tcp", "127.0.0.1:5353:53/udp"], back.Publish);
        Assert.Equal(64L << 20, back.Containers[0].Options.MemoryBytes);
        Assert.Equal(1.5, back.Containers[0].Options.Cpus);
    }

    [Fact]
    public void ContainersSharingANetworkAreOnePod()
    {
        var a = Record(new ContainerCreateOptions { Image = "b" });
        var b = Record(new ContainerCreateOptions { Image = "b" });
        b.Name = "side";
        b.Network = "container:web";
        b.Created = a.Created.AddSeconds(1);
        var pods = KubeExportPod.Group([new KubeExportContainer(b, Busybox), new KubeExportContainer(a, Busybox)]);
        var pod = Assert.Single(pods);
        Assert.Equal("web-pod", pod.Name);
        Assert.Equal(["web", "side"], pod.Containers.Select(c => c.Record.Name));
    }

    [Theory]
    [InlineData(64L << 20, "64Mi")]
    [InlineData(1L << 30, "1Gi")]
    [InlineData(1000, "1000")]
    public void MemoryIsWrittenWithTheLargestBinarySuffix(long bytes, string text) => Assert.Equal(text, KubeQuantity.Memory(bytes));
}
