# Registry fixture for the Pester suites and bench/: Debian's docker-registry on 127.0.0.1 with ports
# picked at run time, four ways:
#   Anonymous  plain HTTP, anonymous pull and push; holds every test image
#   Basic      plain HTTP, htpasswd Basic auth
#   Tls        HTTPS with a CA generated per run, htpasswd Basic auth
#   Token      plain HTTP, Bearer tokens from an issuer running in this process (FixtureServers.cs)
# Images are built once by ../../fixtures/registry-images.sh into a cache and pushed with skopeo at start.
# Stop-TestRegistry kills only the processes Start-TestRegistry started, by PID.

$script:Fixture = $null
$script:User = 'tester'
$script:Password = 't3st-pass'
# bcrypt of tester:t3st-pass (htpasswd -B); docker-registry reads only bcrypt entries.
$script:Htpasswd = 'tester:$2y$10$c5EH3E8eSxlTorrxe6UETOQQDHavD6d94vVtRoNk6QB5rvlTSn9iO'

Import-Module (Join-Path $PSScriptRoot 'FixtureTypes.psm1')

function Get-FreePort {
    $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $l.Start(); $p = $l.LocalEndpoint.Port; $l.Stop(); return $p
}

function Get-FixtureCacheDir {
    # The image cache outlives a run; keyed by the builder script so a changed script rebuilds.
    $hash = (Get-FileHash (Join-Path $PSScriptRoot '../../fixtures/registry-images.sh') -Algorithm SHA256).Hash.Substring(0, 12).ToLowerInvariant()
    $base = if ($env:PSCONTAINERS_FIXTURE_CACHE) { $env:PSCONTAINERS_FIXTURE_CACHE } elseif ($env:XDG_CACHE_HOME) { Join-Path $env:XDG_CACHE_HOME 'pscontainers-fixture' } else { Join-Path $HOME '.cache/pscontainers-fixture' }
    return Join-Path $base $hash
}

function Get-FixtureImageCache {
    # The registry test images as OCI layouts (<cache>/<name>, tag latest), built once, without starting registries.
    $cache = Get-FixtureCacheDir
    Invoke-Checked bash @((Join-Path $PSScriptRoot '../../fixtures/registry-images.sh'), $cache)
    return $cache
}

function Invoke-Checked([string] $File, [string[]] $Arguments) {
    # Peer tools must not see the test session's auth file or registries.conf overrides.
    $saved = @{}
    foreach ($v in 'REGISTRY_AUTH_FILE', 'CONTAINERS_REGISTRIES_CONF') { $saved[$v] = [Environment]::GetEnvironmentVariable($v); [Environment]::SetEnvironmentVariable($v, $null) }
    try {
        $out = & $File @Arguments 2>&1
        if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed ($LASTEXITCODE): $($out | Out-String)" }
    }
    # Remove-Item for what was unset: SetEnvironmentVariable($v, $null) from PowerShell leaves an empty variable.
    finally { foreach ($v in $saved.Keys) { if ($null -eq $saved[$v]) { Remove-Item "env:$v" -ErrorAction SilentlyContinue } else { Set-Item "env:$v" $saved[$v] } } }
}

function Wait-Http([string] $Url, [int[]] $Codes, [System.Diagnostics.Process] $Process, [string] $Log) {
    for ($i = 0; $i -lt 150; $i++) {
        if ([PSContainersFixture.FixtureCerts]::Probe($Url) -in $Codes) { return }
        if ($Process.HasExited) { throw "registry for $Url exited: $(Get-Content $Log -Raw)" }
        Start-Sleep -Milliseconds 100
    }
    throw "no answer from $Url; log: $(Get-Content $Log -Raw)"
}

function Start-OneRegistry([string] $Name, [string] $Dir, [string[]] $ExtraConfig) {
    $port = Get-FreePort
    $d = Join-Path $Dir $Name
    New-Item -ItemType Directory -Path (Join-Path $d 'data') -Force | Out-Null
    $config = @(
        'version: 0.1'
        'log: {level: warn, formatter: text}'
        'storage:'
        "  filesystem: {rootdirectory: $d/data}"
        '  delete: {enabled: true}'
        'http:'
        "  addr: 127.0.0.1:$port"
        "  secret: pscontainers-$Name"
    ) + $ExtraConfig
    $config | Set-Content (Join-Path $d 'config.yml')
    $log = Join-Path $d 'registry.log'
    # docker-registry reads REGISTRY_* variables as configuration (REGISTRY_AUTH_FILE would become auth.file).
    # bash execs the registry (same PID) with its output in the log file.
    $psi = [System.Diagnostics.ProcessStartInfo]::new('bash')
    foreach ($arg in '-c', 'exec docker-registry serve "$0" >"$1" 2>&1 </dev/null', (Join-Path $d 'config.yml'), $log) { $psi.ArgumentList.Add($arg) }
    foreach ($k in @($psi.Environment.Keys)) { if ($k -like 'REGISTRY_*') { $psi.Environment.Remove($k) | Out-Null } }
    $psi.UseShellExecute = $false
    $p = [System.Diagnostics.Process]::Start($psi)
    return [pscustomobject]@{ Name = $Name; Port = $port; Process = $p; Log = $log; Host = "127.0.0.1:$port" }
}

