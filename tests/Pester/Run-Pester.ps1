<#
.SYNOPSIS
    Runs the Pester suite against the built module in a fresh process and writes the counts as JSON.
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ResultPath
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
$env:PSCONTAINERS_TEST_MODULE = (Join-Path $ModulePath 'Containers.psd1')
# Comma-separated file name patterns, e.g. 'SystemInfo,Images'
$patterns = if ($env:PSCONTAINERS_TEST_FILTER) { $env:PSCONTAINERS_TEST_FILTER -split ',' } else { @('*') }
$files = Get-ChildItem $PSScriptRoot -Filter '*.Tests.ps1' | Where-Object {
    $name = $_.Name; @($patterns | Where-Object { $name -like "$_.Tests.ps1" -or $name -like $_ }).Count -gt 0
}
$config = New-PesterConfiguration
$config.Run.Path = @($files.FullName)
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.Should.ErrorAction = 'Stop'
$runStart = [DateTime]::UtcNow
try { $result = Invoke-Pester -Configuration $config }
finally {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1')
    Remove-TestModuleCopy
    Remove-StalePwshPipe -Since $runStart
}
[pscustomobject]@{
    Passed  = $result.PassedCount
    Failed  = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Skipped = $result.SkippedCount + $result.NotRunCount
} | ConvertTo-Json | Set-Content $ResultPath
exit ([int]($result.Result -ne 'Passed'))
