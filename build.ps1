#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, demos and benchmarks the Containers module from a fresh clone.
.DESCRIPTION
    Tasks run what they depend on: Bootstrap -> Build -> Test | Demo | Bench | Package.
    Package writes out/packages: Containers.<version>.nupkg (Install-PSResource) and pscontainers_<version>_amd64.deb.
    Every task can run twice; the second run is fast and changes nothing.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Bootstrap', 'Build', 'Test', 'Demo', 'Bench', 'Package')]
    [string] $Task = 'Build',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    # Pester tests to run (file name filter), e.g. -TestFilter SystemInfo
    [string[]] $TestFilter = @('*')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'Containers'
$PesterVersion = '6.2.0'

function Invoke-Native {
    # Runs a native command and stops the build when it fails.
    param([Parameter(Mandatory)] [string] $File, [string[]] $Arguments = @())
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$File $($Arguments -join ' ')' exited with $LASTEXITCODE" }
}

function Write-Step([string] $Text) { Write-Host "==> $Text" -ForegroundColor Cyan }

function Invoke-Bootstrap {
    Write-Step 'Bootstrap'
    $wanted = Get-Content (Join-Path $Root 'build/apt-packages.txt') | Where-Object { $_ -and -not $_.StartsWith('#') } | ForEach-Object Trim
    $missing = @($wanted | Where-Object {
        $status = & dpkg-query -W -f='${db:Status-Status}' $_ 2>$null
        $status -ne 'installed'
    })
    if ($missing.Count -gt 0) {
        if ((& id -u) -ne '0') { throw "Missing Debian packages: $($missing -join ' '). Install them as root: apt-get install $($missing -join ' ')" }
        Write-Step "apt-get install $($missing -join ' ')"
        $env:DEBIAN_FRONTEND = 'noninteractive'
        Invoke-Native apt-get @('update', '-qq')
        Invoke-Native apt-get (@('install', '-y', '-qq', '--no-install-recommends') + $missing)
    }
    $pester = Join-Path (Get-NuGetRoot) "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $pester)) {
        Invoke-Native dotnet @('restore', (Join-Path $Root 'build/tools.proj'), '--nologo', '-v', 'quiet')
    }
}

function Get-NuGetRoot {
    if ($env:NUGET_PACKAGES) { return $env:NUGET_PACKAGES }
    return Join-Path $HOME '.nuget/packages'
}

function Get-ModuleVersion {
    [xml] $props = Get-Content (Join-Path $Root 'Directory.Build.props')
    return $props.Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1
}

