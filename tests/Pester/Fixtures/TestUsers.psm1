# Throw-away unprivileged host users for rootless tests: created with subordinate id ranges (useradd's defaults),
# each running a script in a fresh pwsh with the built module and a store in its home, removed afterwards.
#
#   $u = New-FixtureUser                        # name, home, uid
#   $r = Invoke-AsFixtureUser $u $script        # the script's last JSON line, as an object
#   Remove-FixtureUser $u

function New-FixtureUser {
    $name = 'psvol' + (Get-Random -Maximum 999999)
    $home_ = Join-Path ([System.IO.Path]::GetTempPath()) "$name-home"
    & useradd --create-home --home-dir $home_ --shell /bin/sh --user-group $name
    if ($LASTEXITCODE) { throw "useradd $name failed" }
    [pscustomobject]@{ Name = $name; Home = $home_; Uid = [uint32](& id -u $name) }
}

function Invoke-AsFixtureUser($User, [string] $Script, [string] $ModulePath, [string] $PwshDll, [hashtable] $Environment = @{}) {
    # $Environment: more variables for the user's pwsh (its environment is reset otherwise).
    $file = Join-Path $User.Home 'test.ps1'
    @"
`$ErrorActionPreference = 'Stop'
`$root = Join-Path `$HOME 'pscontainers'
foreach (`$d in 'data', 'state', 'config', 'logs') { New-Item -ItemType Directory -Force (Join-Path `$root `$d) | Out-Null }
`$env:PSCONTAINERS_DATA_DIR = "`$root/data"; `$env:PSCONTAINERS_STATE_DIR = "`$root/state"
`$env:PSCONTAINERS_CONFIG_DIR = "`$root/config"; `$env:PSCONTAINERS_LOG_DIR = "`$root/logs"
Import-Module '$ModulePath'
Import-Module (Join-Path `$HOME 'BusyboxImage.psm1')
`$null = Import-BusyboxImage
$Script
"@ | Set-Content $file
    # The fixture goes beside the script: the checkout may be in a folder the user cannot enter.
    Copy-Item (Join-Path $PSScriptRoot 'BusyboxImage.psm1') $User.Home
    & chown -R "$($User.Name):$($User.Name)" $User.Home
    $envArgs = @("HOME=$($User.Home)", 'PATH=/usr/bin:/bin', "DOTNET_CLI_HOME=$($User.Home)") + @($Environment.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" })
    $out = & setpriv --reuid $User.Name --regid $User.Name --clear-groups --reset-env -- /usr/bin/env @envArgs `
        /usr/bin/dotnet $PwshDll -NoProfile -NonInteractive -File $file 2>&1
    if ($LASTEXITCODE) { throw "the script failed as $($User.Name): $out" }
    ($out | Where-Object { $_ -like '{*' } | Select-Object -Last 1) | ConvertFrom-Json
}

function Remove-FixtureUser($User) {
    # A killed container is reaped late by this host's init; userdel refuses while the user has processes.
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while ((& pgrep -u $User.Name) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
    & userdel --remove $User.Name 2>$null
    Remove-Item $User.Home -Recurse -Force -ErrorAction SilentlyContinue
}

Export-ModuleMember -Function New-FixtureUser, Invoke-AsFixtureUser, Remove-FixtureUser
