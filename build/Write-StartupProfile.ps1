<#
.SYNOPSIS
    Writes the .mibc profile that tells crossgen2 which generic code the module's first calls instantiate, so that the
    module's ReadyToRun images carry it and a new session does not JIT-compile it.
.DESCRIPTION
    crossgen2 compiles what our code calls directly, but not the methods the runtime reaches only through a virtual
    call or an interface: the MoveNext of each async state machine's box (AsyncStateMachineBox<TResult, our state
    machine>), System.Text.Json's converters of each value type our contracts use, the enumerators LINQ makes over
    our types... A new session JIT-compiled some 1,200 such methods on its first Install-ContainerImage.
    build/startup-methods.txt lists them as the runtime names them (DOTNET_JitStdOutFile with DOTNET_JitDisasmSummary=1,
    see bench/FirstCall.Bench.ps1 -JitProfile); this script resolves each against the module's IL assemblies and the
    framework, and writes them as a MIbc file (crossgen2's profile format: a global method AssemblyDictionary naming
    one group method per assembly, each group a list of "ldtoken method; pop"). A name that no longer resolves (a
    state machine renamed by an edit) is skipped and counted: the image then merely lacks that method.
    The runtime checks such code against the framework it runs on and JIT-compiles a method whose IL changed (the
    same rule as --non-local-generics-module), so a framework patch never runs stale code.
    Runs in its own pwsh: it loads the module's assemblies.
