# Install-, Find- and Publish-ContainerImage against real docker-registry instances on loopback
# (anonymous, Basic, TLS, Bearer) and a fault-injecting proxy of our own (tests/Pester/Fixtures).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/Registry.psm1') -Force
    $script:root = New-TestRoot -Name registry
    $script:fx = Start-TestRegistry -ConfigDir $env:PSCONTAINERS_CONFIG_DIR -All
    Import-Module (Get-TestModulePath) -Force
    $script:A = $fx.Anonymous.Host
    $script:P = "127.0.0.1:$($fx.Proxy.Port)"
    $script:storeN = 0

    function script:New-Store {
        # A fresh, empty image store for this process.
        $script:storeN++
        $env:PSCONTAINERS_DATA_DIR = Join-Path $script:root "data-$script:storeN"
        New-Item -ItemType Directory -Path $env:PSCONTAINERS_DATA_DIR -Force | Out-Null
    }

    function script:Get-RegistryDigest([string] $Ref, [switch] $Raw) {
        $args = @('inspect', '--tls-verify=false')
        if ($Raw) { $args += '--raw' }
        $env:REGISTRY_AUTH_FILE, $saved = $null, $env:REGISTRY_AUTH_FILE
        try { $out = & skopeo @args "docker://$Ref" } finally { $env:REGISTRY_AUTH_FILE = $saved }
        if ($Raw) { return $out }
        return ($out | ConvertFrom-Json).Digest
    }

    function script:Get-TreeListing([string] $Dir) {
        # type, path, mode, owner, link count (files), size and sha256 (files), link target, user xattrs
        $lines = & bash -c @'
cd "$1" && find . -mindepth 1 -printf '%y\t%P\t%m\t%U:%G\t%n\t%s\t%l\n' | while IFS=$'\t' read -r t p m o n s l; do
  case $t in
    f) printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' f "$p" "$m" "$o" "$n" "$s" "$(sha256sum -- "$p" | cut -c1-64)";;
    d) printf '%s\t%s\t%s\t%s\n' d "$p" "$m" "$o";;
    l) printf '%s\t%s\t%s\t%s\n' l "$p" "$o" "$l";;
    *) printf '%s\t%s\t%s\t%s\n' "$t" "$p" "$m" "$o";;
  esac
  [ "$t" = l ] || getfattr --absolute-names -d -m '^user\.' -- "$p" 2>/dev/null | sed -n "s|^user|x\t$p\tuser|p"
done | LC_ALL=C sort
'@ _ $Dir
        if ($LASTEXITCODE -ne 0) { throw "listing $Dir failed" }
        return $lines
    }

    function script:Get-UmociRootfs([string] $Ref, [string] $Work) {
        # The reference tree: skopeo copies the image to an OCI layout and umoci unpacks it.
        New-Item -ItemType Directory $Work -Force | Out-Null
        $env:REGISTRY_AUTH_FILE, $saved = $null, $env:REGISTRY_AUTH_FILE
        try {
            skopeo copy --quiet --src-tls-verify=false "docker://$Ref" "oci:$Work/oci:latest"
            umoci unpack --image "$Work/oci:latest" "$Work/bundle" | Out-Null
        } finally { $env:REGISTRY_AUTH_FILE = $saved }
        return "$Work/bundle/rootfs"
    }

    function script:Invoke-OnMergedLayers($Image, [string] $Work, [scriptblock] $Action) {
        # The kernel's overlay merge of the image's layer dirs (top layer first), read-only, for the action's time.
        $merged = Join-Path $Work 'merged'
        New-Item -ItemType Directory $merged | Out-Null
        $lower = @($Image.Layers.Directory)
        [array]::Reverse($lower)
        mount -t overlay overlay -o "ro,lowerdir=$($lower -join ':')" $merged
        try { & $Action $merged }
        finally { umount $merged }
    }

    function script:Write-Config([string[]] $Search = @(), [string[]] $Extra = @()) {
        Write-TestRegistryConfig -ConfigDir $env:PSCONTAINERS_CONFIG_DIR -SearchRegistries $Search
        if ($Extra) { Add-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf') $Extra }
    }
}

AfterAll {
    Stop-TestRegistry
    Remove-TestRoot $script:root
}