function Invoke-Build {
    Invoke-Bootstrap
    Write-Step "Build ($Configuration)"
    $bin = Join-Path $Out "bin/$Configuration"
    # Published ReadyToRun: precompiled code spares a new session JIT-compiling the module's first call. The IL is
    # built first: the startup profile (the generic code the first calls instantiate, build/startup-methods.txt) is
    # resolved against it, and crossgen2 then compiles that code into the images too.
    $cmdlets = Join-Path $Root 'src/Cmdlets/Containers.Cmdlets.csproj'
    $r2r = @('-c', $Configuration, '-p:PublishReadyToRun=true', "-p:PowerShellHome=$PSHOME", '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')
    Invoke-Native dotnet (@('build', $cmdlets) + $r2r)
    $profile = Join-Path $Out "obj/$Configuration/startup.mibc"
    New-Item -ItemType Directory -Path (Split-Path $profile) -Force | Out-Null
    Invoke-Native (Get-PwshPath) @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'build/Write-StartupProfile.ps1'), '-MethodList', (Join-Path $Root 'build/startup-methods.txt'),
        '-AssemblyDirectory', (Join-Path $Root "src/Cmdlets/bin/$Configuration/net10.0/linux-x64"), '-OutFile', $profile)
    Invoke-Native dotnet (@('publish', $cmdlets, '--no-build', "-p:StartupProfile=$profile", '-o', (Join-Path $bin 'module')) + $r2r)
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/Init/Containers.Init.csproj'), '-c', $Configuration, '-r', 'linux-x64', '--nologo', '-v', 'quiet', '-clp:ErrorsOnly', '-o', (Join-Path $bin 'init'))

    # Assemble the module folder: only what the module needs at run time.
    $stage = Join-Path $Out 'Containers.staging'
    if (Test-Path $stage) { Remove-Item $stage -Recurse -Force }
    New-Item -ItemType Directory -Path $stage | Out-Null
    Get-ChildItem (Join-Path $bin 'module') -File |
        Where-Object { $_.Extension -in '.dll', '.json' -and $_.Name -notlike 'System.Management.Automation*' -and $_.Name -ne 'Containers.deps.json' } |
        Copy-Item -Destination $stage
    Copy-Item (Join-Path $bin 'init/pscontainers-init') $stage
    Get-ChildItem (Join-Path $Root 'Module') -File | Copy-Item -Destination $stage
    $manifest = Join-Path $stage 'Containers.psd1'
    $version = Get-ModuleVersion
    $formats = Merge-FormatFile $stage (Import-PowerShellDataFile (Join-Path $Root 'Module/Containers.psd1')).FormatsToProcess
    (Get-Content $manifest -Raw) -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion = '$version'" -replace "FormatsToProcess\s*=\s*@\([^)]*\)", "FormatsToProcess = @('$formats')" |
        Set-Content $manifest -NoNewline

    # Help: MAML built from docs/en-US and checked against the cmdlets' own metadata.
    Invoke-Native (Get-PwshPath) @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'build/Build-Help.ps1'), '-ModulePath', $stage, '-DocsPath', (Join-Path $Root 'docs/en-US'))

    if (Test-Path $ModuleOut) { Remove-Item $ModuleOut -Recurse -Force }
    Move-Item $stage $ModuleOut
    Write-Step "Module ready: $ModuleOut"
}

function Merge-FormatFile([string] $Stage, [string[]] $Files) {
    # One format file in the module folder, the areas' views in the manifest's order: Import-Module reads each file
    # apart (a reader and a load record per file), some 3 ms of a new session's import for the eleven of them.
    $merged = [xml]'<?xml version="1.0" encoding="utf-8"?><Configuration><ViewDefinitions/></Configuration>'
    $views = $merged.SelectSingleNode('/Configuration/ViewDefinitions')
    foreach ($file in $Files) {
        $path = Join-Path $Stage $file
        [xml] $part = Get-Content $path -Raw
        if (@($part.Configuration.ChildNodes | Where-Object { $_.NodeType -eq 'Element' -and $_.Name -ne 'ViewDefinitions' }).Count -gt 0) {
            throw "$file has more than ViewDefinitions: teach Merge-FormatFile to merge that too"
        }
        foreach ($view in $part.SelectNodes('/Configuration/ViewDefinitions/View')) { [void]$views.AppendChild($merged.ImportNode($view, $true)) }
        Remove-Item $path
    }
    $name = 'Containers.format.ps1xml'
    $merged.Save((Join-Path $Stage $name))
    return $name
}

function Get-PwshPath {
    # The pwsh running this script (the dotnet tool), so children use the same pinned version.
    $self = [Environment]::ProcessPath
    if ((Split-Path $self -Leaf) -like 'pwsh*') { return $self }
    $tool = Join-Path $PSHOME 'pwsh'
    if (Test-Path $tool) { return $tool }
    return 'pwsh'
}

