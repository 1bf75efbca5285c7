using Containers.Core.Errors;
using Containers.Core.Kube;
using Containers.Core.Runtime.Plan;

namespace Containers.Core.Tests.Kube;

/// <summary>Kubernetes YAML read into New-Container's options, as podman kube play 4.3 maps it; nothing is created.</summary>
public sealed class KubeReaderTests
{
    private const string Pod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: shop
          labels: {tier: front}
        spec:
          restartPolicy: OnFailure
          containers:
          - name: web
            image: busybox
            command: [busybox, httpd]
            args: [-f, -p, "8080"]
            workingDir: /srv
            env:
            - {name: A, value: "1"}
            ports:
            - {containerPort: 8080, hostPort: 18080}
            - {containerPort: 53, hostPort: 5353, hostIP: 127.0.0.1, protocol: UDP}
            - {containerPort: 9000}
            resources:
              limits: {memory: 64Mi, cpu: 500m}
            securityContext:
              runAsUser: 1000
              runAsGroup: 100
              readOnlyRootFilesystem: true
              capabilities: {add: [NET_ADMIN], drop: [CAP_CHOWN]}
            livenessProbe:
              exec: {command: [busybox, "true"]}
              periodSeconds: 5
              timeoutSeconds: 2
              failureThreshold: 4
              initialDelaySeconds: 3
          - name: side
            image: busybox
            args: [sleep, "60"]
        """;

    [Fact]
    public void PodContainerMapsEveryFieldAsPodmanPlaysIt()
    {
        var plan = KubeReader.Read(Pod, "pod.yaml");
        var pod = Assert.Single(plan.Pods);
        Assert.Equal("shop", pod.Name);
        Assert.Equal(["18080:8080/tcp", "127.0.0.1:5353:53/udp"], pod.Publish);
        var o = pod.Containers[0].Options;
        Assert.Equal("shop-web", o.Name);
        Assert.Equal(["busybox", "httpd"], o.Entrypoint);
        Assert.Equal(["-f", "-p", "8080"], o.Command);
        Assert.Equal("/srv", o.WorkingDir);
        Assert.Equal("1", o.Env["A"]);
        Assert.Equal(64L << 20, o.MemoryBytes);
        Assert.Equal(0.5, o.Cpus);
        Assert.Equal("1000:100", o.User);
        Assert.True(o.ReadOnlyRootfs);
        Assert.Equal(["NET_ADMIN"], o.CapAdd);
        Assert.Equal(["CAP_CHOWN"], o.CapDrop);
        Assert.Equal(["busybox", "true"], o.HealthCommand);
        Assert.Equal(TimeSpan.FromSeconds(5), o.HealthInterval);
        Assert.Equal(TimeSpan.FromSeconds(2), o.HealthTimeout);
        Assert.Equal(4, o.HealthRetries);
        Assert.Equal(TimeSpan.FromSeconds(3), o.HealthStartPeriod);
        Assert.Equal(ContainerHealthAction.Restart, o.HealthOnFailure);
        Assert.Equal(ContainerRestartPolicy.OnFailure, o.RestartPolicy);
        // The pod decides the hostname (its name when spec.hostname is absent), not its containers.
        Assert.Null(o.Hostname);
        Assert.Null(pod.Hostname);
        Assert.Equal("front", o.Labels["tier"]);
        // args alone keep the image's entrypoint and replace its cmd.
        var side = pod.Containers[1].Options;
        Assert.Null(side.Entrypoint);
        Assert.Equal(["sleep", "60"], side.Command);
        Assert.Empty(plan.Warnings);
    }

    [Fact]
    public void UnknownFieldsAreWarningsWithTheirPath()
    {
        string yaml = Pod.Replace("    workingDir: /srv", "    workingDir: /srv\n    lifecycle: {preStop: {exec: {command: [x]}}}\n    colour: blue", StringComparison.Ordinal);
        var plan = KubeReader.Read(yaml, "pod.yaml");
        Assert.Contains(plan.Warnings, w => w.Path == "spec.containers[0].lifecycle");
        Assert.Contains(plan.Warnings, w => w.Path == "spec.containers[0].colour");
    }

    [Theory]
    [InlineData("{volume.podman.io/driver: local}", false)]
    [InlineData("{volume.podman.io/driver: nfs}", true)]
    [InlineData("{volume.podman.io/driver: local, volume.podman.io/mount-options: 'o=size=1m'}", true)]
    public void AClaimsLocalDriverAnnotationIsWhatIsMadeOtherVolumeOptionsAreWarnedAbout(string annotations, bool warned)
    {
        // What ConvertTo-ContainerKube and podman kube generate write for every claim plays back without a warning.
        string yaml = $"""
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata:
              name: data
              annotations: {annotations}
            spec:
              accessModes: [ReadWriteOnce]
              resources:
                requests:
                  storage: 1Gi
            """;
        var plan = KubeReader.Read(yaml, "claim.yaml");
        Assert.Equal(warned, plan.Warnings.Any(w => w.Path == "metadata.annotations"));
        Assert.Equal(warned ? 1 : 0, plan.Warnings.Count);
    }

    [Fact]
    public void DeploymentOfOneReplicaIsOnePodNamedAsPodmanNamesIt()
    {
        const string yaml = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: api}
            spec:
              replicas: 1
              selector: {matchLabels: {app: api}}
              paused: false
              template:
                metadata: {labels: {app: api}}
                spec:
                  containers:
                  - {name: c, image: busybox}
            """;
        var plan = KubeReader.Read(yaml, "d.yaml");
        var pod = Assert.Single(plan.Pods);
        Assert.Equal("api-pod-0", pod.Name);
        Assert.Equal("spec.paused", Assert.Single(plan.Warnings).Path);
        Assert.Equal("api-pod-0-c", pod.Containers[0].Options.Name);
        var e = Assert.Throws<ContainersException>(() => KubeReader.Read(yaml.Replace("replicas: 1", "replicas: 3", StringComparison.Ordinal), "d.yaml"));
        Assert.Equal("KubeReplicasNotSupported", e.ErrorId);
        Assert.Equal("spec.replicas", e.Target);
    }

    [Fact]
    public void ConfigMapsBecomeFilesAndEnvironment()
    {
        const string yaml = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings}
            data: {mode: fast, "app.conf": "port=80\n"}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - name: c
                image: busybox
                envFrom: [{configMapRef: {name: settings}, prefix: S_}]
                env:
                - name: MODE
                  valueFrom: {configMapKeyRef: {name: settings, key: mode}}
                - name: OTHER
                  valueFrom: {configMapKeyRef: {name: extra, key: k}}
                volumeMounts: [{name: conf, mountPath: /etc/app}]
              volumes:
              - name: conf
                configMap: {name: settings, items: [{key: app.conf, path: sub/app.conf}]}
            """;
        const string extra = "kind: ConfigMap\nmetadata: {name: extra}\ndata: {k: v}\n";
        var plan = KubeReader.Read(yaml, "p.yaml", [(extra, "extra.yaml")]);
        var o = plan.Pods[0].Containers[0].Options;
        Assert.Equal("fast", o.Env["MODE"]);
        Assert.Equal("fast", o.Env["S_mode"]);
        Assert.Equal("v", o.Env["OTHER"]);
        Assert.Equal(["settings:/etc/app"], o.Volumes);
        var volume = Assert.Single(plan.Volumes);
        Assert.Equal(KubeVolumeKind.ConfigMap, volume.Kind);
        Assert.Equal("port=80\n", volume.Files["sub/app.conf"]);
        var e = Assert.Throws<ContainersException>(() => KubeReader.Read(yaml, "p.yaml"));
        Assert.Equal("KubeConfigMapNotFound", e.ErrorId);
    }

    [Theory]
    [InlineData("kind: Pod\nmetadata: {name: p\nspec: {}\n", "KubeYamlInvalid", "bad.yaml:")]
    [InlineData("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", "KubeKindNotSupported", "Secret")]
    [InlineData("kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: b}]\n  volumes: [{name: s, secret: {secretName: x}}]\n", "KubeVolumeTypeNotSupported", "spec.volumes[0]")]
    [InlineData("kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: b, volumeMounts: [{name: v, mountPath: /v, subPath: x}]}]\n  volumes: [{name: v, emptyDir: {}}]\n", "KubeFieldNotSupported", "subPath")]
    [InlineData("kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: b, resources: {limits: {memory: lots}}}]\n", "KubeFieldInvalid", "spec.containers[0].resources.limits.memory")]
    [InlineData("kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c}]\n", "KubeFieldMissing", "spec.containers[0].image")]
    public void BadYamlIsATypedErrorThatSaysWhere(string yaml, string errorId, string where)
    {
        var e = Assert.Throws<ContainersException>(() => KubeReader.Read(yaml, "bad.yaml"));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Contains(where, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void YamlSyntaxErrorNamesFileLineAndColumn()
    {
        var e = Assert.Throws<ContainersException>(() => KubeReader.Read("kind: Pod\nmetadata:\n  name: [p\n", "x.yaml"));
        Assert.Matches(@"^x\.yaml:\d+:\d+: ", e.Message);
    }

    [Theory]
    [InlineData("64Mi", 67108864)]
    [InlineData("1G", 1000000000)]
    [InlineData("500m", 0.5)]
    [InlineData("1.5", 1.5)]
    [InlineData("1e3", 1000)]
    public void QuantitiesReadAsKubernetesWritesThem(string text, double value) =>
        Assert.Equal((decimal)value, KubeQuantity.Parse(text, "x"));
}
