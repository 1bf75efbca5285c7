# Small registry fixture for Policy.Tests.ps1: Debian's docker-registry on 127.0.0.1 with ports picked
# at run time (anonymous or htpasswd Basic), a tiny image made by umoci, and plain HTTP helpers to read
# and write manifests, blobs and sigstore attachments. Stop-PolicyRegistry kills only the processes
# Start-PolicyRegistry started, by PID.

# bcrypt of tester:t3st-pass (htpasswd -B); docker-registry reads only bcrypt entries.
$script:Htpasswd = 'tester:$2y$10$c5EH3E8eSxlTorrxe6UETOQQDHavD6d94vVtRoNk6QB5rvlTSn9iO'
$script:Http = [System.Net.Http.HttpClient]::new()
Import-Module (Join-Path $PSScriptRoot 'FixtureTypes.psm1')

function Get-FreePort {
    $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $l.Start(); $p = $l.LocalEndpoint.Port; $l.Stop(); return $p
}

function Start-PolicyRegistry([string] $Dir, [string] $Name, [switch] $Basic, [string[]] $ExtraConfig = @()) {
    $port = Get-FreePort
    $d = Join-Path $Dir $Name
    New-Item -ItemType Directory -Path (Join-Path $d 'data') -Force | Out-Null
    $config = @('version: 0.1', 'log: {level: warn, formatter: text}', 'storage:', "  filesystem: {rootdirectory: $d/data}",
        '  delete: {enabled: true}', 'http:', "  addr: 127.0.0.1:$port", "  secret: policy-$Name")
    if ($Basic) {
        $script:Htpasswd | Set-Content (Join-Path $d 'htpasswd')
        $config += @('auth:', '  htpasswd:', '    realm: policy-tests', "    path: $d/htpasswd")
    }
    $config += $ExtraConfig
    $config | Set-Content (Join-Path $d 'config.yml')
    $log = Join-Path $d 'registry.log'
    $psi = [System.Diagnostics.ProcessStartInfo]::new('bash')
    foreach ($arg in '-c', 'exec docker-registry serve "$0" >"$1" 2>&1 </dev/null', (Join-Path $d 'config.yml'), $log) { $psi.ArgumentList.Add($arg) }
    # docker-registry reads REGISTRY_* variables as configuration (REGISTRY_AUTH_FILE would become auth.file).
    foreach ($k in @($psi.Environment.Keys)) { if ($k -like 'REGISTRY_*') { $psi.Environment.Remove($k) | Out-Null } }
    $psi.UseShellExecute = $false
    $p = [System.Diagnostics.Process]::Start($psi)
    for ($i = 0; $i -lt 100; $i++) {
        try { $r = $script:Http.GetAsync("http://127.0.0.1:$port/v2/").GetAwaiter().GetResult(); if ([int]$r.StatusCode -in 200, 401) { break } } catch { }
        if ($p.HasExited) { throw "registry $Name exited: $(Get-Content $log -Raw)" }
        Start-Sleep -Milliseconds 100
    }
    return [pscustomobject]@{ Name = $Name; Port = $port; Process = $p; Host = "127.0.0.1:$port" }
}

function Stop-PolicyRegistry($Registry) {
    if ($Registry -and -not $Registry.Process.HasExited) { $Registry.Process.Kill(); $Registry.Process.WaitForExit(5000) | Out-Null }
    if ($Registry.Issuer) { $Registry.Issuer.Dispose() }
}

function Invoke-Peer([string] $File, [string[]] $Arguments) {
    # Runs a peer tool without this session's overrides; returns output and exit code.
    $saved = @{}
    foreach ($v in 'REGISTRY_AUTH_FILE', 'CONTAINERS_REGISTRIES_CONF') { $saved[$v] = [Environment]::GetEnvironmentVariable($v); [Environment]::SetEnvironmentVariable($v, $null) }
    try {
        $out = & $File @Arguments 2>&1 | Out-String
        return [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $out }
    }
    finally { foreach ($v in $saved.Keys) { [Environment]::SetEnvironmentVariable($v, $saved[$v]) } }
}

function New-TinyImage([string] $Dir) {
    # An image with no layers, made by umoci: enough for manifests, digests and signatures.
    $layout = Join-Path $Dir 'oci'
    foreach ($a in @(@('init', '--layout', $layout), @('new', '--image', "${layout}:app"))) {
        $r = Invoke-Peer umoci $a
        if ($r.ExitCode -ne 0) { throw "umoci $a failed: $($r.Output)" }
    }
    return "oci:${layout}:app"
}

function Copy-ToRegistry([string] $Source, [string] $Destination, [string[]] $Extra = @()) {
    $r = Invoke-Peer skopeo (@('copy', '--insecure-policy', '--dest-tls-verify=false') + $Extra + @($Source, "docker://$Destination"))
    if ($r.ExitCode -ne 0) { throw "skopeo copy to $Destination failed: $($r.Output)" }
}

