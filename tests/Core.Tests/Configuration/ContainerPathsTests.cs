using Containers.Core.Configuration;

namespace Containers.Core.Tests.Configuration;

public class ContainerPathsTests
{
    private static Func<string, string?> Env(params (string Key, string Value)[] values)
    {
        var map = values.ToDictionary(v => v.Key, v => v.Value);
        return key => map.GetValueOrDefault(key);
    }

    [Fact]
    public void RootUsesSystemLocationsThatAreNotPodmans()
    {
        var p = ContainerPaths.FromEnvironment(Env(("HOME", "/root")), 0);
        Assert.Equal("/var/lib/pscontainers", p.DataDir);
        Assert.Equal("/run/pscontainers", p.StateDir);
        Assert.Equal("/etc/containers/registries.conf", p.SystemRegistriesConf);
        Assert.Equal("/etc/containers/registries.conf.d", p.SystemRegistriesConfDir);
        // containers/image reads $HOME/.config/containers for root too.
        Assert.Equal("/root/.config/containers/registries.conf", p.UserRegistriesConf);
        Assert.Equal("/run/containers/0/auth.json", p.AuthFile);
        Assert.False(p.Rootless);
        Assert.DoesNotContain("/var/lib/containers", p.DataDir);
    }

    [Fact]
    public void AUserGetsXdgLocations()
    {
        var p = ContainerPaths.FromEnvironment(Env(("HOME", "/home/ann"), ("XDG_RUNTIME_DIR", "/run/user/1000")), 1000);
        Assert.Equal("/home/ann/.local/share/pscontainers", p.DataDir);
        Assert.Equal("/run/user/1000/pscontainers", p.StateDir);
        Assert.Equal("/home/ann/.config/containers/registries.conf", p.UserRegistriesConf);
        Assert.Equal("/run/user/1000/containers/auth.json", p.AuthFile);
        Assert.Equal("/home/ann/.docker/config.json", p.DockerConfigFile);
        Assert.True(p.Rootless);
    }

    [Fact]
    public void TheLogDirectoryAloneIsTheOneOfAllThePaths()
    {
        (Func<string, string?> Env, uint Uid)[] cases =
        [
            (Env(("HOME", "/root")), 0),
            (Env(("HOME", "/home/ann")), 1000),
            (Env(("HOME", "/home/ann"), ("XDG_STATE_HOME", "/s")), 1000),
            (Env(("HOME", "/home/ann"), (ContainerPaths.LogDirVariable, "/t/logs")), 1000),
            (Env((ContainerPaths.LogDirVariable, "/t/logs")), 0),
        ];
        foreach (var (env, uid) in cases)
            Assert.Equal(ContainerPaths.FromEnvironment(env, uid).LogDir, ContainerPaths.LogDirFromEnvironment(env, uid));
    }

    [Fact]
    public void OverridesRedirectEveryRoot()
    {
        var p = ContainerPaths.FromEnvironment(Env(
            ("HOME", "/home/ann"),
            (ContainerPaths.DataDirVariable, "/t/data"),
            (ContainerPaths.StateDirVariable, "/t/state"),
            (ContainerPaths.ConfigDirVariable, "/t/config"),
            (ContainerPaths.LogDirVariable, "/t/logs"),
            (ContainerPaths.AuthFileVariable, "/t/auth.json")), 1000);
        Assert.Equal("/t/data", p.DataDir);
        Assert.Equal("/t/state", p.StateDir);
        Assert.Equal("/t/logs", p.LogDir);
        Assert.Equal("/t/config/registries.conf", p.SystemRegistriesConf);
        Assert.Equal("/t/config/registries.conf.d", p.SystemRegistriesConfDir);
        Assert.Null(p.UserRegistriesConf);
        Assert.Equal("/t/config/policy.json", p.PolicyJson);
        Assert.Equal("/t/auth.json", p.AuthFile);
    }

    [Fact]
    public void CONTAINERSREGISTRIESCONFReplacesTheRegistriesFileAloneAndBothDropInFoldersStay()
    {
        var p = ContainerPaths.FromEnvironment(Env(("HOME", "/home/ann"), (ContainerPaths.RegistriesConfVariable, "/t/r.conf")), 1000);
        Assert.Equal("/t/r.conf", p.SystemRegistriesConf);
        Assert.Null(p.UserRegistriesConf);
        Assert.Equal("/etc/containers/registries.conf.d", p.SystemRegistriesConfDir);
        Assert.Equal("/home/ann/.config/containers/registries.conf.d", p.UserRegistriesConfDir);
    }

    [Fact]
    public void PerUserFilesLiveUnderHOMENotXDGCONFIGHOMEAsContainersImageReadsThem()
    {
        var p = ContainerPaths.FromEnvironment(Env(("HOME", "/home/ann"), ("XDG_CONFIG_HOME", "/x")), 1000);
        Assert.Equal("/home/ann/.config/containers/registries.conf", p.UserRegistriesConf);
        Assert.Equal("/home/ann/.config/containers/registries.conf.d", p.UserRegistriesConfDir);
        Assert.Equal(["/home/ann/.config/containers/policy.json", "/etc/containers/policy.json"], p.PolicyJsonSearched);
    }

    [Fact]
    public void TheConfigDirOverrideSearchesOnlyItsPolicyJson()
    {
        var p = ContainerPaths.FromEnvironment(Env(("HOME", "/home/ann"), (ContainerPaths.ConfigDirVariable, "/t/config")), 1000);
        Assert.Equal(["/t/config/policy.json"], p.PolicyJsonSearched);
        Assert.Null(p.UserRegistriesConfDir);
    }
}
