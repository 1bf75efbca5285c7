using Containers.Core.Runtime;
using Containers.Core.Services;

namespace Containers.Core.Tests.Services;

/// <summary>What Set-Container counts as a change of a container's definition, and the copy it recreates from.</summary>
public sealed class ContainerDefinitionsTests
{
    private static ContainerCreateOptions Web(params (string Key, string Value)[] env)
    {
        var o = new ContainerCreateOptions { Image = "busybox", Name = "web", Command = ["sleep", "300"], MemoryBytes = 64 << 20, Volumes = ["/srv:/srv:ro"] };
        foreach (var (k, v) in env) o.Env[k] = v;
        return o;
    }

    [Fact]
    public void TheSameDefinitionHasNoChangesWhateverTheOrderOfItsMaps()
    {
        var a = Web(("A", "1"), ("B", "2"), ("C", "3"));
        var b = Web(("C", "3"), ("A", "1"), ("B", "2"));
        Assert.Empty(ContainerDefinitions.Compare(a, b));
    }

    [Fact]
    public void EachDifferingPropertyIsListedOnceWithBeforeAndAfter()
    {
        var before = Web(("A", "1"));
        var after = Web(("A", "2"));
        after.MemoryBytes = 128 << 20;
        after.Command = ["sleep", "301"];
        var changes = ContainerDefinitions.Compare(before, after);
        Assert.Equal(["Command", "Env", "MemoryBytes"], changes.Select(c => c.Property).Order(StringComparer.Ordinal));
        Assert.Equal(new ContainerPropertyChange("Env", "{A=1}", "{A=2}"), changes.Single(c => c.Property == "Env"));
        Assert.Equal(new ContainerPropertyChange("MemoryBytes", "67108864", "134217728"), changes.Single(c => c.Property == "MemoryBytes"));
        Assert.Equal("[\"sleep\",\"301\"]", changes.Single(c => c.Property == "Command").After);
    }

    [Fact]
    public void TheNameIsNotAChangeButAnEmptyEntrypointIsNotTheImages()
    {
        var before = Web();
        var after = Web();
        after.Name = null;
        Assert.Empty(ContainerDefinitions.Compare(before, after));
        after.Entrypoint = [];
        Assert.Equal(new ContainerPropertyChange("Entrypoint", null, "[]"), Assert.Single(ContainerDefinitions.Compare(before, after)));
    }

    [Fact]
    public void AddingOrRemovingAValueIsAChange()
    {
        var before = Web();
        var after = Web();
        after.PidsLimit = 50;
        after.MemoryBytes = null;
        var changes = ContainerDefinitions.Compare(before, after);
        Assert.Contains(new ContainerPropertyChange("PidsLimit", null, "50"), changes);
        Assert.Contains(new ContainerPropertyChange("MemoryBytes", "67108864", null), changes);
    }

    [Fact]
    public void WithoutACurrentDefinitionEverythingGivenIsAChange()
    {
        var changes = ContainerDefinitions.Compare(null, Web(("A", "1")));
        Assert.Contains(changes, c => c.Property == "Image" && c.Before is null && c.After == "busybox");
        Assert.Contains(changes, c => c.Property == "Env");
        Assert.DoesNotContain(changes, c => c.Property == "Name");
    }

    [Fact]
    public void ACopyIsDeepRenamedAndHasItsSecurityParsedAgain()
    {
        var o = Web(("A", "1"));
        o.SecurityOpt = ["no-new-privileges=false"];
        o.Privileged = true;
        var copy = ContainerDefinitions.Copy(o, "web2");
        Assert.Equal("web2", copy.Name);
        Assert.True(copy.Security.Privileged);
        Assert.False(copy.Security.NoNewPrivileges);
        Assert.Empty(ContainerDefinitions.Compare(o, copy));
        copy.Env["A"] = "changed";
        Assert.Equal("1", o.Env["A"]);
    }

    [Fact]
    public void TheRecordKeepsTheDefinitionItWasCreatedWith()
    {
        var record = new ContainerRecord { Id = new string('a', 64), Name = "web", Definition = Web(("A", "1")) };
        string json = System.Text.Json.JsonSerializer.Serialize(record, RecordJsonContext.Default.ContainerRecord);
        var back = System.Text.Json.JsonSerializer.Deserialize(json, RecordJsonContext.Default.ContainerRecord)!;
        Assert.Empty(ContainerDefinitions.Compare(record.Definition, back.Definition!));
        Assert.Equal("1", back.Definition!.Env["A"]);
    }
}