function Get-ManifestDigest([string] $RegistryHost, [string] $Repository, [string] $Reference) {
    $req = [System.Net.Http.HttpRequestMessage]::new('GET', "http://$RegistryHost/v2/$Repository/manifests/$Reference")
    $req.Headers.Accept.ParseAdd('application/vnd.oci.image.manifest.v1+json')
    $req.Headers.Accept.ParseAdd('application/vnd.docker.distribution.manifest.v2+json')
    $r = $script:Http.SendAsync($req).GetAwaiter().GetResult()
    if (-not $r.IsSuccessStatusCode) { return $null }
    $bytes = $r.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult()
    return [Containers.Core.Spec.Digest]::Sha256($bytes)
}

function Get-SigstoreSignatures([string] $RegistryHost, [string] $Repository, $ManifestDigest) {
    # Reads the sha256-<hex>.sig attachment: payload blobs and signature annotations.
    $tag = [Containers.Core.Trust.SigstoreAttachments]::TagFor($ManifestDigest)
    $req = [System.Net.Http.HttpRequestMessage]::new('GET', "http://$RegistryHost/v2/$Repository/manifests/$tag")
    $req.Headers.Accept.ParseAdd('application/vnd.oci.image.manifest.v1+json')
    $r = $script:Http.SendAsync($req).GetAwaiter().GetResult()
    $list = [System.Collections.Generic.List[Containers.Core.Policy.SigstoreSignature]]::new()
    if ([int]$r.StatusCode -eq 404) { return , $list }
    $manifest = $r.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult()
    foreach ($layer in [Containers.Core.Trust.SigstoreAttachments]::ReadManifest($manifest)) {
        $payload = $script:Http.GetByteArrayAsync("http://$RegistryHost/v2/$Repository/blobs/$($layer.PayloadDigest)").GetAwaiter().GetResult()
        $list.Add([Containers.Core.Policy.SigstoreSignature]::new($payload, $layer.Signature))
    }
    return , $list
}

function Publish-SigstoreSignatures([string] $RegistryHost, [string] $Repository, $ManifestDigest, $Signatures) {
    # Pushes a .sig attachment built by Core: blobs (monolithic upload), then the manifest under its tag.
    $typed = [System.Collections.Generic.List[Containers.Core.Policy.SigstoreSignature]]::new()
    foreach ($s in $Signatures) { $typed.Add($s) }
    $built = [Containers.Core.Trust.SigstoreAttachments]::BuildManifest($typed)
    foreach ($blob in $built.Item2) {
        $start = $script:Http.PostAsync("http://$RegistryHost/v2/$Repository/blobs/uploads/", $null).GetAwaiter().GetResult()
        $location = $start.Headers.Location
        if (-not $location.IsAbsoluteUri) { $location = [Uri]::new([Uri]"http://$RegistryHost", $location) }
        $sep = if ($location.Query) { '&' } else { '?' }
        $put = $script:Http.PutAsync("$location${sep}digest=$($blob.Item1)", [System.Net.Http.ByteArrayContent]::new($blob.Item2)).GetAwaiter().GetResult()
        if (-not $put.IsSuccessStatusCode) { throw "blob upload failed: $($put.StatusCode)" }
    }
    $content = [System.Net.Http.ByteArrayContent]::new($built.Item1)
    $content.Headers.ContentType = [System.Net.Http.Headers.MediaTypeHeaderValue]::new('application/vnd.oci.image.manifest.v1+json')
    $tag = [Containers.Core.Trust.SigstoreAttachments]::TagFor($ManifestDigest)
    $r = $script:Http.PutAsync("http://$RegistryHost/v2/$Repository/manifests/$tag", $content).GetAwaiter().GetResult()
    if (-not $r.IsSuccessStatusCode) { throw "manifest put failed: $($r.StatusCode) $($r.Content.ReadAsStringAsync().GetAwaiter().GetResult())" }
}

function Start-TokenRegistry([string] $Dir) {
    # A registry that answers with a Bearer challenge, and the registry branch's token issuer (in process).
    Initialize-FixtureTypes
    $tls = Join-Path $Dir 'token-tls'
    [PSContainersFixture.FixtureCerts]::Write($tls)
    $issuer = [PSContainersFixture.TokenIssuer]::new((Get-Content "$tls/token.crt" -Raw), (Get-Content "$tls/token.key" -Raw),
        'policy-fixture', 'policy-issuer', 'tester', 't3st-pass')
    $registry = Start-PolicyRegistry $Dir token -ExtraConfig @('auth:', '  token:', "    realm: http://127.0.0.1:$($issuer.Port)/token",
        '    service: policy-fixture', '    issuer: policy-issuer', "    rootcertbundle: $tls/token.crt")
    $registry | Add-Member -NotePropertyName Issuer -NotePropertyValue $issuer
    return $registry
}

Export-ModuleMember -Function Start-TokenRegistry, Start-PolicyRegistry, Stop-PolicyRegistry, Invoke-Peer, New-TinyImage, Copy-ToRegistry, Get-ManifestDigest, Get-SigstoreSignatures, Publish-SigstoreSignatures
