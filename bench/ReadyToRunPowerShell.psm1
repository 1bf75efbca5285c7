<#
.SYNOPSIS
    A ReadyToRun copy of the pinned PowerShell, for benches that separate PowerShell's own cold cost from the module's.
.DESCRIPTION
    The PowerShell NuGet tool (.config/dotnet-tools.json) ships System.Management.Automation and its other assemblies as
    IL only, so every new session JIT-compiles thousands of PowerShell's methods before and while a module runs (about
    5,700 for `pwsh -Command exit`). PowerShell's own Linux packages are precompiled. New-ReadyToRunPowerShell copies the
    running tool's $PSHOME into a directory of the bench and compiles its PowerShell assemblies with crossgen2 (the
    same package the module's build uses), leaving the tool itself untouched. Run the copy as `dotnet <dir>/pwsh.dll`.
    Bench-only: the module, its build and its tests never use it.
#>

# The PowerShell assemblies a session loads to start, import a module and run cmdlets.
$script:PowerShellAssemblies = @(
    'System.Management.Automation', 'Microsoft.PowerShell.ConsoleHost', 'Microsoft.PowerShell.Commands.Utility',
    'Microsoft.PowerShell.Commands.Management', 'Microsoft.PowerShell.Security', 'Microsoft.PowerShell.SDK',
    'Microsoft.ApplicationInsights', 'pwsh'
)

function Get-Crossgen2 {
    # crossgen2 of the running runtime's version, restored into the NuGet cache by the module's ReadyToRun publish.
    $packages = $env:NUGET_PACKAGES ? $env:NUGET_PACKAGES : (Join-Path $HOME '.nuget/packages')
    $version = [Environment]::Version.ToString(3)
    $tool = Join-Path $packages "microsoft.netcore.app.crossgen2.linux-x64/$version/tools/crossgen2"
    if (-not (Test-Path $tool)) { throw "crossgen2 $version not found at ${tool}: run ./build.ps1 -Task Build first (its ReadyToRun publish restores it)" }
    $tool
}

function New-ReadyToRunPowerShell {
    [OutputType([string])]
    param([Parameter(Mandatory)] [string] $Root)
    $crossgen = Get-Crossgen2
    $target = Join-Path $Root 'pwsh-r2r'
    $il = Join-Path $Root 'pwsh-il'
    & cp -a "$PSHOME/." "$target/"
    if ($LASTEXITCODE -ne 0) { throw "copying $PSHOME failed" }
    New-Item -ItemType Directory $il -Force | Out-Null
    $framework = [Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory()
    foreach ($name in $script:PowerShellAssemblies) {
        Move-Item (Join-Path $target "$name.dll") $il
        $out = & $crossgen (Join-Path $il "$name.dll") -o (Join-Path $target "$name.dll") -r "$framework*.dll" -r "$target/*.dll" -r "$il/*.dll" --targetos linux --targetarch x64 -O 2>&1
        if ($LASTEXITCODE -ne 0) { throw "crossgen2 of $name failed: $($out | Out-String)" }
    }
    Join-Path $target 'pwsh.dll'
}

Export-ModuleMember -Function New-ReadyToRunPowerShell
