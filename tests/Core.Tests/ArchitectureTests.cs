using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.InteropServices;

namespace Containers.Core.Tests;

/// <summary>
/// What of Core is public (only what the cmdlets write to the pipeline or bind as parameters, read from the
/// cmdlets' assembly), and the dependency rules of Core's areas (one namespace per folder under Containers.Core), read from the
/// compiled assembly: signatures, base types, fields and every type, method and field that method
/// bodies touch (compiler-generated closures and state machines count for the type they belong to).
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly Lazy<Dictionary<string, HashSet<string>>> Graph = new(BuildGraph);

    public static TheoryData<string, string> Forbidden => new()
    {
        // Registry and Policy sit side by side; what needs both (trust evaluation, adapters) lives in Trust above them.
        { "Registry", "Policy" }, { "Policy", "Registry" }, { "Registry", "Trust" }, { "Policy", "Trust" },
        // Runtime sits on top: only its plan types (shared with Init) are used below it.
        { "Images", "Runtime" }, { "Registry", "Runtime" }, { "Policy", "Runtime" }, { "Trust", "Runtime" }, { "Cgroups", "Runtime" },
        { "Networking", "Runtime" },
    };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public void AnAreaDoesNotUseAnother(string area, string forbidden) =>
        Assert.DoesNotContain(forbidden, Graph.Value.GetValueOrDefault(area) ?? []);

    private static readonly string[] Foundations = ["Errors", "Spec", "Native", "Configuration"];

    /// <summary>DESIGN.md: Spec, Errors, Native and Configuration import nothing else of Core; the plan types shared with Init import nothing.</summary>
    [Theory]
    [InlineData("Errors")]
    [InlineData("Spec")]
    [InlineData("Native")]
    [InlineData("Configuration")]
    [InlineData("Runtime.Plan")]
    public void FoundationAreasUseOnlyFoundations(string area)
    {
        var used = Graph.Value.GetValueOrDefault(area) ?? [];
        Assert.Empty(used.Except(area == "Runtime.Plan" ? [] : Foundations));
    }

    [Fact]
    public void AreasFormNoCycle()
    {
        var graph = Graph.Value;
        var state = new Dictionary<string, int>();
        var path = new List<string>();
        foreach (string area in graph.Keys) Visit(area);

        void Visit(string area)
        {
            if (state.GetValueOrDefault(area) == 2) return;
            path.Add(area);
            Assert.False(state.GetValueOrDefault(area) == 1, "cycle: " + string.Join(" -> ", path));
            state[area] = 1;
            foreach (string next in graph.GetValueOrDefault(area) ?? []) Visit(next);
            state[area] = 2;
            path.RemoveAt(path.Count - 1);
        }
    }

    [Fact]
    public void CoreKnowsNothingOfPowerShellOrTheCmdlets()
    {
        var names = typeof(Errors.ContainersException).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain("System.Management.Automation", names);
        Assert.DoesNotContain("Containers", names);
    }

    // ------------------------------------------------------------------ the public surface

    /// <summary>Public Core types that no cmdlet writes or binds, each with the reason it stays public.</summary>
    private static readonly Dictionary<string, string> PublicOnPurpose = new()
    {
        ["Containers.Core.Errors.ContainersException"] = "the Exception of every ErrorRecord the cmdlets write; scripts read its ErrorId and Kind",
        ["Containers.Core.Policy.SignaturePolicy"] = Sigstore,
        ["Containers.Core.Policy.SigstoreSignature"] = Sigstore,
        ["Containers.Core.Policy.SigningKey"] = Sigstore,
        ["Containers.Core.Policy.SigstoreSigner"] = Sigstore,
        ["Containers.Core.Trust.SigstoreAttachments"] = Sigstore,
        ["Containers.Core.Trust.SigstoreAttachments+Layer"] = Sigstore,
    };

    private const string Sigstore = "Policy.Tests.ps1 'Sigstore signatures in a real registry' signs and verifies with openssl as the independent party";

    /// <summary>Every public type of Core is reachable from what a cmdlet writes or binds (or is on PublicOnPurpose).</summary>
    [Fact]
    public void CoreIsPublicOnlyWhereCmdletsWriteOrBindIt()
    {
        var surface = CmdletSurface.Value;
        var exported = CoreAssembly.GetExportedTypes().Select(t => t.FullName!).ToHashSet();
        var needless = exported.Where(n => !surface.Contains(n) && !PublicOnPurpose.ContainsKey(n)).Order(StringComparer.Ordinal).ToList();
        Assert.True(needless.Count == 0, "public, but no cmdlet writes or binds it (make it internal, or add it to PublicOnPurpose with the reason): "
            + string.Join(", ", needless));
        Assert.All(PublicOnPurpose.Keys, n => Assert.Contains(n, exported)); // no stale entry
    }

    /// <summary>What a cmdlet writes or binds or a format file names, and the types of its properties, are public: PowerShell shows no member of an internal type.</summary>
    [Fact]
    public void WhatCmdletsWriteOrBindIsPublic()
    {
        var hidden = CmdletSurface.Value.Where(n => CoreAssembly.GetType(n) is { IsVisible: false }).Order(StringComparer.Ordinal).ToList();
        Assert.True(hidden.Count == 0, "written or bound by a cmdlet but not public: " + string.Join(", ", hidden));
    }

    private static readonly Assembly CoreAssembly = typeof(Errors.ContainersException).Assembly;
    private static readonly Lazy<HashSet<string>> CmdletSurface = new(ReadCmdletSurface);

    /// <summary>
    /// The Core types the cmdlets' assembly (read without loading it: it needs PowerShell) names in [OutputType]
    /// or as [Parameter] property types, those the format files name, and those of PublicOnPurpose, with the
    /// types of their public properties, transitively.
    /// </summary>
    private static HashSet<string> ReadCmdletSurface()
    {
        string dir = AppContext.BaseDirectory;
        var paths = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll").Concat(Directory.GetFiles(dir, "*.dll"));
        using var context = new MetadataLoadContext(new PathAssemblyResolver(paths));
        var cmdlets = context.LoadFromAssemblyPath(Path.Combine(dir, "Containers.dll"));
        var queue = new Queue<Type>();
        foreach (var type in cmdlets.GetTypes().Where(t => t.IsPublic && !t.IsAbstract))
        {
            foreach (var a in type.GetCustomAttributesData().Where(a => a.AttributeType.FullName == "System.Management.Automation.OutputTypeAttribute"))
                foreach (var arg in a.ConstructorArguments)
                    if (arg.Value is IEnumerable<CustomAttributeTypedArgument> items)
                        foreach (var t in items.Select(i => i.Value).OfType<Type>()) queue.Enqueue(t);
            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                if (p.GetCustomAttributesData().Any(a => a.AttributeType.FullName == "System.Management.Automation.ParameterAttribute"))
                    queue.Enqueue(p.PropertyType);
        }
        foreach (string name in PublicOnPurpose.Keys.Concat(FormatFileTypes())) queue.Enqueue(CoreAssembly.GetType(name) ?? typeof(object));

        var surface = new HashSet<string>(StringComparer.Ordinal);
        while (queue.TryDequeue(out var next))
            foreach (var t in Expand(next))
            {
                if (t.Assembly.GetName().Name != CoreAssembly.GetName().Name || t.FullName is null || !surface.Add(t.FullName)) continue;
                foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance)) queue.Enqueue(p.PropertyType);
                if (t.BaseType is { } b) queue.Enqueue(b);
            }
        return surface;
    }

    /// <summary>The Core types the module's format and type files name (views, and static calls in their script blocks).</summary>
    private static IEnumerable<string> FormatFileTypes()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Module", "Containers.format.ps1xml"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return Directory.GetFiles(Path.Combine(dir.FullName, "Module"), "*.ps1xml")
            .SelectMany(f => System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(f), @"Containers\.Core(\.\w+)+").Select(m => m.Value))
            .Distinct(StringComparer.Ordinal);
    }

    // ------------------------------------------------------------------ reading the assembly

    /// <summary>The area of a Core type: the namespace part after Containers.Core (Runtime.Plan counts on its own).</summary>
    private static string? AreaOf(Type? t)
    {
        while (t is not null && (t.IsArray || t.IsPointer || t.IsByRef)) t = t.GetElementType();
        string? ns = t?.Namespace;
        if (ns is null || !ns.StartsWith("Containers.Core.", StringComparison.Ordinal)) return null;
        string[] parts = ns.Split('.');
        return parts[2] == "Runtime" && parts.Length > 3 && parts[3] == "Plan" ? "Runtime.Plan" : parts[2];
    }

    private static Dictionary<string, HashSet<string>> BuildGraph()
    {
        var graph = new Dictionary<string, HashSet<string>>();
        foreach (var type in typeof(Errors.ContainersException).Assembly.GetTypes())
        {
            if (AreaOf(type) is not { } from) continue;
            var edges = graph.TryGetValue(from, out var e) ? e : graph[from] = [];
            foreach (var used in UsedTypes(type))
                if (AreaOf(used) is { } to && to != from) edges.Add(to);
        }
        return graph;
    }

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<Type> UsedTypes(Type type)
    {
        var found = new List<Type?> { type.BaseType };
        found.AddRange(type.GetInterfaces());
        found.AddRange(type.GetFields(All).Select(f => f.FieldType));
        found.AddRange(type.GetProperties(All).Select(p => p.PropertyType));
        foreach (MethodBase m in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            if (m is MethodInfo mi) found.Add(mi.ReturnType);
            found.AddRange(m.GetParameters().Select(p => p.ParameterType));
            found.AddRange(BodyTypes(m));
        }
        return found.SelectMany(Expand);
    }

    private static IEnumerable<Type> Expand(Type? t)
    {
        if (t is null) yield break;
        while (t.IsArray || t.IsPointer || t.IsByRef) t = t.GetElementType()!;
        yield return t;
        if (t.IsGenericType) foreach (var a in t.GetGenericArguments()) foreach (var x in Expand(a)) yield return x;
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue =
        typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The types a method body refers to through its metadata tokens (calls, fields, types, ldtoken).</summary>
    private static IEnumerable<Type?> BodyTypes(MethodBase method)
    {
        byte[]? il;
        try { il = method.GetMethodBody()?.GetILAsByteArray(); }
        catch (Exception) { yield break; }
        if (il is null) yield break;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE && i + 1 < il.Length ? (short)(0xFE00 | il[++i]) : il[i];
            i++;
            if (!OpCodesByValue.TryGetValue(value, out var op)) yield break;
            int size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                MemberInfo? member = null;
                try { member = method.Module.ResolveMember(BitConverter.ToInt32(il, i), typeArgs, methodArgs); }
                catch (ArgumentException) { }
                switch (member)
                {
                    case Type t: yield return t; break;
                    case FieldInfo f: yield return f.DeclaringType; yield return f.FieldType; break;
                    case MethodInfo m: yield return m.DeclaringType; yield return m.ReturnType; break;
                    case ConstructorInfo c: yield return c.DeclaringType; break;
                }
            }
            i += size;
        }
    }
}