Describe 'Install-ContainerImage' {
    BeforeEach { New-Store; $fx.Proxy.Reset(); Write-Config }

    It 'pulls <Name> and records the digest the registry serves' -ForEach @(
        @{ Name = 'an OCI image without mediaType'; Key = 'anon/busybox:latest' }
        @{ Name = 'a Docker schema2 image'; Key = 'anon/busybox:docker' }
        @{ Name = 'a zstd layer'; Key = 'anon/zstd:latest' }
        @{ Name = 'over Basic auth'; Key = 'basic/private/busybox:latest' }
        @{ Name = 'over TLS with a certs.d CA'; Key = 'tls/secure/busybox:latest' }
        @{ Name = 'with a Bearer token'; Key = 'token/busybox:latest' }
    ) {
        $ref = $fx.Images[$Key]
        $image = Install-ContainerImage $ref -ProgressAction SilentlyContinue
        $image.GetType().Name | Should -Be 'ContainerImage'
        $image.Names | Should -Contain $ref
        $image.Layers.Count | Should -Be 1
        $image.Architecture | Should -Be 'amd64'
        if ($Key -like 'anon/*') { $image.Digest | Should -Be (Get-RegistryDigest $ref) }
        Test-Path (Join-Path $image.Layers[0].Directory 'bin/busybox') | Should -BeTrue
        (Get-ContainerImage $ref).Id | Should -Be $image.Id
    }

    It 'shows the name the user pulled, not the name the same image came by from another registry' {
        $first = Install-ContainerImage $fx.Images['anon/busybox:latest'] -ProgressAction SilentlyContinue
        $second = Install-ContainerImage $fx.Images['token/busybox:latest'] -ProgressAction SilentlyContinue
        $second.Id | Should -Be $first.Id
        "$($second.Repository):$($second.Tag)" | Should -Be $fx.Images['token/busybox:latest']
        $rows = @(Get-ContainerImage | Where-Object Id -EQ $first.Id)
        $rows.ForEach({ "$($_.Repository):$($_.Tag)" }) | Should -Be @($fx.Images['anon/busybox:latest'], $fx.Images['token/busybox:latest'])
    }

    It 'caches a Bearer token per scope and reuses it' {
        $ref = $fx.Images['token/busybox:latest']
        $null = Install-ContainerImage $ref -ProgressAction SilentlyContinue
        $before = $fx.Issuer.Requests.Count
        New-Store
        $null = Install-ContainerImage $ref -ProgressAction SilentlyContinue
        $fx.Issuer.Requests.Count | Should -Be $before
        @($fx.Issuer.Requests | Where-Object { $_ -like '*scope=repository%3Abusybox%3Apull*' }).Count | Should -BeGreaterThan 0
    }

    It 'picks the platform from a multi-arch index' {
        $index = Get-RegistryDigest $fx.Images['anon/multiarch:latest'] -Raw | ConvertFrom-Json
        $amd = Install-ContainerImage $fx.Images['anon/multiarch:latest'] -ProgressAction SilentlyContinue
        $amd.Architecture | Should -Be 'amd64'
        $amd.Digest | Should -Be ($index.manifests | Where-Object { $_.platform.architecture -eq 'amd64' }).digest
        $arm = Install-ContainerImage $fx.Images['anon/multiarch:latest'] -Platform linux/arm64 -ProgressAction SilentlyContinue
        $arm.Architecture | Should -Be 'arm64'
        $arm.Digest | Should -Be ($index.manifests | Where-Object { $_.platform.architecture -eq 'arm64' }).digest
        { Install-ContainerImage $fx.Images['anon/multiarch:latest'] -Platform linux/s390x -ErrorAction Stop } | Should -Throw -ErrorId 'NoMatchingPlatform*'
    }

    It 'unpacks the six-layer image to the same tree umoci unpacks' {
        $image = Install-ContainerImage $fx.Images['anon/layers:latest'] -ProgressAction SilentlyContinue
        $image.Layers.Count | Should -Be 6
        $work = Join-Path $script:root 'umoci'
        $theirs = Get-TreeListing (Get-UmociRootfs $fx.Images['anon/layers:latest'] $work)
        $ours = Invoke-OnMergedLayers $image $work { param($merged) Get-TreeListing $merged }
        $ours.Count | Should -BeGreaterThan 40
        Compare-Object $theirs $ours | Out-String | Should -BeNullOrEmpty
        $ours | Should -Contain ($ours | Where-Object { $_ -like "f`tsrv/modes/suid`t4755`t*" })
        # whiteouts and the opaque directory took effect; a whited-out name came back as a directory
        $ours | Should -Contain "d`tsrv/gone/file.txt`t755`t0:0"
        @($ours | Where-Object { $_ -like "?`tsrv/hidden/a.txt`t*" -or $_ -like "?`tsrv/link-to-drop`t*" }) | Should -BeNullOrEmpty
    }

    It 'keeps binary xattrs and file capabilities byte for byte, as umoci unpacks them' {
        # The fixture was made by umoci repack after setcap: its PAX SCHILY.xattr values are binary.
        $image = Install-ContainerImage $fx.Images['anon/caps:latest'] -ProgressAction SilentlyContinue
        $image.Layers.Count | Should -Be 2
        $rootfs = Get-UmociRootfs $fx.Images['anon/caps:latest'] (Join-Path $script:root 'umoci-caps')
        $listXattrs = {
            param($dir)
            # every xattr of every non-symlink, hex-encoded, in path order
            & bash -c 'cd "$1" && find . -mindepth 1 ! -type l -print0 | LC_ALL=C sort -z | xargs -0 getfattr -h -d -m - -e hex 2>/dev/null | grep -v "^$"' _ $dir
        }
        $seen = Invoke-OnMergedLayers $image (Join-Path $script:root 'umoci-caps') { param($merged) @{ Xattrs = @(& $listXattrs $merged); Caps = getcap "$merged/bin/ping" } }
        $ours, $caps = $seen.Xattrs, $seen.Caps
        $theirs = & $listXattrs $rootfs
        $ours | Should -Contain 'security.capability=0x0100000200200000000000000000000000000000'
        $ours | Should -Contain 'user.binary=0xfffe000aff3d00'
        $caps | Should -Match 'cap_net_raw[=+]ep'
        Compare-Object $theirs $ours | Out-String | Should -BeNullOrEmpty
    }

    It 'pulls 200 layers in order' {
        $image = Install-ContainerImage $fx.Images['anon/deep:latest'] -ProgressAction SilentlyContinue
        $image.Layers.Count | Should -Be 200
        Get-Content (Join-Path $image.Layers[-1].Directory 'deep/top.txt') | Should -Be '200'
        Get-Content (Join-Path $image.Layers[1].Directory 'deep/top.txt') | Should -Be '2'
    }

    It 'fetches the biggest layers first, so a pull does not end on one big layer alone' {
        $ref = "$P/layers:latest"
        $manifest = Get-RegistryDigest "$A/layers:latest" -Raw | ConvertFrom-Json
        $image = Install-ContainerImage $ref -ThrottleLimit 1 -ProgressAction SilentlyContinue
        $asked = @($fx.Proxy.FrontLog | Where-Object { $_ -like 'GET */blobs/*' } | ForEach-Object { ($_ -split '/')[-1] } |
            Where-Object { $_ -ne $manifest.config.digest })
        # The manifest lists the two 32 MiB layers fourth and fifth; the image keeps the manifest's order.
        $bySize = @($manifest.layers | Sort-Object -Property size -Descending -Stable)
        $asked | Should -Be @($bySize.digest)
        $asked[0] | Should -Not -Be $manifest.layers[0].digest
        @($image.Layers | ForEach-Object { "$($_.Digest)" }) | Should -Be @($manifest.layers.digest)
    }

    It 'fetches nothing again when everything is present' {
        $ref = "$P/layers:latest"
        $null = Install-ContainerImage $ref -ProgressAction SilentlyContinue
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/blobs/*' }).Count | Should -Be 7
        $fx.Proxy.Reset()
        $again = Install-ContainerImage $ref -ProgressAction SilentlyContinue
        $again.Layers.Count | Should -Be 6
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/blobs/*' }) | Should -BeNullOrEmpty
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/manifests/*' }).Count | Should -Be 1
    }

    It 'resolves short names only through configured search registries' {
        { Install-ContainerImage busybox -ErrorAction Stop } | Should -Throw -ErrorId 'ShortNameNoSearchRegistries*'
        Write-Config -Search $A
        (Install-ContainerImage busybox -ProgressAction SilentlyContinue).Names | Should -Contain "$A/busybox:latest"
    }

    It 'refuses a blocked registry before any connection' {
        # a more specific prefix than the proxy's own (insecure) entry wins
        Add-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf') '', '[[registry]]', "prefix = `"$P/busybox`"", "location = `"$P/busybox`"", 'blocked = true'
        { Install-ContainerImage "$P/busybox:latest" -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryBlocked*'
        $fx.Proxy.FrontLog.Count | Should -Be 0
    }

    It 'enforces the signature policy before fetching anything' {
        $policy = Join-Path $env:PSCONTAINERS_CONFIG_DIR 'policy.json'
        $saved = Get-Content $policy -Raw
        @{ default = @(@{ type = 'insecureAcceptAnything' }); transports = @{ docker = @{ "$P/busybox" = @(@{ type = 'reject' }) } } } |
            ConvertTo-Json -Depth 6 | Set-Content $policy
        try {
            { Install-ContainerImage "$P/busybox:latest" -ErrorAction Stop } | Should -Throw -ErrorId 'SignatureRejected*'
            @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/blobs/*' }) | Should -BeNullOrEmpty
            Get-ContainerImage | Should -BeNullOrEmpty
            (Install-ContainerImage "$P/zstd:latest" -ProgressAction SilentlyContinue).Layers.Count | Should -Be 1
        }
        finally { Set-Content $policy $saved -NoNewline }
    }

    It 'names every source it tried and why when the mirror and the registry fail' {
        # The mirror is the fixture's TLS registry under a name its CA is not installed for: a TLS failure,
        # not the primary's "could not be resolved" that used to be all the error said.
        $tlsMirror = "localhost:$($fx.Tls.Port)"
        Add-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf') '', '[[registry]]', 'location = "unresolvable.invalid:5000"', '[[registry.mirror]]', "location = `"$tlsMirror`""
        $e = { Install-ContainerImage 'unresolvable.invalid:5000/busybox:latest' -ProgressAction SilentlyContinue -ErrorAction Stop } | Should -Throw -ErrorId 'ImagePullFailed*' -PassThru
        $message = $e.Exception.Message
        $message | Should -Match "$([regex]::Escape("$tlsMirror/busybox (mirror)")): The TLS connection to '$([regex]::Escape($tlsMirror))' failed"
        $message | Should -Match "unresolvable.invalid:5000/busybox: The registry host 'unresolvable.invalid:5000' could not be resolved"
        $message | Should -Not -Match "`n"
        $e.Exception.RecommendedAction | Should -Match "certs.d/$([regex]::Escape($tlsMirror))/ca.crt"
    }

    It 'pulls through a mirror first' {
        Add-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf') '', '[[registry]]', 'location = "mirrored.example:5000"', '[[registry.mirror]]', "location = `"$P`"", 'insecure = true'
        $image = Install-ContainerImage 'mirrored.example:5000/busybox:latest' -ProgressAction SilentlyContinue
        $image.Names | Should -Contain 'mirrored.example:5000/busybox:latest'
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/v2/busybox/manifests/latest' }).Count | Should -Be 1
    }

    It 'never sends a credential to the host a blob redirect points at' {
        $fx.Proxy.RequireBasic = "$($fx.User):$($fx.Password)"
        $null = $fx.Proxy.AddRule('redirect', '/blobs/', 0)
        try {
            $image = Install-ContainerImage "$P/busybox:latest" -Credential $fx.Credential -ProgressAction SilentlyContinue
            $image.Layers.Count | Should -Be 1
            @($fx.Proxy.BlobLog | Where-Object { $_ -like 'GET /v2/busybox/blobs/*' }).Count | Should -Be 2
            $fx.Proxy.FrontAuthorization.Count | Should -BeGreaterThan 0
            @($fx.Proxy.FrontAuthorization | Where-Object { $_ -like 'Basic *' }).Count | Should -Be $fx.Proxy.FrontAuthorization.Count
            $fx.Proxy.BlobAuthorization.Count | Should -Be 0
        }
        finally { $fx.Proxy.RequireBasic = '' }
    }

    It 'sends no credential that belongs to another registry' {
        $fx.Proxy.RequireBasic = "$($fx.User):$($fx.Password)"
        try {
            # auth.json holds credentials for the other fixture registries only
            { Install-ContainerImage "$P/busybox:latest" -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryAuthenticationRequired*'
            $fx.Proxy.FrontAuthorization.Count | Should -Be 0
        }
        finally { $fx.Proxy.RequireBasic = '' }
    }

    It 'retries 429 and 503 honouring Retry-After, then succeeds' {
        $null = $fx.Proxy.AddRule('status', '/manifests/', 1, 429, '1')
        $null = $fx.Proxy.AddRule('status', '/blobs/', 1, 503, '0')
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $image = Install-ContainerImage "$P/busybox:latest" -ProgressAction SilentlyContinue
        $image.Layers.Count | Should -Be 1
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/manifests/latest' }).Count | Should -Be 2
        $sw.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.9 # the Retry-After second was waited for
    }

    It 'gives up with a clear error when 5xx persists' {
        $null = $fx.Proxy.AddRule('status', '/manifests/', 0, 503, '0')
        { Install-ContainerImage "$P/busybox:latest" -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryUnavailable*'
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/manifests/*' }).Count | Should -Be 4
    }

    It 'resumes a blob whose connection dropped midway' {
        $manifest = Get-RegistryDigest "$A/layers:latest" -Raw | ConvertFrom-Json
        $big = ($manifest.layers | Sort-Object size -Descending | Select-Object -First 1).digest
        $null = $fx.Proxy.AddRule('drop', "/blobs/$big", 1)
        $image = Install-ContainerImage "$P/layers:latest" -ProgressAction SilentlyContinue
        $image.Layers.Count | Should -Be 6
        @($fx.Proxy.FrontLog | Where-Object { $_ -like "*/blobs/$big" }).Count | Should -Be 2
    }

    It 'refuses content that does not match its digest and stores nothing' -ForEach @(
        @{ What = 'manifest'; Path = '/manifests/latest'; Id = 'DigestMismatch*' }
        @{ What = 'config'; Path = 'CONFIG'; Id = 'DigestMismatch*' }
        @{ What = 'layer'; Path = 'LAYER'; Id = '*' }
    ) {
        $manifest = Get-RegistryDigest "$A/busybox:latest" -Raw | ConvertFrom-Json
        $path = switch ($Path) { 'CONFIG' { "/blobs/$($manifest.config.digest)" } 'LAYER' { "/blobs/$($manifest.layers[0].digest)" } default { $Path } }
        $null = $fx.Proxy.AddRule('corrupt', $path, 0)
        $err = { Install-ContainerImage "$P/busybox:latest" -ErrorAction Stop } | Should -Throw -ErrorId $Id -PassThru
        $err.FullyQualifiedErrorId | Should -Match '^(DigestMismatch|LayerMalformed|DiffIdMismatch),'
        Get-ContainerImage | Should -BeNullOrEmpty
        $blobs = Join-Path $env:PSCONTAINERS_DATA_DIR 'images/blobs/sha256'
        if ($What -ne 'manifest' -and (Test-Path $blobs)) {
            Test-Path (Join-Path $blobs ($path -replace '.*sha256:', '')) | Should -BeFalse
        }
    }

    It 'refuses <Name>' -ForEach @(
        @{ Name = 'a manifest over 4 MiB'; Body = ('{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:' + ('0' * 64) + '","size":1},"layers":[],"annotations":{"x":"' + ('a' * 4.2MB) + '"}}'); Type = 'application/vnd.oci.image.manifest.v1+json'; Id = 'ManifestTooLarge*' }
        @{ Name = 'malformed JSON'; Body = '{"schemaVersion":2,"config":'; Type = 'application/vnd.oci.image.manifest.v1+json'; Id = 'MalformedManifest*' }
        @{ Name = 'an unknown media type'; Body = '{"schemaVersion":2,"mediaType":"application/vnd.example.thing+json","config":{}}'; Type = 'application/vnd.example.thing+json'; Id = 'UnsupportedMediaType*' }
        @{ Name = 'an unknown layer type'; Body = ('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:' + ('0' * 64) + '","size":2},"layers":[{"mediaType":"application/x-rar","digest":"sha256:' + ('1' * 64) + '","size":3}]}'); Type = 'application/vnd.oci.image.manifest.v1+json'; Id = 'UnsupportedMediaType*' }
    ) {
        $null = $fx.Proxy.AddRule('body', '/manifests/', 0, 200, '', '', $Body, $Type)
        { Install-ContainerImage "$P/busybox:latest" -ErrorAction Stop } | Should -Throw -ErrorId $Id
        Get-ContainerImage | Should -BeNullOrEmpty
    }

    It 'reports <Name>' -ForEach @(
        @{ Name = 'a missing tag'; Ref = { "$A/busybox:no-such-tag" }; Id = 'ManifestNotFound*' }
        @{ Name = 'a refused connection'; Ref = { "127.0.0.1:$(Get-FreePort)/busybox:latest" }; Id = 'RegistryConnectionRefused*'; Insecure = $true }
        @{ Name = 'a wrong Basic password'; Ref = { $fx.Images['basic/private/busybox:latest'] }; Id = 'RegistryAuthenticationFailed*'; Bad = $true }
        @{ Name = 'a wrong token password'; Ref = { $fx.Images['token/busybox:latest'] }; Id = 'RegistryAuthenticationFailed*'; Bad = $true }
    ) {
        $ref = & $Ref
        if ($Insecure) { Add-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf') '', '[[registry]]', "location = `"$($ref.Split('/')[0])`"", 'insecure = true' }
        $cred = if ($Bad) { [pscredential]::new('tester', (ConvertTo-SecureString 'wrong' -AsPlainText -Force)) }
        $p = @{}; if ($cred) { $p.Credential = $cred }
        { Install-ContainerImage $ref @p -ErrorAction Stop } | Should -Throw -ErrorId $Id
    }

    It 'reports an unresolvable registry host with a clear error and changes nothing' {
        # The pull runs in a network namespace of its own that has only a loopback device (down):
        # resolution fails locally, and no packet can leave this machine whatever resolv.conf says.
        $null = Get-ContainerImage # the store exists before, so any change would show
        $listStore = { @(Get-ChildItem $env:PSCONTAINERS_DATA_DIR -Recurse -Force | ForEach-Object { "$($_.FullName)|$($_.Length)|$($_.LastWriteTimeUtc.Ticks)" }) }
        $before = & $listStore
        $script = @"
Import-Module '$(Get-TestModulePath)'
try { `$null = Install-ContainerImage 'registry.invalid/team/app:1.0' -ProgressAction SilentlyContinue -ErrorAction Stop; 'no error' }
catch { `$_.FullyQualifiedErrorId; [string]`$_.CategoryInfo.Category; [string]`$_.TargetObject; `$_.Exception.Message }
"@
        $out = @(& unshare --net -- (Get-TestPwsh) -NoProfile -NonInteractive -Command $script 2>&1)
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $out[0] | Should -BeLike 'RegistryHostUnknown,*'
        $out[1] | Should -Be 'ConnectionError'
        $out[2] | Should -Be 'registry.invalid'
        $out[3] | Should -Match 'registry\.invalid'
        & $listStore | Should -Be $before
        Get-ContainerImage | Should -BeNullOrEmpty
    }

    It 'speaks TLS to a registry not marked insecure, and needs its CA' {
        # The anonymous registry is plain HTTP: without "insecure" it is refused, not downgraded.
        Set-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf') 'unqualified-search-registries = []'
        { Install-ContainerImage "$A/busybox:latest" -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryTlsFailure*'
        Remove-Item (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'certs.d') -Recurse -Force
        { Install-ContainerImage $fx.Images['tls/secure/busybox:latest'] -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryTlsFailure*'
    }

    It 'lets two processes pull the same image at once' {
        $script = "Import-Module '$(Get-TestModulePath)'; `$null = Install-ContainerImage '$A/layers:latest' -ProgressAction SilentlyContinue -ErrorAction Stop"
        $procs = 1..2 | ForEach-Object { Start-Process (Get-TestPwsh) -ArgumentList '-NoProfile', '-NonInteractive', '-Command', $script -PassThru -RedirectStandardError (Join-Path $script:root "two-$_.err") }
        foreach ($p in $procs) { $p.WaitForExit(120000) | Should -BeTrue; $p.ExitCode | Should -Be 0 -Because (Get-Content (Join-Path $script:root "two-$($procs.IndexOf($p) + 1).err") -Raw) }
        $images = @(Get-ContainerImage)
        $images.Count | Should -Be 1
        $images[0].Layers.Count | Should -Be 6
    }

    It 'recovers from a pull killed with SIGKILL' {
        $script = "Import-Module '$(Get-TestModulePath)'; `$null = Install-ContainerImage '$P/layers:latest' -ProgressAction SilentlyContinue"
        $p = Start-Process (Get-TestPwsh) -ArgumentList '-NoProfile', '-NonInteractive', '-Command', $script -PassThru
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/blobs/*' }).Count -and -not $p.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 5 }
        if (-not $p.HasExited) { kill -KILL $p.Id }
        $p.WaitForExit(10000) | Out-Null
        $image = Install-ContainerImage "$A/layers:latest" -ProgressAction SilentlyContinue
        $image.Layers.Count | Should -Be 6
        foreach ($l in $image.Layers) { Test-Path $l.Directory | Should -BeTrue }
        @(Get-ContainerImage).Count | Should -Be 1
    }

    It 'writes progress per layer and overall' {
        # progress records are not redirectable; a nested pipeline collects them
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$(Get-TestModulePath)'; Install-ContainerImage '$A/busybox:latest'")
        $null = $ps.Invoke()
        $ps.Streams.Error | Should -BeNullOrEmpty
        $ps.Streams.Progress.Count | Should -BeGreaterThan 1
        @($ps.Streams.Progress | Where-Object ParentActivityId -ge 0).Count | Should -BeGreaterThan 0
        $ps.Dispose()
    }
}

Describe 'Find-ContainerImage' {
    BeforeEach { $fx.Proxy.Reset(); Write-Config }

    It 'lists repositories and tags of a registry' {
        $found = Find-ContainerImage -Registry $A
        $found.Repository | Should -Contain 'busybox'
        ($found | Where-Object Repository -eq 'busybox').Tags | Sort-Object | Should -Be @('docker', 'latest')
    }

    It 'filters by a registry-qualified pattern and follows Link pagination' {
        $null = $fx.Proxy.AddRule('rewrite', 'n=100', 0, 0, '', '', 'n=2')
        $found = Find-ContainerImage "$P/*i*" -NoTags
        $found.Repository | Should -Be @('multiarch')
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/_catalog*' }).Count | Should -BeGreaterOrEqual 3
        (Find-ContainerImage "$P/*").Count | Should -Be 6
    }

    It 'lists the tags of an exact repository without the catalog' {
        $r = Find-ContainerImage "$P/busybox"
        $r.Name | Should -Be "$P/busybox"
        $r.Tags | Sort-Object | Should -Be @('docker', 'latest')
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/_catalog*' }) | Should -BeNullOrEmpty
        { Find-ContainerImage "$P/no-such-repo" -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryNotFound*'
    }

    It 'searches the configured search registries by default' {
        { Find-ContainerImage busy* -ErrorAction Stop } | Should -Throw -ErrorId 'NoSearchRegistries*'
        Write-Config -Search $A
        (Find-ContainerImage busy*).Name | Should -Be "$A/busybox"
    }

    It 'inspects a remote image without pulling it' {
        New-Store
        $r = Find-ContainerImage "$P/layers:latest" -Inspect
        $r.Digest | Should -Be (Get-RegistryDigest "$A/layers:latest")
        $r.Layers.Count | Should -Be 6
        $r.Labels['org.example.image'] | Should -Be 'layers'
        $r.Created | Should -Be ([DateTimeOffset]'2020-01-01T00:00:00Z').LocalDateTime
        $r.Size | Should -BeGreaterThan 64MB
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/blobs/*' }).Count | Should -Be 1 # the config only
        Get-ContainerImage | Should -BeNullOrEmpty
        $m = Find-ContainerImage "$A/multiarch:latest" -Inspect -Platform linux/arm64
        $m.Platforms | Should -Be @('linux/amd64', 'linux/arm64')
        $m.Architecture | Should -Be 'arm64'
        ($m | Out-String) | Should -Match 'Platforms\s+: linux/amd64, linux/arm64'
    }
}

Describe 'Publish-ContainerImage' {
    # These pushes send the image unchanged (same digests, mounts, the index byte for byte): the registry's blobs are kept.
    BeforeAll { New-Store; Write-Config; $null = Install-ContainerImage "$A/layers:latest" -KeepBlobs -ProgressAction SilentlyContinue }

    It 'does nothing with -WhatIf' {
        $fx.Proxy.Reset()
        Publish-ContainerImage "$A/layers:latest" "$P/whatif/layers:v1" -WhatIf
        $fx.Proxy.FrontLog.Count | Should -Be 0
    }

    It 'uploads in chunks, then finds every blob present' {
        $r = Publish-ContainerImage "$A/layers:latest" "$P/pushed/layers:v1" -ChunkSize 4MB
        $r.BlobsUploaded + $r.BlobsMounted | Should -Be 7
        @($fx.Proxy.FrontLog | Where-Object { $_ -like 'PATCH *' }).Count | Should -BeGreaterThan 8
        $r.Digest | Should -Be (Get-RegistryDigest "$A/pushed/layers:v1")
        $again = Publish-ContainerImage "$A/layers:latest" "$A/pushed2/layers:v2"
        $again.BlobsPresent | Should -Be 0
        $again.BlobsMounted | Should -Be 7
        $third = Publish-ContainerImage "$A/layers:latest" "$A/pushed/layers:v1"
        $third.BlobsPresent | Should -Be 7
        (Find-ContainerImage "$A/pushed2/layers:v2" -Inspect).Digest | Should -Be $r.Digest
    }

    It 'pushes with Basic auth and with Bearer tokens' {
        (Publish-ContainerImage "$A/layers:latest" "$($fx.Basic.Host)/pushed/layers:v1").Digest | Should -Not -BeNullOrEmpty
        $t = Publish-ContainerImage "$A/layers:latest" "$($fx.Token.Host)/pushed/layers:v1"
        $t.BlobsUploaded | Should -Be 7
        New-Store
        (Install-ContainerImage "$($fx.Token.Host)/pushed/layers:v1" -ProgressAction SilentlyContinue).Digest | Should -Be $t.Digest
    }

    It 'pushes a whole multi-arch index once every platform is in the store, or one platform with -Platform' {
        New-Store
        $src = $fx.Images['anon/multiarch:latest']
        $rawDigest = { param($ref) (& bash -c 'skopeo inspect --raw --tls-verify=false "docker://$1" | sha256sum' _ $ref).Split(' ')[0] }
        $env:REGISTRY_AUTH_FILE, $saved = $null, $env:REGISTRY_AUTH_FILE
        try { $srcIndex = & $rawDigest $src } finally { $env:REGISTRY_AUTH_FILE = $saved }
        $null = Install-ContainerImage $src -Platform linux/amd64 -KeepBlobs -ProgressAction SilentlyContinue
        # One platform is missing: refused before any connection.
        $fx.Proxy.Reset()
        { Publish-ContainerImage $src "$P/partial/multi:v1" -ErrorAction Stop } | Should -Throw -ErrorId 'IndexIncomplete*'
        $fx.Proxy.FrontLog.Count | Should -Be 0
        { Publish-ContainerImage $src "$P/partial/multi:v1" -Platform linux/arm64 -ErrorAction Stop } | Should -Throw -ErrorId 'PlatformNotInStore*'
        # -Platform pushes that platform's image alone.
        $one = Publish-ContainerImage $src "$A/multi-one:v1" -Platform linux/amd64
        $one.Platforms | Should -BeNullOrEmpty
        $oneRaw = Get-RegistryDigest "$A/multi-one:v1" -Raw | ConvertFrom-Json
        $oneRaw.manifests | Should -BeNullOrEmpty
        $oneRaw.config.digest | Should -Not -BeNullOrEmpty
        # With both platforms in the store the whole index goes up, byte for byte the source's.
        $null = Install-ContainerImage $src -Platform linux/arm64 -KeepBlobs -ProgressAction SilentlyContinue
        $all = Publish-ContainerImage $src "$A/multi-all:v1"
        $all.Platforms | Sort-Object | Should -Be @('linux/amd64', 'linux/arm64')
        $env:REGISTRY_AUTH_FILE, $saved = $null, $env:REGISTRY_AUTH_FILE
        try {
            $all.Digest | Should -Be "sha256:$srcIndex"
            & $rawDigest "$A/multi-all:v1" | Should -Be $srcIndex
            # skopeo fetches every platform's manifest and blobs from the destination
            $oci = Join-Path $script:root 'multi-all'
            skopeo copy --quiet --all --src-tls-verify=false "docker://$A/multi-all:v1" "oci:$($oci):v1"
            $LASTEXITCODE | Should -Be 0
            $index = Get-Content (Join-Path $oci 'index.json') -Raw | ConvertFrom-Json
            $index.manifests.Count | Should -Be 1
        } finally { $env:REGISTRY_AUTH_FILE = $saved }
        $listed = (Get-RegistryDigest "$A/multi-all:v1" -Raw | ConvertFrom-Json).manifests
        $listed.platform.architecture | Sort-Object | Should -Be @('amd64', 'arm64')
        foreach ($m in $listed) { Get-RegistryDigest "$A/multi-all@$($m.digest)" | Should -Be $m.digest }
    }


    It 'pushes a whole multi-arch index whose blobs were not kept, rewriting the index to name the rebuilt manifests' {
        New-Store
        $src = $fx.Images['anon/multiarch:latest']
        $null = Install-ContainerImage $src -Platform linux/amd64 -ProgressAction SilentlyContinue
        $null = Install-ContainerImage $src -Platform linux/arm64 -ProgressAction SilentlyContinue
        $sourceIndex = Get-RegistryDigest $src
        $all = Publish-ContainerImage $src "$A/multi-rebuilt:v1"
        $all.Platforms | Sort-Object | Should -Be @('linux/amd64', 'linux/arm64')
        $all.Digest | Should -Not -Be $sourceIndex -Because 'the manifests name recompressed layers'
        $listed = (Get-RegistryDigest "$A/multi-rebuilt:v1" -Raw | ConvertFrom-Json).manifests
        $listed.platform.architecture | Sort-Object | Should -Be @('amd64', 'arm64')
        foreach ($m in $listed) { Get-RegistryDigest "$A/multi-rebuilt@$($m.digest)" | Should -Be $m.digest }
        # A fresh store pulls each platform back, with the same configuration (so the same layers' content).
        $before = @{}; foreach ($p in 'linux/amd64', 'linux/arm64') { $before[$p] = (Get-ContainerImage | Where-Object { "$($_.Os)/$($_.Architecture)" -eq $p } | Select-Object -First 1).Id }
        New-Store
        foreach ($p in 'linux/amd64', 'linux/arm64') {
            (Install-ContainerImage "$A/multi-rebuilt:v1" -Platform $p -ProgressAction SilentlyContinue).Id | Should -Be $before[$p] -Because $p
        }
    }

}

Describe 'Layer blobs: one copy of each layer unless asked' {
    BeforeAll {
        Write-Config
        function script:Get-StoreBytes([string] $Sub) { [long]((& du -sb (Join-Path $env:PSCONTAINERS_DATA_DIR "images/$Sub")) -split '\s+')[0] }
        function script:Get-ImageListing($Image, [string] $Work) {
            New-Item -ItemType Directory $Work -Force | Out-Null
            Invoke-OnMergedLayers $Image $Work { param($merged) Get-TreeListing $merged }
        }
    }

    It 'keeps the six-layer 64 MiB image about once (unpacked), not twice, and a re-pull fetches nothing' {
        New-Store
        $ref = "$P/layers:latest"
        $image = Install-ContainerImage $ref -ProgressAction SilentlyContinue
        $compressed = ($image.Layers | Measure-Object CompressedSize -Sum).Sum
        $compressed | Should -BeGreaterThan 32MB
        foreach ($l in $image.Layers) { Test-Path (Join-Path $env:PSCONTAINERS_DATA_DIR "images/blobs/sha256/$($l.Digest.Encoded)") | Should -BeFalse }
        $layers, $blobs = (Get-StoreBytes layers), (Get-StoreBytes blobs)
        $blobs | Should -BeLessThan 1MB -Because 'only the manifest and the configuration stay as blobs'
        ($layers + $blobs) / $layers | Should -BeLessThan 1.1
        # A re-pull is a no-op: the unpacked layers stand for the blobs.
        $fx.Proxy.Reset()
        $again = Install-ContainerImage $ref -ProgressAction SilentlyContinue
        $again.Id | Should -Be $image.Id
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/blobs/*' }) | Should -BeNullOrEmpty
        $usage = Get-ContainerStorageUsage | Where-Object Type -eq 'Images'
        $usage.Total | Should -Be 1
        $usage.Size | Should -BeLessThan (1.1 * ($layers + $blobs)) -Because 'the usage counts the blobs that are there, not the ones dropped'
    }

    It 'keeps the registry''s blobs with -KeepBlobs, fetching those a store without them lacks' {
        $ref = "$P/layers:latest"
        $fx.Proxy.Reset()
        $image = Install-ContainerImage $ref -KeepBlobs -ProgressAction SilentlyContinue
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/blobs/*' }).Count | Should -Be 6
        foreach ($l in $image.Layers) { Test-Path (Join-Path $env:PSCONTAINERS_DATA_DIR "images/blobs/sha256/$($l.Digest.Encoded)") | Should -BeTrue }
        Get-StoreBytes blobs | Should -BeGreaterOrEqual ($image.Layers | Measure-Object CompressedSize -Sum).Sum
        $fx.Proxy.Reset()
        $null = Install-ContainerImage $ref -KeepBlobs -ProgressAction SilentlyContinue
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/blobs/*' }) | Should -BeNullOrEmpty
    }

    It 'pushes an image without its blobs recompressed: new manifest digest, same config, same tree' {
        New-Store
        $src = "$A/layers:latest"
        $image = Install-ContainerImage $src -ProgressAction SilentlyContinue
        $ours = Get-ImageListing $image (Join-Path $root 'noblob-src')
        $pushed = Publish-ContainerImage $src "$A/noblobs/layers:v1"
        $pushed.BlobsUploaded | Should -Be 6 -Because 'the layers are new blobs; the unchanged config mounts from the source repository'
        $pushed.Digest | Should -Not -Be $image.Digest
        $raw = Get-RegistryDigest "$A/noblobs/layers:v1" -Raw | ConvertFrom-Json
        $raw.config.digest | Should -Be "sha256:$($image.Id)"
        @($raw.layers).Count | Should -Be 6
        Get-RegistryDigest "$A/noblobs/layers:v1" | Should -Be $pushed.Digest
        # The temporary blobs and manifest went; the store is as before.
        Get-StoreBytes blobs | Should -BeLessThan 1MB
        # umoci unpacks what the registry holds to the tree we had.
        $theirs = Get-TreeListing (Get-UmociRootfs "$A/noblobs/layers:v1" (Join-Path $root 'noblob-umoci'))
        Compare-Object $ours $theirs | Out-String | Should -BeNullOrEmpty
        # Pulled back, it is the same image (diff ids verified on the way in).
        New-Store
        $back = Install-ContainerImage "$A/noblobs/layers:v1" -ProgressAction SilentlyContinue
        $back.Id | Should -Be $image.Id
        $back.Digest | Should -Be $pushed.Digest
        # A second push of the same image gives the same digests (gzip is deterministic): nothing to upload.
        New-Store
        $null = Install-ContainerImage $src -ProgressAction SilentlyContinue
        $again = Publish-ContainerImage $src "$A/noblobs/layers:v1"
        $again.Digest | Should -Be $pushed.Digest
        $again.BlobsUploaded | Should -Be 0
    }

    It 'keeps using a store of the previous version: layers without a tar-split keep their blobs and push unchanged' {
        New-Store
        $ref = "$P/layers:latest"
        $image = Install-ContainerImage $ref -KeepBlobs -ProgressAction SilentlyContinue
        # What the previous version left: unpacked layers and blobs, no tar-split.
        Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/layers') -Recurse -Filter 'tar-split.gz' | Remove-Item
        $fx.Proxy.Reset()
        $null = Install-ContainerImage $ref -ProgressAction SilentlyContinue
        @($fx.Proxy.FrontLog | Where-Object { $_ -like '*/blobs/*' }) | Should -BeNullOrEmpty
        foreach ($l in $image.Layers) { Test-Path (Join-Path $env:PSCONTAINERS_DATA_DIR "images/blobs/sha256/$($l.Digest.Encoded)") | Should -BeTrue }
        (Publish-ContainerImage $ref "$A/oldstore/layers:v1").Digest | Should -Be $image.Digest
    }

    It 'saves an image without its blobs to an OCI layout that umoci unpacks to the same tree' {
        New-Store
        $image = Install-ContainerImage "$A/layers:latest" -ProgressAction SilentlyContinue
        $ours = Get-ImageListing $image (Join-Path $root 'save-src')
        $layout = Join-Path $root 'saved-noblobs'
        Save-ContainerImage -Image "$A/layers:latest" -Path $layout -Format OciLayout
        $index = Get-Content (Join-Path $layout 'index.json') -Raw | ConvertFrom-Json
        $index.manifests[0].digest | Should -Not -Be $image.Digest
        $out = & umoci unpack --image "${layout}:latest" (Join-Path $root 'saved-bundle') 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$out"
        Compare-Object $ours (Get-TreeListing (Join-Path $root 'saved-bundle/rootfs')) | Out-String | Should -BeNullOrEmpty
        Get-StoreBytes blobs | Should -BeLessThan 1MB
    }
}