function Invoke-Test {
    Invoke-Build
    $results = Join-Path $Out 'test-results'
    if (Test-Path $results) { Remove-Item $results -Recurse -Force }
    New-Item -ItemType Directory -Path $results | Out-Null

    Write-Step 'Habits'
    $habits = Invoke-HabitCheck

    Write-Step 'Core tests (xunit)'
    & dotnet test (Join-Path $Root 'tests/Core.Tests/Containers.Core.Tests.csproj') -c $Configuration --nologo -v quiet `
        --logger "trx;LogFileName=core.trx" --results-directory $results
    $xunitExit = $LASTEXITCODE
    $core = Read-TrxCounts (Join-Path $results 'core.trx')
    if ($xunitExit -ne 0 -and $core.Failed -eq 0) { $core.Failed = 1 } # a crash or build failure counts

    Write-Step 'Module tests (Pester)'
    $pesterJson = Join-Path $results 'pester.json'
    # Through the environment: pwsh globs a bare '*' argument on the way to a child process.
    $env:PSCONTAINERS_TEST_FILTER = $TestFilter -join ','
    & (Get-PwshPath) -NoProfile -NonInteractive -File (Join-Path $Root 'tests/Pester/Run-Pester.ps1') `
        -PesterPath (Join-Path (Get-NuGetRoot) "pester/$PesterVersion/tools/Pester.psd1") `
        -ModulePath $ModuleOut -ResultPath $pesterJson
    $pesterExit = $LASTEXITCODE
    $pester = if (Test-Path $pesterJson) { Get-Content $pesterJson -Raw | ConvertFrom-Json } else { [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    if ($pesterExit -ne 0 -and $pester.Failed -eq 0) { $pester.Failed = 1 }

    $passed = $habits.Passed + $core.Passed + $pester.Passed
    $failed = $habits.Failed + $core.Failed + $pester.Failed
    $skipped = $core.Skipped + $pester.Skipped
    Write-Host "habits: $($habits.Passed) passed, $($habits.Failed) failed; xunit: $($core.Passed) passed, $($core.Failed) failed, $($core.Skipped) skipped; pester: $($pester.Passed) passed, $($pester.Failed) failed, $($pester.Skipped) skipped"
    Write-Host "tests: $passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-HabitCheck {
    # Checks that keep the tree honest; each counts as one test. The analyzers and code-style rules
    # themselves run in every build (Directory.Build.props, .editorconfig).
    $checks = [ordered]@{
        'dotnet format finds nothing to change (layout, usings, style of .editorconfig)' = {
            & dotnet format (Join-Path $Root 'Containers.sln') --verify-no-changes -v quiet
        }
        'SyscallTable.cs is what build/Generate-SyscallTable.ps1 writes' = {
            & (Get-PwshPath) -NoProfile -NonInteractive -File (Join-Path $Root 'build/Generate-SyscallTable.ps1') -Check
        }
    }
    $passed = 0; $failed = 0
    foreach ($check in $checks.GetEnumerator()) {
        & $check.Value | Out-Host
        if ($LASTEXITCODE -eq 0) { $passed++; Write-Host "  [+] $($check.Key)" -ForegroundColor Green }
        else { $failed++; Write-Host "  [-] $($check.Key)" -ForegroundColor Red }
    }
    return [pscustomobject]@{ Passed = $passed; Failed = $failed }
}

function Read-TrxCounts([string] $Path) {
    if (-not (Test-Path $Path)) { return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    [xml] $trx = Get-Content $Path -Raw
    $c = $trx.TestRun.ResultSummary.Counters
    return [pscustomobject]@{
        Passed  = [int]$c.passed
        Failed  = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted
        Skipped = [int]$c.notExecuted
    }
}

function Invoke-Package {
    Invoke-Build
    Write-Step 'Package'
    $packages = Join-Path $Out 'packages'
    & (Join-Path $Root 'build/Package.ps1') -ModulePath $ModuleOut -OutPath $packages -Version (Get-ModuleVersion) | Format-List
}

function Invoke-Demo {
    Invoke-Build
    Write-Step 'Demo'
    Invoke-Native (Get-PwshPath) @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'build/Demo.ps1'), '-ModulePath', $ModuleOut)
}

function Invoke-Bench {
    Invoke-Build
    Write-Step 'Bench'
    foreach ($bench in Get-ChildItem (Join-Path $Root 'bench') -Filter '*.Bench.ps1' | Sort-Object Name) {
        Invoke-Native (Get-PwshPath) @('-NoProfile', '-NonInteractive', '-File', $bench.FullName, '-ModulePath', $ModuleOut)
    }
}

switch ($Task) {
    'Bootstrap' { Invoke-Bootstrap }
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { Invoke-Package }
}
