<#
.SYNOPSIS
    Refreshes build/startup-methods.txt: the generic code the module's first calls JIT-compile in a new session.
.DESCRIPTION
    Runs, each in a fresh pwsh with the runtime's JIT summary on (DOTNET_JitDisasmSummary), the first calls the
    FirstCall bench measures (Get-Container, Import-ContainerImage, Install-ContainerImage from the registry fixture,
    Invoke-ContainerImage) against the built module, and an empty pwsh. Keeps the generic instantiations compiled
    from IL (not a tier-up of precompiled code) that the empty pwsh did not need and that are not PowerShell's own.
    The new list: the old one plus the new ones; with -Prune, without the listed ones this build still JIT-compiled
    (crossgen2 or the runtime does not take them: System.Net.Http's private state machines, PowerShell's expression
    trees). Run it after a build (build.ps1 -Task Build), build again, and run it with -Prune after that build.
.EXAMPLE
    dotnet pwsh build/Update-StartupMethods.ps1
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Containers/Containers.psd1'),
    # Also drop the listed methods this build still JIT-compiled (run it so after a build that had them in its profile).
    [switch] $Prune
)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path $ModulePath).Path
$list = Join-Path $PSScriptRoot 'startup-methods.txt'
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1')
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/BusyboxImage.psm1')
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/Registry.psm1')

$root = New-TestRoot -Name startup-methods
try {
    $fx = Start-TestRegistry -ConfigDir $env:PSCONTAINERS_CONFIG_DIR -All
    $layout = Get-BusyboxLayout
    & (Get-TestPwsh) -NoProfile -NonInteractive -Command "Import-Module '$ModulePath'; Import-ContainerImage -Path '$layout' -Name localhost/busybox:latest | Out-Null"
    $fresh = "`$env:PSCONTAINERS_DATA_DIR = '$root/run-' + [guid]::NewGuid().ToString('N')"
    $empty = [Collections.Generic.HashSet[string]]::new([string[]]@(Get-JitCompiledMethod 'exit'))
    $compiled = [Collections.Generic.HashSet[string]]::new()
    foreach ($call in "Get-Container | Out-Null",
        "$fresh; Import-ContainerImage -Path '$layout' -Name localhost/busybox:latest | Out-Null",
        "$fresh; Install-ContainerImage '$($fx.Anonymous.Host)/layers:latest' -ProgressAction SilentlyContinue | Out-Null",
        "Invoke-ContainerImage busybox -Command true -Remove | Out-Null") {
        foreach ($m in Get-JitCompiledMethod "Import-Module '$ModulePath'; $call") { [void]$compiled.Add($m) }
    }
}
finally {
    Stop-TestRegistry
    Remove-TestRoot $root
}

# Generic: type arguments before the parameter list. Not PowerShell's (its assemblies have no precompiled code of
# their own, nothing of ours can carry it) and not the runtime's stubs.
$generic = $compiled | Where-Object {
    -not $empty.Contains($_) -and $_.Substring(0, $_.IndexOf('(')) -match '\[' -and
    $_ -notmatch 'System\.Management\.Automation|Microsoft\.PowerShell|Microsoft\.ApplicationInsights|Newtonsoft|dynamicClass|IL_STUB' -and
    # the boxes of our own state machines are all in the profile anyway (Write-StartupProfile.ps1)
    $_ -notmatch 'AsyncStateMachineBox`1\[[^:]*Containers\.'
}
$header = Get-Content $list -TotalCount 1
$old = @(Get-Content $list | Select-Object -Skip 1)
$new = @($generic | Where-Object { $_ -notin $old })
$refused = @($old | Where-Object { $compiled.Contains($_) })
$keep = if ($Prune) { @($old | Where-Object { -not $compiled.Contains($_) }) } else { $old }
@($header) + @($keep + $new | Sort-Object -Unique -CaseSensitive) | Set-Content $list
Write-Host "startup-methods.txt: $($new.Count) added, $($keep.Count + $new.Count) in all; $($refused.Count) listed methods were still JIT-compiled (an instantiation crossgen2 or the runtime does not take, or one this build did not have yet)$(if ($Prune) { ': dropped' })"