#>
param(
    [Parameter(Mandatory)] [string] $MethodList,
    [Parameter(Mandatory)] [string] $AssemblyDirectory,
    [Parameter(Mandatory)] [string] $OutFile
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# The framework's assemblies and the module's, so every type a name mentions can be found.
$runtimeDir = [System.Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory()
foreach ($dll in Get-ChildItem $runtimeDir -Filter 'System.*.dll') {
    try { [void][Reflection.Assembly]::LoadFrom($dll.FullName) } catch { Write-Verbose "not loaded: $($dll.Name)" }
}
# The module's own and its dependencies (Serilog's generic methods too), not the reference System.Management.Automation
# (this pwsh has the real one) nor BouncyCastle (no profiled code).
foreach ($dll in Get-ChildItem $AssemblyDirectory -Filter '*.dll' | Where-Object Name -NotMatch '^(System\.Management\.Automation|BouncyCastle)') {
    [void][Reflection.Assembly]::LoadFrom($dll.FullName)
}
$assemblies = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { -not $_.IsDynamic }

$primitives = @{
    bool = [bool]; char = [char]; byte = [byte]; sbyte = [sbyte]; short = [short]; ushort = [uint16]; int = [int]; uint = [uint32]
    long = [long]; ulong = [uint64]; float = [single]; double = [double]; nint = [IntPtr]; nuint = [UIntPtr]
    # Shared code of reference types: any class instantiates it; object satisfies no constraint, which skips such a name.
    'System.__Canon' = [object]
}
$definitions = @{}

function Split-TopLevel([string] $Text) {
    # Splits "a,b[c,d],e" at the commas outside brackets.
    $parts = [System.Collections.Generic.List[string]]::new()
    $depth = 0; $start = 0
    for ($i = 0; $i -lt $Text.Length; $i++) {
        switch ($Text[$i]) {
            '[' { $depth++ } ']' { $depth-- }
            ',' { if ($depth -eq 0) { $parts.Add($Text.Substring($start, $i - $start)); $start = $i + 1 } }
        }
    }
    if ($Text.Length -gt 0) { $parts.Add($Text.Substring($start)) }
    return $parts
}

function Resolve-TypeName([string] $Name) {
    if ($Name.EndsWith('[]')) { return (Resolve-TypeName $Name.Substring(0, $Name.Length - 2)).MakeArrayType() }
    if ($primitives.ContainsKey($Name)) { return $primitives[$Name] }
    $open = $Name.IndexOf('[')
    $plain = if ($open -lt 0) { $Name } else { $Name.Substring(0, $open) }
    if (-not $definitions.ContainsKey($plain)) {
        $definitions[$plain] = $assemblies | ForEach-Object { $_.GetType($plain, $false) } | Where-Object { $_ } | Select-Object -First 1
    }
    $type = $definitions[$plain]
    if (-not $type) { throw "no type $plain" }
    if ($open -lt 0) { return $type }
    $arguments = @(Split-TopLevel $Name.Substring($open + 1, $Name.Length - $open - 2) | ForEach-Object { Resolve-TypeName $_ })
    return $type.MakeGenericType([type[]]$arguments)
}

function Resolve-Method([string] $Line) {
    # Owner:Name[method type arguments](parameters), as the JIT prints it.
    $colon = $Line.IndexOf(':')
    $owner = Resolve-TypeName $Line.Substring(0, $colon)
    $rest = $Line.Substring($colon + 1)
    $paren = $rest.IndexOf('(')
    $head = $rest.Substring(0, $paren)
    $parameterCount = @(Split-TopLevel $rest.Substring($paren + 1, $rest.Length - $paren - 2)).Count
    $bracket = $head.IndexOf('[')
    $name = if ($bracket -lt 0) { $head } else { $head.Substring(0, $bracket) }
    $methodArguments = @(if ($bracket -ge 0) { Split-TopLevel $head.Substring($bracket + 1, $head.Length - $bracket - 2) | ForEach-Object { Resolve-TypeName $_ } })
    $flags = [Reflection.BindingFlags]'Public,NonPublic,Instance,Static,DeclaredOnly'
    $candidates = if ($name -in '.ctor', '.cctor') { $owner.GetConstructors($flags) } else { $owner.GetMethods($flags) }
    foreach ($m in $candidates) {
        if ($m.Name -ne $name -or $m.GetParameters().Count -ne $parameterCount) { continue }
        if ($methodArguments.Count -gt 0) {
            if (-not $m.IsGenericMethodDefinition -or $m.GetGenericArguments().Count -ne $methodArguments.Count) { continue }
            $m.MakeGenericMethod([type[]]$methodArguments)
        }
        elseif (-not $m.IsGenericMethodDefinition) { $m }
    }
}

function Test-FromAssembly([type] $Type, [string] $Assembly) {
    # Whether the type or one of its type arguments comes from the given assembly.
    if ($Type.HasElementType) { return Test-FromAssembly $Type.GetElementType() $Assembly }
    if ($Type.Assembly.GetName().Name -eq $Assembly) { return $true }
    foreach ($a in $Type.GenericTypeArguments) { if (Test-FromAssembly $a $Assembly) { return $true } }
    return $false
}

# Each method goes to the image of the module assembly its instantiation mentions; one that mentions only the
# framework goes to Containers.Core (the runtime finds generic code in any image that says it carries such code).
$groups = [ordered]@{ 'Containers.Core' = [System.Collections.Generic.List[Reflection.MethodBase]]::new(); 'Containers' = [System.Collections.Generic.List[Reflection.MethodBase]]::new() }
# The box of every async state machine of ours, whatever the list says: the runtime calls its MoveNext through an
# interface, and a list of them would go stale with every async method added (the compiler numbers them).
$taskBuilder = [System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1]
$box = $taskBuilder.GetNestedType('AsyncStateMachineBox`1', [Reflection.BindingFlags]'NonPublic')
$void = [threading.tasks.task].Assembly.GetType('System.Threading.Tasks.VoidTaskResult', $true)
$boxes = 0
foreach ($name in $groups.Keys) {
    $machines = ([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq $name }).GetTypes() |
        Where-Object { [System.Runtime.CompilerServices.IAsyncStateMachine].IsAssignableFrom($_) -and -not $_.ContainsGenericParameters }
    foreach ($machine in $machines) {
        $builder = $machine.GetField('<>t__builder', [Reflection.BindingFlags]'Instance,Public,NonPublic').FieldType
        # Task, ValueTask and their generic builders all box the machine in AsyncTaskMethodBuilder<TResult>'s box.
        $result = if (-not $builder.IsGenericType) { $void } else { $builder.GenericTypeArguments[0] }
        if ($builder.Name -like 'AsyncIterator*' -or $builder.Name -like 'Pooling*') { continue }
        if (-not $result.IsValueType) { $result = [object] }
        foreach ($m in $box.MakeGenericType($result, $machine).GetMethods([Reflection.BindingFlags]'Public,NonPublic,Instance,Static,DeclaredOnly')) {
            if ($m.Name -in 'MoveNext', 'ExecutionContextCallback', 'ClearStateUponCompletion') { $groups[$name].Add($m); $boxes++ }
        }
    }
}

$skipped = 0
foreach ($line in Get-Content $MethodList) {
    if (-not $line -or $line.StartsWith('#') -or $line -match 'AsyncStateMachineBox`1\[[^:]*Containers\.') { continue }
    try { $methods = @(Resolve-Method $line) } catch { $methods = @() }
    if ($methods.Count -eq 0) { $skipped++; Write-Verbose "unresolved: $line"; continue }
    foreach ($m in $methods) {
        $inCmdlets = (Test-FromAssembly $m.DeclaringType 'Containers') -or ($m.IsGenericMethod -and @($m.GetGenericArguments() | Where-Object { Test-FromAssembly $_ 'Containers' }).Count -gt 0)
        $groups[$(if ($inCmdlets) { 'Containers' } else { 'Containers.Core' })].Add($m)
    }
}

$assembly = [System.Reflection.Emit.PersistedAssemblyBuilder]::new([Reflection.AssemblyName]::new('StartupProfile'), [object].Assembly)
$module = $assembly.DefineDynamicModule('StartupProfile.dll')
# The global method is the first method definition (0x06000001), then the groups in order of definition.
$holder = $module.DefineType('Groups', [Reflection.TypeAttributes]'Public,Abstract,Sealed')
$groupTokens = @{}
$next = 2
foreach ($group in $groups.Keys) {
    $method = $holder.DefineMethod("Group$next", [Reflection.MethodAttributes]'Public,Static', [void], [type[]]@())
    $il = $method.GetILGenerator()
    foreach ($m in $groups[$group]) {
        $il.Emit([Reflection.Emit.OpCodes]::Ldtoken, [int]$module.GetMethodMetadataToken($m))
        $il.Emit([Reflection.Emit.OpCodes]::Pop)
    }
    $il.Emit([Reflection.Emit.OpCodes]::Ret)
    $groupTokens[$group] = 0x06000000 + $next
    $next++
}
[void]$holder.CreateType()
$dictionary = $module.DefineGlobalMethod('AssemblyDictionary', [Reflection.MethodAttributes]'Public,Static', [void], [type[]]@())
$il = $dictionary.GetILGenerator()
foreach ($group in $groups.Keys) {
    # The group's name says which compilation it is for: crossgen2 reads it only when that assembly is in the bubble.
    $il.Emit([Reflection.Emit.OpCodes]::Ldstr, $group)
    $il.Emit([Reflection.Emit.OpCodes]::Ldtoken, [int]$groupTokens[$group])
    $il.Emit([Reflection.Emit.OpCodes]::Pop)
}
$il.Emit([Reflection.Emit.OpCodes]::Ret)
$module.CreateGlobalFunctions()
$assembly.Save($OutFile)

# The token order above is PersistedAssemblyBuilder's; check it rather than trust it.
$pe = [System.Reflection.PortableExecutable.PEReader]::new([IO.File]::OpenRead($OutFile))
try {
    $md = [System.Reflection.Metadata.PEReaderExtensions]::GetMetadataReader($pe)
    $names = @($md.MethodDefinitions | ForEach-Object { $md.GetString($md.GetMethodDefinition($_).Name) })
    if ($names[0] -ne 'AssemblyDictionary' -or $names.Count -ne $groups.Count + 1) { throw "unexpected method order in $OutFile`: $($names -join ', ')" }
}
finally { $pe.Dispose() }
Write-Host ("startup profile: {0} methods for Containers.Core, {1} for Containers ({2} of them our state machines' boxes); {3} names no longer resolve" -f $groups['Containers.Core'].Count, $groups['Containers'].Count, $boxes, $skipped)
