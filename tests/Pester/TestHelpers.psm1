# Shared by the Pester suites: the built module, throw-away roots, the pinned pwsh.

function Get-TestModulePath {
    if (-not $env:PSCONTAINERS_TEST_MODULE) { throw 'PSCONTAINERS_TEST_MODULE is not set: run the tests through build.ps1 -Task Test' }
    return $env:PSCONTAINERS_TEST_MODULE
}

function New-TestRoot {
    # A throw-away data/state/config/log root; points the module at it for this process.
    param([string] $Name = 'pester')
    $root = Join-Path ([System.IO.Path]::GetTempPath()) ("pscontainers-$Name-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    foreach ($d in 'data', 'state', 'config', 'logs') { New-Item -ItemType Directory -Path (Join-Path $root $d) -Force | Out-Null }
    $env:PSCONTAINERS_DATA_DIR = Join-Path $root 'data'
    $env:PSCONTAINERS_STATE_DIR = Join-Path $root 'state'
    $env:PSCONTAINERS_CONFIG_DIR = Join-Path $root 'config'
    $env:PSCONTAINERS_LOG_DIR = Join-Path $root 'logs'
    $env:REGISTRY_AUTH_FILE = Join-Path $root 'config/auth.json'
    return $root
}

function Remove-TestRoot([string] $Root) {
    if ($Root -and (Test-Path $Root)) { Remove-Item $Root -Recurse -Force -ErrorAction SilentlyContinue }
}

function Get-TestPwsh {
    # The pinned pwsh that runs this suite, for tests that need a second session.
    $tool = Join-Path $PSHOME 'pwsh'
    if (Test-Path $tool) { return $tool }
    return 'pwsh'
}

Export-ModuleMember -Function Get-TestModulePath, New-TestRoot, Remove-TestRoot, Get-TestPwsh