function Start-TestRegistry {
    <#
    .SYNOPSIS
        Starts the four fixture registries, seeds them, writes registries.conf/auth.json/certs.d into
        ConfigDir, and returns the fixture object (hosts, URLs, credentials, images, digests).
    #>
    param(
        # Where registries.conf, certs.d and auth.json go (the module's PSCONTAINERS_CONFIG_DIR).
        [string] $ConfigDir = $env:PSCONTAINERS_CONFIG_DIR,
        # Push the big images (layers, deep) too.
        [switch] $All
    )
    if ($script:Fixture) { return $script:Fixture }
    Initialize-FixtureTypes
    $cache = Get-FixtureCacheDir
    Invoke-Checked bash @((Join-Path $PSScriptRoot '../../fixtures/registry-images.sh'), $cache)

    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('pscontainers-registry-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $dir | Out-Null
    [PSContainersFixture.FixtureCerts]::Write((Join-Path $dir 'tls'))
    $script:Htpasswd | Set-Content (Join-Path $dir 'htpasswd')
    $tls = Join-Path $dir 'tls'
    $issuer = [PSContainersFixture.TokenIssuer]::new((Get-Content "$tls/token.crt" -Raw), (Get-Content "$tls/token.key" -Raw),
        'pscontainers-fixture', 'pscontainers-issuer', $script:User, $script:Password)
    $fx = [pscustomobject]@{
        Dir = $dir; ConfigDir = $ConfigDir; Cache = $cache; User = $script:User; Password = $script:Password
        Credential = [pscredential]::new($script:User, (ConvertTo-SecureString $script:Password -AsPlainText -Force))
        Anonymous = $null; Basic = $null; Tls = $null; Token = $null; Issuer = $issuer; Proxy = $null
        CaFile = "$tls/ca.crt"; Images = @{}
    }
    $script:Fixture = $fx
    try {
        # The anonymous registry's storage is cached after the first seed (hardlinked copy), so
        # reruns skip pushing the big images.
        $seeded = Join-Path $cache ($(if ($All) { 'anon-data-all' } else { 'anon-data' }))
        if (Test-Path "$seeded.done") {
            New-Item -ItemType Directory -Path "$dir/anon" -Force | Out-Null
            Invoke-Checked cp @('-al', $seeded, "$dir/anon/data")
        }
        $fx.Anonymous = Start-OneRegistry anon $dir @()
        $fx.Basic = Start-OneRegistry basic $dir @('auth:', "  htpasswd: {realm: pscontainers-basic, path: $dir/htpasswd}")
        $fx.Tls = Start-OneRegistry tls $dir @("  tls: {certificate: $tls/server.crt, key: $tls/server.key}", 'auth:', "  htpasswd: {realm: pscontainers-tls, path: $dir/htpasswd}")
        $fx.Token = Start-OneRegistry token $dir @('auth:', '  token:', "    realm: http://127.0.0.1:$($issuer.Port)/token",
            '    service: pscontainers-fixture', '    issuer: pscontainers-issuer', "    rootcertbundle: $tls/token.crt")
        Wait-Http "http://$($fx.Anonymous.Host)/v2/" 200 $fx.Anonymous.Process $fx.Anonymous.Log
        Wait-Http "http://$($fx.Basic.Host)/v2/" 401 $fx.Basic.Process $fx.Basic.Log
        Wait-Http "https://$($fx.Tls.Host)/v2/" 401 $fx.Tls.Process $fx.Tls.Log
        Wait-Http "http://$($fx.Token.Host)/v2/" 401 $fx.Token.Process $fx.Token.Log
        $fx.Proxy = [PSContainersFixture.FaultProxy]::new("http://$($fx.Anonymous.Host)")

        # certs.d for the TLS registry, in the config dir the module reads
        $certDir = Join-Path $dir "certs.d/$($fx.Tls.Host)"
        New-Item -ItemType Directory -Path $certDir -Force | Out-Null
        Copy-Item "$tls/ca.crt" (Join-Path $certDir 'ca.crt')

        $creds = "$($script:User):$($script:Password)"
        $push = @(
            @('busybox', $fx.Anonymous, 'busybox:latest', @()), @('busybox', $fx.Anonymous, 'busybox:docker', @('--format', 'v2s2')),
            @('multiarch', $fx.Anonymous, 'multiarch:latest', @()), @('zstd', $fx.Anonymous, 'zstd:latest', @()),
            @('caps', $fx.Anonymous, 'caps:latest', @()),
            @('busybox', $fx.Basic, 'private/busybox:latest', @('--dest-creds', $creds)),
            @('busybox', $fx.Tls, 'secure/busybox:latest', @('--dest-creds', $creds, '--dest-cert-dir', $certDir)),
            @('busybox', $fx.Token, 'busybox:latest', @('--dest-creds', $creds))
        )
        if ($All) { $push += , @('layers', $fx.Anonymous, 'layers:latest', @()); $push += , @('deep', $fx.Anonymous, 'deep:latest', @()) }
        foreach ($p in $push) {
            $fx.Images["$($p[1].Name)/$($p[2])"] = "$($p[1].Host)/$($p[2])"
            if ($p[1].Name -eq 'anon' -and (Test-Path "$seeded.done")) { continue }
            $tlsArgs = if ($p[1].Name -eq 'tls') { @() } else { @('--dest-tls-verify=false') }
            Invoke-Checked skopeo (@('copy', '--quiet', '--all') + $tlsArgs + $p[3] + @("oci:$cache/$($p[0]):latest", "docker://$($p[1].Host)/$($p[2])"))
        }
        if (-not (Test-Path "$seeded.done")) {
            Remove-Item $seeded -Recurse -Force -ErrorAction SilentlyContinue
            Invoke-Checked cp @('-al', "$dir/anon/data", $seeded)
            New-Item -ItemType File "$seeded.done" | Out-Null
        }
        if ($ConfigDir) { Write-TestRegistryConfig -ConfigDir $ConfigDir }
        return $fx
    }
    catch { Stop-TestRegistry; throw }
}

function Write-TestRegistryConfig {
    # registries.conf (every fixture registry insecure except TLS), auth.json and certs.d under ConfigDir.
    param([Parameter(Mandatory)] [string] $ConfigDir, [string[]] $SearchRegistries = @())
    $fx = $script:Fixture
    New-Item -ItemType Directory -Path $ConfigDir -Force | Out-Null
    $search = ($SearchRegistries | ForEach-Object { "`"$_`"" }) -join ', '
    $lines = @("unqualified-search-registries = [$search]", '')
    foreach ($r in @($fx.Anonymous, $fx.Basic, $fx.Token)) { $lines += '[[registry]]', "location = `"$($r.Host)`"", 'insecure = true', '' }
    $lines += '[[registry]]', "location = `"127.0.0.1:$($fx.Proxy.Port)`"", 'insecure = true', ''
    $lines += '[[registry]]', "location = `"localhost:$($fx.Proxy.BlobPort)`"", 'insecure = true', ''
    $lines += '[[registry]]', "location = `"$($fx.Tls.Host)`"", ''
    $lines | Set-Content (Join-Path $ConfigDir 'registries.conf')
    $certs = Join-Path $ConfigDir "certs.d/$($fx.Tls.Host)"
    New-Item -ItemType Directory -Path $certs -Force | Out-Null
    Copy-Item $fx.CaFile (Join-Path $certs 'ca.crt') -Force
    $b64 = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("$($fx.User):$($fx.Password)"))
    $auths = [ordered]@{}
    foreach ($r in @($fx.Basic, $fx.Tls, $fx.Token)) { $auths[$r.Host] = @{ auth = $b64 } }
    @{ auths = $auths } | ConvertTo-Json -Depth 4 | Set-Content (Join-Path $ConfigDir 'auth.json')
}

function Get-TestRegistry { $script:Fixture }

function Stop-TestRegistry {
    $fx = $script:Fixture
    if (-not $fx) { return }
    foreach ($r in @($fx.Anonymous, $fx.Basic, $fx.Tls, $fx.Token)) {
        if ($r -and -not $r.Process.HasExited) {
            $r.Process.Kill()
            $r.Process.WaitForExit(5000) | Out-Null
        }
    }
    if ($fx.Proxy) { $fx.Proxy.Dispose() }
    if ($fx.Issuer) { $fx.Issuer.Dispose() }
    Remove-Item $fx.Dir -Recurse -Force -ErrorAction SilentlyContinue
    $script:Fixture = $null
}

Export-ModuleMember -Function Start-TestRegistry, Stop-TestRegistry, Get-TestRegistry, Write-TestRegistryConfig, Get-FreePort, Get-FixtureImageCache
