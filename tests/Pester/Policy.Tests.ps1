# Registry policy and trust against real files, real registries on loopback and real peers: skopeo 1.9
# reads the registries.conf files we write and is the oracle for blocking, insecure and mirrors;
# openssl is the independent signer and verifier for sigstore signatures (Debian's skopeo 1.9 is built
# with sigstore disabled: "Debian-local change: sigstore disabled").
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/PolicyRegistry.psm1') -Force
    $script:root = New-TestRoot -Name policy
    Import-Module (Get-TestModulePath) -Force
    $global:PSContainersNonInteractive = $true
    # Keep the user's real logins out of this session's credential lookups.
    $script:savedXdg = $env:XDG_CONFIG_HOME; $env:XDG_CONFIG_HOME = Join-Path $root 'xdg'
    $script:savedDocker = $env:DOCKER_CONFIG; $env:DOCKER_CONFIG = Join-Path $root 'docker'
    $script:conf = Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf'
    $script:anon = Start-PolicyRegistry $root anon
    $script:mirror = Start-PolicyRegistry $root mirror
    $script:basic = Start-PolicyRegistry $root basic -Basic
    $script:token = Start-TokenRegistry $root
    $script:image = New-TinyImage $root
    Copy-ToRegistry $image "$($anon.Host)/team/app:1"
    Copy-ToRegistry $image "$($mirror.Host)/lib/app:1"

    function script:Skopeo-Inspect([string] $Reference, [string[]] $Extra = @()) {
        Invoke-Peer skopeo (@('--registries-conf', $conf) + @('inspect') + $Extra + @("docker://$Reference"))
    }
}
AfterAll {
    foreach ($r in $anon, $mirror, $basic, $token) { Stop-PolicyRegistry $r }
    $env:XDG_CONFIG_HOME = $savedXdg; $env:DOCKER_CONFIG = $savedDocker
    Remove-Variable PSContainersNonInteractive -Scope Global -ErrorAction SilentlyContinue
    Remove-TestRoot $root
}

Describe 'Set-RegistryPolicy writes files skopeo reads and obeys' {
    BeforeEach { Remove-Item $conf -ErrorAction SilentlyContinue }

    It 'marks a plain-HTTP registry insecure, which skopeo then uses without --tls-verify' {
        (Skopeo-Inspect "$($anon.Host)/team/app:1").ExitCode | Should -Not -Be 0
        Set-RegistryPolicy -Registry $anon.Host -Insecure -Scope System
        $r = Skopeo-Inspect "$($anon.Host)/team/app:1"
        $r.Output | Should -Match '"Digest"'
        $r.ExitCode | Should -Be 0
        (Get-RegistryPolicy -Registry $anon.Host).Insecure | Should -BeTrue
    }

    It 'blames a registry given with a scheme on the parameter, and leaves the file alone' {
        Set-RegistryPolicy -Registry $anon.Host -Insecure -Scope System
        $before = Get-Content $conf -Raw
        $e = { Set-RegistryPolicy -Registry http://x -Insecure -Scope System -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryNameHasScheme*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.TargetObject | Should -Be 'http://x'
        $e.Exception.Message | Should -Match "^-Registry 'http://x' has a scheme"
        $e.Exception.RecommendedAction | Should -Match "-Registry 'x' with -Insecure"
        { Set-RegistryPolicy -Registry $anon.Host -Mirror https://mirror.example -Scope System -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryNameHasScheme*'
        Get-Content $conf -Raw | Should -Be $before
    }

    It 'blocks a registry: both skopeo and the module refuse it, naming the rule and file' {
        Set-RegistryPolicy -Registry $anon.Host -Insecure -Blocked -Scope System
        $r = Skopeo-Inspect "$($anon.Host)/team/app:1"
        $r.ExitCode | Should -Not -Be 0
        $r.Output | Should -Match 'is blocked'
        $resolution = Get-RegistryPolicy -Image "$($anon.Host)/team/app:1"
        $resolution.Blocked | Should -BeTrue
        $resolution.BlockedReason | Should -Match ([regex]::Escape("prefix `"$($anon.Host)`" in ${conf}:"))
        $cred = [pscredential]::new('tester', (ConvertTo-SecureString 'x' -AsPlainText -Force))
        { Connect-ContainerRegistry -Registry $anon.Host -Credential $cred -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryBlocked*'

        Set-RegistryPolicy -Registry $anon.Host -Blocked:$false -Scope System
        (Skopeo-Inspect "$($anon.Host)/team/app:1").ExitCode | Should -Be 0
        (Get-RegistryPolicy -Image "$($anon.Host)/team/app:1").Blocked | Should -BeFalse
    }

    It 'blocks one namespace by the longest prefix, as skopeo does' {
        Set-RegistryPolicy -Registry $anon.Host -Insecure -Scope System
        Set-RegistryPolicy -Registry "$($anon.Host)/team" -Location "$($anon.Host)/team" -Insecure -Blocked -Scope System
        Copy-ToRegistry $image "$($anon.Host)/other/app:1"
        foreach ($case in @(@('team/app:1', $true), @('other/app:1', $false))) {
            $ref = "$($anon.Host)/$($case[0])"
            $skopeoBlocked = (Skopeo-Inspect $ref).Output -match 'is blocked'
            $skopeoBlocked | Should -Be $case[1] -Because "skopeo on $ref"
            (Get-RegistryPolicy -Image $ref).Blocked | Should -Be $case[1] -Because "the module on $ref"
        }
    }

    It 'tries a mirror first, as skopeo does, and the image comes from the mirror' {
        Set-RegistryPolicy -Registry $anon.Host -Insecure -Scope System
        Set-RegistryPolicy -Registry $anon.Host -Mirror $mirror.Host -Insecure -Scope System
        $ours = (Get-RegistryPolicy -Image "$($anon.Host)/lib/app:1").PullSources
        $ours[0].Host | Should -Be $mirror.Host
        $ours[0].IsMirror | Should -BeTrue
        $ours[1].Host | Should -Be $anon.Host
        # lib/app exists only on the mirror: skopeo finds it there.
        $r = Invoke-Peer skopeo @('--debug', '--registries-conf', $conf, 'inspect', '--no-tags', "docker://$($anon.Host)/lib/app:1")
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $tried = @([regex]::Matches($r.Output, 'Trying to access \\?"([^"\\]+)\\?"') | ForEach-Object { $_.Groups[1].Value })
        $tried[0] | Should -Be $ours[0].Reference.ToString()
    }

    It 'keeps comments and unknown keys, and writes only the keys asked for' {
        @(
            '# site policy, do not remove'
            'unqualified-search-registries = ["registry.example"] # searched in order'
            ''
            '[[registry]]'
            '# quay is fine'
            'location = "quay.io"'
        ) | Set-Content $conf
        Set-RegistryPolicy -Registry $anon.Host -Insecure -Scope System
        Set-RegistryPolicy -Alias tiny -AliasTarget "$($anon.Host)/team/app" -Scope System
        $text = Get-Content $conf -Raw
        $text | Should -Match '# site policy, do not remove'
        $text | Should -Match '# searched in order'
        $text | Should -Match '# quay is fine'
        $text | Should -Match ([regex]::Escape("[[registry]]`nlocation = `"$($anon.Host)`"`ninsecure = true`n"))
        $text | Should -Not -Match 'blocked|mirror|prefix'
        (Skopeo-Inspect "$($anon.Host)/team/app:1").ExitCode | Should -Be 0
    }

    It '-WhatIf changes nothing' {
        'unqualified-search-registries = ["a.example"]' | Set-Content $conf
        $before = Get-Content $conf -Raw
        Set-RegistryPolicy -Registry quay.io -Blocked -SearchRegistries b.example -Scope System -WhatIf
        Get-Content $conf -Raw | Should -BeExactly $before
    }

    It 'refuses a malformed file with its path and line, leaves it alone, and skopeo refuses it too' {
        $bad = "unqualified-search-registries = [`"a.example`"]`n[[registry]]`nlocation = `"quay.io`"`nblocked = maybe`n"
        [IO.File]::WriteAllText($conf, $bad)
        { Set-RegistryPolicy -Registry quay.io -Insecure -Scope System -ErrorAction Stop } | Should -Throw -ErrorId 'RegistriesConfInvalid*'
        try { Get-RegistryPolicy -ErrorAction Stop } catch { $_.Exception.Message | Should -Match ([regex]::Escape("${conf}:4:")) }
        [IO.File]::ReadAllText($conf) | Should -BeExactly $bad
        (Skopeo-Inspect "$($anon.Host)/team/app:1").ExitCode | Should -Not -Be 0
    }

    It 'removes a mirror, then the whole entry' {
        Set-RegistryPolicy -Registry docker.io -Mirror m1.example, m2.example -Scope System
        (Get-RegistryPolicy -Registry docker.io).Mirrors.Location | Should -Be @('m1.example', 'm2.example')
        Remove-RegistryPolicy -Registry docker.io -Mirror m1.example -Scope System
        (Get-RegistryPolicy -Registry docker.io).Mirrors.Location | Should -Be @('m2.example')
        Remove-RegistryPolicy -Registry docker.io -Scope System
        Get-RegistryPolicy -Registry docker.io -ErrorAction SilentlyContinue -ErrorVariable e | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'RegistryRuleNotFound*'
        Remove-RegistryPolicy -Registry docker.io -Scope System -ErrorAction SilentlyContinue -ErrorVariable e2
        $e2[0].FullyQualifiedErrorId | Should -BeLike 'RegistryRuleNotFound*'
    }

    It 'completes registry prefixes' {
        Set-RegistryPolicy -Registry completion.example -Blocked -Scope System
        $c = TabExpansion2 -inputScript 'Get-RegistryPolicy -Registry compl' -cursorColumn 'Get-RegistryPolicy -Registry compl'.Length
        $c.CompletionMatches.CompletionText | Should -Be @('completion.example')
    }

    It 'merges drop-ins in name order over the main file' {
        $dropins = Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf.d'
        New-Item -ItemType Directory $dropins -Force | Out-Null
        try {
            'unqualified-search-registries = ["a.example"]' | Set-Content $conf
            "[[registry]]`nlocation = `"$($anon.Host)`"`ninsecure = true" | Set-Content (Join-Path $dropins '20-insecure.conf')
            "[[registry]]`nlocation = `"$($anon.Host)`"`nblocked = true`n[aliases]`n`"x`" = `"a.example/x`"" | Set-Content (Join-Path $dropins '10-block.conf')
            $p = Get-RegistryPolicy
            $p.Files | Should -Be @($conf, (Join-Path $dropins '10-block.conf'), (Join-Path $dropins '20-insecure.conf'))
            $rule = Get-RegistryPolicy -Registry $anon.Host
            $rule.Blocked | Should -BeFalse -Because 'the later drop-in replaces the whole entry'
            $rule.SourceFile | Should -Be (Join-Path $dropins '20-insecure.conf')
            $p.Aliases['x'] | Should -Be 'a.example/x'
        }
        finally { Remove-Item $dropins -Recurse -Force }
    }
}

Describe 'Short names resolve only through configured registries' {
    BeforeAll {
        $script:hasPodman = [bool](Get-Command podman -ErrorAction SilentlyContinue)
        function script:Invoke-PodmanPull([string] $Name) {
            # A fresh throw-away store each time, so podman resolves remotely, never to a local image.
            # podman refuses a runroot longer than 50 characters: keep the store short, under /tmp.
            $store = Join-Path '/tmp' ('pscpod-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
            $env:CONTAINERS_REGISTRIES_CONF = $conf
            # podman insists that the auth file it is pointed at exists: give it an empty one of its own.
            $auth = $env:REGISTRY_AUTH_FILE; $docker = $env:DOCKER_CONFIG; Remove-Item env:DOCKER_CONFIG
            New-Item -ItemType Directory $store -Force | Out-Null
            '{"auths":{}}' | Set-Content "$store/auth.json"; $env:REGISTRY_AUTH_FILE = "$store/auth.json"
            try {
                $out = $null | & podman --root "$store/root" --runroot "$store/run" --tmpdir "$store/tmp" --storage-driver vfs --events-backend file --cgroup-manager cgroupfs pull $Name 2>&1 | Out-String
                return [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $out; Tried = @([regex]::Matches($out, 'Trying to pull (\S+)\.\.\.') | ForEach-Object { $_.Groups[1].Value }) }
            }
            finally { Remove-Item env:CONTAINERS_REGISTRIES_CONF; $env:REGISTRY_AUTH_FILE = $auth; $env:DOCKER_CONFIG = $docker; Remove-Item $store -Recurse -Force -ErrorAction SilentlyContinue }
        }
    }
    BeforeEach { Remove-Item $conf -ErrorAction SilentlyContinue }

    It 'uses an alias first, then the search registries in order' {
        Set-RegistryPolicy -SearchRegistries $anon.Host, $mirror.Host -ShortNameMode Permissive -Scope System
        (Get-RegistryPolicy -Image 'team/app:1').Candidates | ForEach-Object ToString | Should -Be @("$($anon.Host)/team/app:1", "$($mirror.Host)/team/app:1")
        Set-RegistryPolicy -Alias 'team/app' -AliasTarget "$($mirror.Host)/lib/app" -Scope System
        $r = Get-RegistryPolicy -Image 'team/app:1'
        $r.Origin | Should -Be 'Alias'
        @($r.Candidates).Count | Should -Be 1
        $r.Candidates[0].ToString() | Should -Be "$($mirror.Host)/lib/app:1"
    }

    It 'is an error in a script when the name is ambiguous in enforcing mode' {
        Set-RegistryPolicy -SearchRegistries $anon.Host, $mirror.Host -ShortNameMode Enforcing -Scope System
        { Get-RegistryPolicy -Image app -ErrorAction Stop } | Should -Throw -ErrorId 'ShortNameAmbiguous*'
        if ($hasPodman) {
            $p = Invoke-PodmanPull 'app:1'
            $p.ExitCode | Should -Not -Be 0
            $p.Output | Should -Match 'cannot prompt without a TTY'
            $p.Tried | Should -BeNullOrEmpty
        }
    }

    It 'gives the candidates podman tries, in the same order, and the same alias' -Skip:(-not (Get-Command podman -ErrorAction SilentlyContinue)) {
        Set-RegistryPolicy -SearchRegistries $anon.Host, $mirror.Host -ShortNameMode Permissive -Scope System
        Set-RegistryPolicy -Registry $anon.Host -Insecure -Scope System
        Set-RegistryPolicy -Registry $mirror.Host -Insecure -Scope System
        # lib/app is only on the second search registry: podman tries both, in our order.
        $p = Invoke-PodmanPull 'lib/app:1'
        $p.ExitCode | Should -Be 0 -Because $p.Output
        $p.Tried | Should -Be @((Get-RegistryPolicy -Image 'lib/app:1').Candidates | ForEach-Object ToString)
        # An alias wins over the search registries for both.
        Set-RegistryPolicy -Alias 'tiny' -AliasTarget "$($mirror.Host)/lib/app" -Scope System
        $p = Invoke-PodmanPull 'tiny:1'
        $p.Output | Should -Match 'as an alias'
        $p.Tried | Should -Be @((Get-RegistryPolicy -Image 'tiny:1').Candidates | ForEach-Object ToString)
    }

    It 'is an error with no search registries, never an implicit docker.io' {
        Set-RegistryPolicy -SearchRegistries @() -Scope System
        { Get-RegistryPolicy -Image busybox -ErrorAction Stop } | Should -Throw -ErrorId 'ShortNameNoSearchRegistries*'
    }
}

Describe 'Logins' {
    BeforeAll {
        Set-RegistryPolicy -Registry $basic.Host -Insecure -Scope System
        $script:good = [pscredential]::new('tester', (ConvertTo-SecureString 't3st-pass' -AsPlainText -Force))
        $script:bad = [pscredential]::new('tester', (ConvertTo-SecureString 'wrong' -AsPlainText -Force))
        Copy-ToRegistry $image "$($basic.Host)/team/app:1" @('--dest-creds', 'tester:t3st-pass')
    }
    AfterAll { Remove-Item $conf -ErrorAction SilentlyContinue }

    It 'refuses a wrong password and saves nothing' {
        { Connect-ContainerRegistry -Registry $basic.Host -Credential $bad -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryLoginRejected*'
        $env:REGISTRY_AUTH_FILE | Should -Not -Exist
    }

    It 'saves a verified login with mode 0600 that skopeo uses, and lists it without the secret' {
        $login = Connect-ContainerRegistry -Registry $basic.Host -Credential $good
        $login.UserName | Should -Be 'tester'
        (Get-Item $env:REGISTRY_AUTH_FILE).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
        (Get-Content $env:REGISTRY_AUTH_FILE -Raw | ConvertFrom-Json).auths.($basic.Host).auth | Should -Not -BeNullOrEmpty
        $r = Invoke-Peer skopeo @('--registries-conf', $conf, 'inspect', '--authfile', $env:REGISTRY_AUTH_FILE, "docker://$($basic.Host)/team/app:1")
        $r.ExitCode | Should -Be 0
        $listed = Get-ContainerRegistryLogin -Registry $basic.Host
        $listed.UserName | Should -Be 'tester'
        ($listed | Format-List * | Out-String) | Should -Not -Match 't3st-pass'
    }

    It 'verifies a login through a Bearer challenge and its token endpoint' {
        Set-RegistryPolicy -Registry $token.Host -Insecure -Scope System
        { Connect-ContainerRegistry -Registry $token.Host -Credential $bad -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryLoginRejected*'
        (Connect-ContainerRegistry -Registry "$($token.Host)/team" -Credential $good).Registry | Should -Be "$($token.Host)/team"
        $token.Issuer.Requests.Count | Should -BeGreaterOrEqual 2
        (Get-ContainerRegistryLogin -Registry "$($token.Host)/team").UserName | Should -Be 'tester'
        Disconnect-ContainerRegistry -Registry "$($token.Host)/team"
    }

    It 'logs out, after which skopeo is refused' {
        Disconnect-ContainerRegistry -Registry $basic.Host
        Get-ContainerRegistryLogin -Registry $basic.Host -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $r = Invoke-Peer skopeo @('--registries-conf', $conf, 'inspect', '--authfile', $env:REGISTRY_AUTH_FILE, "docker://$($basic.Host)/team/app:1")
        $r.ExitCode | Should -Not -Be 0
        Disconnect-ContainerRegistry -Registry $basic.Host -ErrorAction SilentlyContinue -ErrorVariable e
        $e[0].FullyQualifiedErrorId | Should -BeLike 'RegistryLoginNotFound*'
    }

    It 'asks the credHelpers helper for exactly its host, as skopeo does' {
        $bin = Join-Path $root 'helper-bin'; $log = Join-Path $root 'helper.log'
        New-Item -ItemType Directory $bin -Force | Out-Null
        $helper = Join-Path $bin 'docker-credential-pstest'
        @('#!/bin/sh', '[ "$1" = get ] || exit 2', 'host=$(cat)', "echo `"`$host`" >> '$log'",
          "if [ `"`$host`" = '$($basic.Host)' ]; then printf '{`"ServerURL`":`"%s`",`"Username`":`"tester`",`"Secret`":`"t3st-pass`"}' `"`$host`"; exit 0; fi",
          'echo "credentials not found in native keychain"; exit 1') | Set-Content $helper
        & chmod 755 $helper
        $savedPath = $env:PATH; $env:PATH = "${bin}:$env:PATH"
        try {
            Set-Content $env:REGISTRY_AUTH_FILE ('{"credHelpers":{"' + $basic.Host + '":"pstest","' + $anon.Host + '":"pstest"}}')
            $r = Invoke-Peer skopeo @('--registries-conf', $conf, 'inspect', '--authfile', $env:REGISTRY_AUTH_FILE, "docker://$($basic.Host)/team/app:1")
            $r.ExitCode | Should -Be 0 -Because $r.Output
            Remove-Item $log
            (Test-ContainerImage "$($basic.Host)/team/app:1").Allowed | Should -BeTrue
            @(Get-Content $log | Select-Object -Unique) | Should -Be @($basic.Host)
            (Get-ContainerRegistryLogin -Registry $basic.Host).UserName | Should -Be '(docker-credential-pstest)'
            Set-Content $env:REGISTRY_AUTH_FILE ('{"credHelpers":{"' + $basic.Host + '":"absent"}}')
            { Test-ContainerImage "$($basic.Host)/team/app:1" -ErrorAction Stop } | Should -Throw -ErrorId 'CredentialHelperNotFound*'
        }
        finally { $env:PATH = $savedPath; Remove-Item $env:REGISTRY_AUTH_FILE -ErrorAction SilentlyContinue }
    }
}

Describe 'Sigstore signatures in a real registry' {
    BeforeAll {
        $script:keys = Join-Path $root 'keys'
        $pass = ConvertTo-SecureString 'pw' -AsPlainText -Force
        New-ContainerSigningKey -Path (Join-Path $keys 'ours') -Passphrase $pass | Out-Null
        New-ContainerSigningKey -Path (Join-Path $keys 'other') -Passphrase $pass | Out-Null
        # The independent signer: a P-256 key made and used by openssl.
        $script:sslKey = Join-Path $keys 'openssl.pem'
        & openssl ecparam -name prime256v1 -genkey -noout -out $sslKey 2>$null
        & openssl ec -in $sslKey -pubout -out (Join-Path $keys 'openssl.pub') 2>$null
        $script:repo = 'signed/app'
        Copy-ToRegistry $image "$($anon.Host)/${repo}:1"
        $script:digest = Get-ManifestDigest $anon.Host $repo 1
        $script:ref = [Containers.Core.Spec.ImageReference]::Parse("$($anon.Host)/${repo}:1")

        function script:New-OpenSslSignature([string] $Identity, [string] $Digest) {
            $payload = '{"critical":{"identity":{"docker-reference":"' + $Identity + '"},"image":{"docker-manifest-digest":"' + $Digest + '"},"type":"cosign container image signature"},"optional":null}'
            $pf = Join-Path $keys 'payload.json'; $sf = Join-Path $keys 'payload.sig'
            [IO.File]::WriteAllText($pf, $payload)
            & openssl dgst -sha256 -sign $sslKey -out $sf $pf
            [Containers.Core.Policy.SigstoreSignature]::new([IO.File]::ReadAllBytes($pf), [Convert]::ToBase64String([IO.File]::ReadAllBytes($sf)))
        }
        function script:Test-Policy([string] $PubKey, $Digest = $digest, [string] $Repository = $repo, $Reference = $ref) {
            $json = '{"default":[{"type":"reject"}],"transports":{"docker":{"' + $anon.Host + '":[{"type":"sigstoreSigned","keyPath":"' + $PubKey + '","signedIdentity":{"type":"matchRepoDigestOrExact"}}]}}}'
            $policy = [Containers.Core.Policy.SignaturePolicy]::Parse($json, 'policy.json', $null)
            $sigs = Get-SigstoreSignatures $anon.Host $Repository $Digest
            return $policy.Evaluate($Reference, $Digest, $sigs)
        }
    }

    It 'accepts a signature made by openssl, fetched from the .sig tag' {
        Publish-SigstoreSignatures $anon.Host $repo $digest @(New-OpenSslSignature $ref.ToString() $digest.ToString())
        $e = Test-Policy (Join-Path $keys 'openssl.pub')
        $e.Allowed | Should -BeTrue
        $e.Results[0].Reason | Should -Match 'signed by'
    }

    It 'refuses the same signature under another key, with the reason' {
        $e = Test-Policy (Join-Path $keys 'other.pub')
        $e.Allowed | Should -BeFalse
        $e.Results[0].Reason | Should -Match 'does not verify'
    }

    It 'refuses a signature for another manifest digest' {
        $wrong = [Containers.Core.Spec.Digest]::Sha256([byte[]](1, 2, 3))
        Publish-SigstoreSignatures $anon.Host $repo $digest @(New-OpenSslSignature $ref.ToString() $wrong.ToString())
        (Test-Policy (Join-Path $keys 'openssl.pub')).Results[0].Reason | Should -Match 'is for manifest'
    }

    It 'refuses a signature for another identity' {
        Publish-SigstoreSignatures $anon.Host $repo $digest @(New-OpenSslSignature "$($anon.Host)/evil/app:1" $digest.ToString())
        (Test-Policy (Join-Path $keys 'openssl.pub')).Results[0].Reason | Should -Match 'does not match'
    }

    It 'refuses a tampered payload' {
        $good = New-OpenSslSignature $ref.ToString() $digest.ToString()
        $tampered = [Text.Encoding]::UTF8.GetBytes([Text.Encoding]::UTF8.GetString($good.Payload).Replace('signed/app:1', 'signed/app:2'))
        Publish-SigstoreSignatures $anon.Host $repo $digest @([Containers.Core.Policy.SigstoreSignature]::new($tampered, $good.Signature))
        (Test-Policy (Join-Path $keys 'openssl.pub')).Results[0].Reason | Should -Match 'does not verify'
    }

    It 'refuses an image with no signature' {
        Copy-ToRegistry $image "$($anon.Host)/unsigned/app:1"
        $d = Get-ManifestDigest $anon.Host 'unsigned/app' 1
        $e = Test-Policy (Join-Path $keys 'openssl.pub') $d 'unsigned/app' ([Containers.Core.Spec.ImageReference]::Parse("$($anon.Host)/unsigned/app:1"))
        $e.Results[0].Reason | Should -Match 'has none'
        $policy = [Containers.Core.Policy.SignaturePolicy]::Parse('{"default":[{"type":"sigstoreSigned","keyPath":"' + (Join-Path $keys 'openssl.pub') + '"}]}', 'p', $null)
        $thrown = $null
        try { $policy.EnsureAccepted($ref, $d, [Containers.Core.Policy.SigstoreSignature[]]@()) } catch { $thrown = $_.Exception.InnerException }
        $thrown.ErrorId | Should -Be 'SignatureRejected'
        $thrown.Message | Should -Match 'has none'
    }

    It 'signs with our own key in a form openssl verifies' {
        $key = [Containers.Core.Policy.SigningKey]::Load((Join-Path $keys 'ours.key'), 'pw')
        $sig = [Containers.Core.Policy.SigstoreSigner]::Sign($key, $ref, $digest, 'tests')
        Publish-SigstoreSignatures $anon.Host $repo $digest @($sig)
        (Test-Policy (Join-Path $keys 'ours.pub')).Allowed | Should -BeTrue
        [IO.File]::WriteAllBytes((Join-Path $keys 'ours.payload'), $sig.Payload)
        [IO.File]::WriteAllBytes((Join-Path $keys 'ours.sig'), [Convert]::FromBase64String($sig.Signature))
        $out = & openssl dgst -sha256 -verify (Join-Path $keys 'ours.pub') -signature (Join-Path $keys 'ours.sig') (Join-Path $keys 'ours.payload') 2>&1
        "$out" | Should -Match 'Verified OK'
    }

    It 'writes an encrypted private key with mode 0600 and refuses a wrong passphrase' {
        (Get-Item (Join-Path $keys 'ours.key')).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
        Get-Content (Join-Path $keys 'ours.key') -Raw | Should -Match 'BEGIN ENCRYPTED SIGSTORE PRIVATE KEY'
        { [Containers.Core.Policy.SigningKey]::Load((Join-Path $keys 'ours.key'), 'nope') } | Should -Throw '*passphrase*'
    }
}

Describe 'Test-ContainerImage and Add-ContainerImageSignature against a registry' {
    BeforeAll {
        Set-RegistryPolicy -Registry $anon.Host -Insecure -Scope System
        $script:policyFile = Join-Path $env:PSCONTAINERS_CONFIG_DIR 'policy.json'
        $script:tkeys = Join-Path $root 'tkeys'
        $pass = ConvertTo-SecureString 'pw' -AsPlainText -Force
        New-ContainerSigningKey -Path (Join-Path $tkeys 'release') -Passphrase $pass -Algorithm Ed25519 | Out-Null
        New-ContainerSigningKey -Path (Join-Path $tkeys 'stranger') -Passphrase $pass | Out-Null
        $script:pass = $pass
        Copy-ToRegistry $image "$($anon.Host)/trust/app:1"
        function script:Set-Policy([string] $PubKey) {
            '{"default":[{"type":"reject"}],"transports":{"docker":{"' + $anon.Host + '/trust":[{"type":"sigstoreSigned","keyPath":"' + $PubKey + '","signedIdentity":{"type":"matchRepository"}}]}}}' |
                Set-Content $policyFile
        }
    }
    AfterAll {
        Remove-Item $conf -ErrorAction SilentlyContinue
        Set-Content $policyFile '{"default":[{"type":"insecureAcceptAnything"}]}'
    }

    It 'reports a missing signature as a failed requirement with its reason' {
        Set-Policy (Join-Path $tkeys 'release.pub')
        $e = Test-ContainerImage "$($anon.Host)/trust/app:1"
        $e.Allowed | Should -BeFalse
        $e.Scope | Should -Be "transports.docker[`"$($anon.Host)/trust`"]"
        $e.Results[0].Reason | Should -Match 'has none'
    }

    It 'accepts the image once signed with the trusted key, and refuses it under another key' {
        Add-ContainerImageSignature -Reference "$($anon.Host)/trust/app:1" -KeyPath (Join-Path $tkeys 'release.key') -Passphrase $pass
        $e = Test-ContainerImage "$($anon.Host)/trust/app:1"
        $e.Allowed | Should -BeTrue
        $e.SignatureCount | Should -Be 1
        ($e | Out-String) | Should -Match 'pass sigstoreSigned'
        Set-Policy (Join-Path $tkeys 'stranger.pub')
        (Test-ContainerImage "$($anon.Host)/trust/app:1").Results[0].Reason | Should -Match 'does not verify'
    }

    It 'keeps earlier signatures when another is added' {
        Add-ContainerImageSignature -Reference "$($anon.Host)/trust/app:1" -KeyPath (Join-Path $tkeys 'stranger.key') -Passphrase $pass
        $e = Test-ContainerImage "$($anon.Host)/trust/app:1"
        $e.SignatureCount | Should -Be 2
        $e.Allowed | Should -BeTrue
    }

    It 'refuses a blocked registry before connecting' {
        Set-RegistryPolicy -Registry $anon.Host -Blocked -Scope System
        try { { Test-ContainerImage "$($anon.Host)/trust/app:1" -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryBlocked*' }
        finally { Set-RegistryPolicy -Registry $anon.Host -Blocked:$false -Scope System }
    }
}

Describe 'Test-ContainerImage on local images' {
    BeforeAll {
        Set-RegistryPolicy -Registry $anon.Host -Insecure -Scope System
        $script:policyFile = Join-Path $env:PSCONTAINERS_CONFIG_DIR 'policy.json'
        $script:lkeys = Join-Path $root 'lkeys'
        $pass = ConvertTo-SecureString 'pw' -AsPlainText -Force
        $script:release = New-ContainerSigningKey -Path (Join-Path $lkeys 'release') -Passphrase $pass
        $script:stranger = New-ContainerSigningKey -Path (Join-Path $lkeys 'stranger') -Passphrase $pass -Algorithm Ed25519
        $script:signedRef = "$($anon.Host)/local/signed:1"
        $script:unsignedRef = "$($anon.Host)/local/unsigned:1"
        Copy-ToRegistry $image $signedRef
        Copy-ToRegistry (New-TinyImage (Join-Path $root 'tiny2')) $unsignedRef
        Add-ContainerImageSignature -Reference $signedRef -KeyPath $release.PrivateKeyPath -Passphrase $pass
        $script:pass = $pass
        function script:Set-LocalPolicy([string] $Key) {
            Set-ContainerTrustPolicy -Default Reject
            Set-ContainerTrustPolicy -Registry "$($anon.Host)/local" -Requirement SigstoreSigned -KeyPath $Key -SignedIdentity MatchRepository
        }
    }
    AfterAll {
        Get-ContainerImage | Remove-ContainerImage -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-Item $conf -ErrorAction SilentlyContinue
        Set-Content $policyFile '{"default":[{"type":"insecureAcceptAnything"}]}'
    }

    It 'keeps the signatures the pull verified, and re-checks them with the registry blocked' {
        Set-LocalPolicy $release.PublicKeyPath
        $pulled = Install-ContainerImage $signedRef -ProgressAction SilentlyContinue
        $stored = Join-Path $env:PSCONTAINERS_DATA_DIR "images/signatures/sha256/$($pulled.Digest.Substring(7))"
        Test-Path $stored | Should -BeTrue
        Set-RegistryPolicy -Registry $anon.Host -Blocked -Scope System
        try {
            $e = Get-ContainerImage $signedRef | Test-ContainerImage
            $e.Allowed | Should -BeTrue
            $e.ImageId | Should -Be $pulled.Id
            $e.SignatureCount | Should -Be 1
            $e.SignatureSource | Should -Match 'stored at pull'
            $e.Results[0].Reason | Should -Match 'signed by'
            ($e | Out-String) | Should -Match 'pass sigstoreSigned'
        }
        finally { Set-RegistryPolicy -Registry $anon.Host -Blocked:$false -Scope System }
    }

    It 'fails with the reason when the policy trusts another key, or its key file is gone' {
        Set-LocalPolicy $stranger.PublicKeyPath
        $e = Test-ContainerImage -Local $signedRef -Offline
        $e.Allowed | Should -BeFalse
        $e.Results[0].Passed | Should -BeFalse
        $e.Results[0].Reason | Should -Match 'does not verify'
        $moved = Join-Path $lkeys 'moved.pub'
        Copy-Item $release.PublicKeyPath $moved
        Set-LocalPolicy $moved
        (Test-ContainerImage -Local $signedRef -Offline).Allowed | Should -BeTrue
        Remove-Item $moved
        $e = Test-ContainerImage -Local $signedRef -Offline
        $e.Allowed | Should -BeFalse
        $e.Results[0].Reason | Should -Match 'cannot be read'
    }

    It 'fails an unsigned local image under a sigstoreSigned policy, saying where it looked' {
        Set-ContainerTrustPolicy -Registry "$($anon.Host)/local" -Requirement InsecureAcceptAnything
        $pulled = Install-ContainerImage $unsignedRef -ProgressAction SilentlyContinue
        Set-LocalPolicy $release.PublicKeyPath
        $e = Test-ContainerImage -Local $pulled.Id.Substring(0, 12)
        $e.Allowed | Should -BeFalse
        $e.SignatureCount | Should -Be 0
        $e.Results[0].Reason | Should -Match 'has none'
        $e.SignatureSource | Should -Match ([regex]::Escape("$($anon.Host)/local/unsigned has none"))
        (Test-ContainerImage -Local $unsignedRef -Offline).Results[0].Reason | Should -Match 'Offline'
    }

    It 'finds signatures added in the registry after the pull' {
        Add-ContainerImageSignature -Reference $unsignedRef -KeyPath $release.PrivateKeyPath -Passphrase $pass
        $e = Test-ContainerImage -Local $unsignedRef
        $e.Allowed | Should -BeTrue
        $e.SignatureSource | Should -Be "registry $($anon.Host)/local/unsigned"
        (Test-ContainerImage -Local $unsignedRef -Offline).Allowed | Should -BeFalse
    }

    It 'reports a local name that matches nothing as ImageNotFound' {
        { Test-ContainerImage -Local "$($anon.Host)/local/nothing:1" -ErrorAction Stop } | Should -Throw -ErrorId 'ImageNotFound*'
    }

    It 'drops the stored signatures with the image' {
        $img = Get-ContainerImage $signedRef
        $stored = Join-Path $env:PSCONTAINERS_DATA_DIR "images/signatures/sha256/$($img.Digest.Substring(7))"
        Test-Path $stored | Should -BeTrue
        Remove-ContainerImage $signedRef -Force -Confirm:$false
        Test-Path $stored | Should -BeFalse
    }
}

Describe 'A missing policy.json, and the policy files Set-ContainerTrustPolicy writes' {
    BeforeAll {
        Set-RegistryPolicy -Registry $anon.Host -Insecure -Scope System
        $script:policyFile = Join-Path $env:PSCONTAINERS_CONFIG_DIR 'policy.json'
        $script:ref = "$($anon.Host)/team/app:1"
        function script:Skopeo-Copy([string] $Policy) {
            $dest = Join-Path $root ('copy-' + [guid]::NewGuid().ToString('N').Substring(0, 6))
            Invoke-Peer skopeo @('--policy', $Policy, '--registries-conf', $conf, 'copy', "docker://$ref", "dir:$dest")
        }
    }
    AfterAll {
        Get-ContainerImage | Remove-ContainerImage -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-Item $conf -ErrorAction SilentlyContinue
        Set-Content $policyFile '{"default":[{"type":"insecureAcceptAnything"}]}'
    }

    It 'refuses to pull without one, as skopeo does, naming where it looked and what to do' {
        Remove-Item $policyFile
        $skopeo = Skopeo-Copy $policyFile
        $skopeo.ExitCode | Should -Not -Be 0
        $skopeo.Output | Should -Match 'trust policy.*no such file'
        $err = { Install-ContainerImage $ref -ErrorAction Stop } | Should -Throw -ErrorId 'PolicyJsonNotFound*' -PassThru
        $err.Exception.Message | Should -Match ([regex]::Escape($policyFile))
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.ErrorDetails.RecommendedAction + $err.Exception.Message | Should -Match 'Set-ContainerTrustPolicy'
        { Test-ContainerImage $ref -ErrorAction Stop } | Should -Throw -ErrorId 'PolicyJsonNotFound*'
        Get-ContainerImage | Should -BeNullOrEmpty
    }

    It 'creates a policy skopeo reads, and then both pull' {
        { Set-ContainerTrustPolicy -Registry $anon.Host -Requirement Reject -ErrorAction Stop } | Should -Throw -ErrorId 'PolicyDefaultRequired*'
        Test-Path $policyFile | Should -BeFalse
        Set-ContainerTrustPolicy -Default InsecureAcceptAnything -WhatIf
        Test-Path $policyFile | Should -BeFalse
        Set-ContainerTrustPolicy -Default InsecureAcceptAnything
        (Get-Content $policyFile -Raw | ConvertFrom-Json -AsHashtable).Keys | Should -Be @('default')
        (Skopeo-Copy $policyFile).ExitCode | Should -Be 0
        (Install-ContainerImage $ref -ProgressAction SilentlyContinue).Names | Should -Contain $ref
    }

    It 'writes a reject scope and a sigstoreSigned scope that skopeo parses and obeys like the module' {
        $key = New-ContainerSigningKey -Path (Join-Path $root 'skey/k') -Passphrase (ConvertTo-SecureString 'pw' -AsPlainText -Force)
        Set-ContainerTrustPolicy -Registry "$($anon.Host)/elsewhere" -Requirement SigstoreSigned -KeyPath $key.PublicKeyPath
        Set-ContainerTrustPolicy -Registry "$($anon.Host)/team" -Requirement Reject
        $written = Get-Content $policyFile -Raw | ConvertFrom-Json -AsHashtable
        $written.transports.docker["$($anon.Host)/elsewhere"][0].Keys | Sort-Object | Should -Be @('keyPath', 'type')
        $skopeo = Skopeo-Copy $policyFile
        $skopeo.ExitCode | Should -Not -Be 0
        $skopeo.Output | Should -Match 'rejected'
        { Install-ContainerImage $ref -ErrorAction Stop } | Should -Throw -ErrorId 'SignatureRejected*'
        Set-ContainerTrustPolicy -Registry "$($anon.Host)/team" -Requirement InsecureAcceptAnything
        (Skopeo-Copy $policyFile).ExitCode | Should -Be 0
    }

    It 'removes a scope, after which the broader rule decides for skopeo and the module alike' {
        Set-ContainerTrustPolicy -Registry "$($anon.Host)/team" -Requirement Reject
        (Skopeo-Copy $policyFile).ExitCode | Should -Not -Be 0
        Remove-ContainerTrustPolicy -Registry "$($anon.Host)/team" -WhatIf
        (Get-Content $policyFile -Raw) | Should -Match ([regex]::Escape("$($anon.Host)/team"))
        Remove-ContainerTrustPolicy -Registry "$($anon.Host)/team", 'never.example' -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'TrustScopeNotFound*'
        (Get-Content $policyFile -Raw) | Should -Not -Match ([regex]::Escape("$($anon.Host)/team"))
        (Skopeo-Copy $policyFile).ExitCode | Should -Be 0
        (Test-ContainerImage $ref).Allowed | Should -BeTrue
    }

    It 'refuses a key it cannot use and leaves the file as it was' {
        $before = Get-Content $policyFile -Raw
        { Set-ContainerTrustPolicy -Registry x.example -Requirement SigstoreSigned -KeyPath (Join-Path $root 'none.pub') -ErrorAction Stop } | Should -Throw -ErrorId 'TrustKeyUnusable*'
        { Set-ContainerTrustPolicy -Registry x.example -Requirement SigstoreSigned -ErrorAction Stop } | Should -Throw -ErrorId 'TrustKeyRequired*'
        Get-Content $policyFile -Raw | Should -Be $before
    }
}

Describe 'Get-ContainerTrustPolicy reads back the policy Set-ContainerTrustPolicy writes' {
    BeforeAll {
        $script:policyFile = Join-Path $env:PSCONTAINERS_CONFIG_DIR 'policy.json'
        $script:trustKey = New-ContainerSigningKey -Path (Join-Path $root 'getkey/k') -Passphrase (ConvertTo-SecureString 'pw' -AsPlainText -Force)
        function script:Write-TestTrustPolicy {
            Remove-Item $policyFile -ErrorAction SilentlyContinue
            Set-ContainerTrustPolicy -Default Reject
            Set-ContainerTrustPolicy -Registry trust.example/team -Requirement Reject
            Set-ContainerTrustPolicy -Registry trust.example/signed -Requirement SigstoreSigned -KeyPath $trustKey.PublicKeyPath -SignedIdentity MatchRepository
            Set-ContainerTrustPolicy -Registry '*.open.example' -Requirement InsecureAcceptAnything
        }
    }
    BeforeEach { Write-TestTrustPolicy }
    AfterAll { Set-Content $policyFile '{"default":[{"type":"insecureAcceptAnything"}]}' }

    It 'writes the default first, then every docker scope with its key and signed identity' {
        $all = @(Get-ContainerTrustPolicy)
        $all.Scope | Should -Be @('default', '*.open.example', 'trust.example/signed', 'trust.example/team')
        $all.Requirement | Should -Be @('reject', 'insecureAcceptAnything', 'sigstoreSigned', 'reject')
        $all.Transport | Should -Be @('', 'docker', 'docker', 'docker')
        $all[0].Registry | Should -BeNullOrEmpty
        $all.Path | Sort-Object -Unique | Should -Be $policyFile
        $signed = $all | Where-Object Scope -eq 'trust.example/signed'
        $signed.Registry | Should -Be 'trust.example/signed'
        $signed.KeyPath | Should -Be $trustKey.PublicKeyPath
        $signed.KeyData | Should -BeFalse
        $signed.SignedIdentity | Should -Be 'matchRepository'
        $signed.Problem | Should -BeNullOrEmpty
        ($all | Where-Object Scope -eq 'trust.example/team').KeyPath | Should -BeNullOrEmpty
        @(Get-ContainerTrustPolicy -Scope System).Count | Should -Be 4
    }

    It 'lists the same scopes and requirements as podman image trust show' -Skip:(-not (Get-Command podman -ErrorAction SilentlyContinue)) {
        $store = Join-Path '/tmp' ('psctrust-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        try {
            $json = & podman --root "$store/root" --runroot "$store/run" --tmpdir "$store/tmp" --storage-driver vfs --events-backend file --cgroup-manager cgroupfs image trust show --policypath $policyFile --json 2>$null
            $LASTEXITCODE | Should -Be 0
            $podman = $json | ConvertFrom-Json
        }
        finally { Remove-Item $store -Recurse -Force -ErrorAction SilentlyContinue }
        $types = @{ accept = 'insecureAcceptAnything'; reject = 'reject'; sigstoreSigned = 'sigstoreSigned'; signedBy = 'signedBy' }
        $ours = Get-ContainerTrustPolicy | ForEach-Object { "$($_.Scope)=$($_.Requirement)" }
        $ours | Should -Be @($podman | ForEach-Object { "$($_.repo_name)=$($types[$_.type] ?? $_.type)" })
    }

    It 'filters scopes by wildcard, and reports a literal scope that is not there' {
        (Get-ContainerTrustPolicy -Registry 'trust.example/*').Scope | Should -Be @('trust.example/signed', 'trust.example/team')
        (Get-ContainerTrustPolicy 'TRUST.example/t*', 'default').Scope | Should -Be @('trust.example/team', 'default')
        Get-ContainerTrustPolicy 'nothing.example*' -ErrorVariable none | Should -BeNullOrEmpty
        $none | Should -BeNullOrEmpty
        $found = Get-ContainerTrustPolicy 'never.example', '*.open.example' -ErrorVariable e -ErrorAction SilentlyContinue
        $found.Scope | Should -Be '*.open.example'
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'TrustScopeNotFound*'
        $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'pipes scopes into Remove-ContainerTrustPolicy by property name, and the default is refused' {
        $before = Get-Content $policyFile -Raw
        Get-ContainerTrustPolicy trust.example/team | Remove-ContainerTrustPolicy -WhatIf
        Get-Content $policyFile -Raw | Should -Be $before
        Get-ContainerTrustPolicy default | Remove-ContainerTrustPolicy -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'TrustDefaultNotRemovable*'
        Get-Content $policyFile -Raw | Should -Be $before
        Get-ContainerTrustPolicy trust.example/team | Remove-ContainerTrustPolicy
        (Get-ContainerTrustPolicy).Scope | Should -Be @('default', '*.open.example', 'trust.example/signed')
        (Get-Content $policyFile -Raw | ConvertFrom-Json -AsHashtable).transports.docker.Keys | Sort-Object | Should -Be @('*.open.example', 'trust.example/signed')
    }

    It 'stops with PolicyJsonNotFound when there is no policy.json' {
        Remove-Item $policyFile
        $err = { Get-ContainerTrustPolicy -ErrorAction SilentlyContinue } | Should -Throw -ErrorId 'PolicyJsonNotFound*' -PassThru
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.Exception.Message | Should -Match ([regex]::Escape($policyFile))
    }

    It 'shows a table of scope, requirement, key and signed identity' {
        $table = Get-ContainerTrustPolicy | Out-String -Width 400
        $table | Should -Match 'Scope\s+Requirement\s+Key\s+SignedIdentity'
        $table | Should -Match ('trust\.example/signed\s+sigstoreSigned\s+' + [regex]::Escape($trustKey.PublicKeyPath) + '\s+matchRepository')
        $table | Should -Match 'default\s+reject'
    }

    It 'completes -Registry with the scopes of the policy' {
        $line = 'Get-ContainerTrustPolicy trust.example/s'
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Be @('trust.example/signed')
        $line = 'Remove-ContainerTrustPolicy *.op'
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Be @("'*.open.example'")
    }
}

Describe 'CONTAINERS_REGISTRIES_CONF and the user drop-in folder, as containers/image reads them' {
    BeforeAll {
        $script:home2 = Join-Path $root 'home2'
        $dropIns = Join-Path $home2 '.config/containers/registries.conf.d'
        New-Item -ItemType Directory $dropIns -Force | Out-Null
        '{"default":[{"type":"insecureAcceptAnything"}]}' | Set-Content (Join-Path $home2 '.config/containers/policy.json')
        $script:override = Join-Path $root 'override.conf'
        'unqualified-search-registries = []' | Set-Content $override
        $script:dropIn = Join-Path $dropIns '50-block.conf'
        @('[[registry]]', "prefix = `"$($anon.Host)/team`"", "location = `"$($anon.Host)/team`"", 'insecure = true', 'blocked = true') | Set-Content $dropIn
        $script:saved = @{ HOME = $env:HOME; PSCONTAINERS_CONFIG_DIR = $env:PSCONTAINERS_CONFIG_DIR; CONTAINERS_REGISTRIES_CONF = $env:CONTAINERS_REGISTRIES_CONF }
    }
    AfterEach { foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) } }

    It 'still reads ~/.config/containers/registries.conf.d, like skopeo with --registries-conf' {
        $r = Invoke-Peer env @("HOME=$home2", 'skopeo', '--registries-conf', $override, 'inspect', "docker://$($anon.Host)/team/app:1")
        $r.ExitCode | Should -Not -Be 0
        $r.Output | Should -Match 'is blocked'
        $env:HOME = $home2; $env:PSCONTAINERS_CONFIG_DIR = $null; $env:CONTAINERS_REGISTRIES_CONF = $override
        $policy = Get-RegistryPolicy
        $policy.Files | Should -Contain $override
        $policy.Files | Should -Contain $dropIn
        (Get-RegistryPolicy -Image "$($anon.Host)/team/app:1").Blocked | Should -BeTrue
        { Test-ContainerImage "$($anon.Host)/team/app:1" -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryBlocked*'
    }

    It 'lets a user registries.conf replace the system file but not the user drop-ins, when there is no override' {
        $userConf = Join-Path $home2 '.config/containers/registries.conf'
        'unqualified-search-registries = []' | Set-Content $userConf
        try {
            $r = Invoke-Peer env @("HOME=$home2", 'skopeo', 'inspect', "docker://$($anon.Host)/team/app:1")
            $r.Output | Should -Match 'is blocked'
            $env:HOME = $home2; $env:PSCONTAINERS_CONFIG_DIR = $null; $env:CONTAINERS_REGISTRIES_CONF = $null
            (Get-RegistryPolicy).Files | Should -Be @($userConf, $dropIn)
            (Get-RegistryPolicy -Image "$($anon.Host)/team/app:1").Blocked | Should -BeTrue
        }
        finally { Remove-Item $userConf }
    }
}

Describe 'Set-RegistryPolicy and Remove-RegistryPolicy on a named drop-in file' {
    BeforeAll {
        # The user's drop-in folder is one skopeo reads too (it has no flag for the system folder).
        $script:home3 = Join-Path $root 'home3'
        New-Item -ItemType Directory (Join-Path $home3 '.config/containers') -Force | Out-Null
        '{"default":[{"type":"insecureAcceptAnything"}]}' | Set-Content (Join-Path $home3 '.config/containers/policy.json')
        $script:override3 = Join-Path $root 'override3.conf'
        @('# the main file', "[[registry]]", "location = `"$($anon.Host)`"", 'insecure = true') | Set-Content $override3
        $script:dropIn3 = Join-Path $home3 '.config/containers/registries.conf.d/50-team.conf'
        $script:saved3 = @{ HOME = $env:HOME; PSCONTAINERS_CONFIG_DIR = $env:PSCONTAINERS_CONFIG_DIR; CONTAINERS_REGISTRIES_CONF = $env:CONTAINERS_REGISTRIES_CONF }
        function script:Skopeo-Team {
            Invoke-Peer env @("HOME=$home3", 'skopeo', '--registries-conf', $override3, 'inspect', '--no-tags', "docker://$($anon.Host)/team/app:1")
        }
    }
    BeforeEach { $env:HOME = $home3; $env:PSCONTAINERS_CONFIG_DIR = $null; $env:CONTAINERS_REGISTRIES_CONF = $override3 }
    AfterEach { foreach ($k in $saved3.Keys) { [Environment]::SetEnvironmentVariable($k, $saved3[$k]) } }

    It 'owns one drop-in: blocks through it, keeps its comments, and never touches the main file' {
        $main = Get-Content $override3 -Raw
        (Skopeo-Team).ExitCode | Should -Be 0
        Set-RegistryPolicy -Registry "$($anon.Host)/team" -Location "$($anon.Host)/team" -Insecure -Blocked -DropIn 50-team -Scope User
        Test-Path $dropIn3 | Should -BeTrue
        (Skopeo-Team).Output | Should -Match 'is blocked'
        (Get-RegistryPolicy -Image "$($anon.Host)/team/app:1").BlockedReason | Should -Match ([regex]::Escape($dropIn3))
        Set-Content $dropIn3 (@('# owned by configuration management') + (Get-Content $dropIn3))
        Set-RegistryPolicy -Registry "$($anon.Host)/team" -Blocked:$false -DropIn 50-team -Scope User
        (Get-Content $dropIn3)[0] | Should -Be '# owned by configuration management'
        (Skopeo-Team).ExitCode | Should -Be 0
        (Get-RegistryPolicy -Image "$($anon.Host)/team/app:1").Blocked | Should -BeFalse
        Remove-RegistryPolicy -Registry "$($anon.Host)/team" -DropIn 50-team -Scope User
        Get-Content $dropIn3 -Raw | Should -Not -Match 'prefix'
        Get-Content $dropIn3 -Raw | Should -Match '# owned by configuration management'
        (Get-RegistryPolicy -Registry "$($anon.Host)/team" -ErrorAction SilentlyContinue) | Should -BeNullOrEmpty
        Get-Content $override3 -Raw | Should -Be $main
    }

    It 'edits an explicit -Path, refuses it with -DropIn, and warns about a file nothing reads' {
        $other = Join-Path $root 'other.conf'
        Set-RegistryPolicy -Path $other -SearchRegistries $anon.Host -WarningVariable w -WarningAction SilentlyContinue
        Get-Content $other -Raw | Should -Match 'unqualified-search-registries'
        "$w" | Should -Match 'not among the files read'
        { Set-RegistryPolicy -Path $other -DropIn 10-x -SearchRegistries a.example -ErrorAction Stop } | Should -Throw -ErrorId 'PolicyTargetConflict*'
        { Set-RegistryPolicy -DropIn ../x -SearchRegistries a.example -ErrorAction Stop } | Should -Throw -ErrorId 'DropInNameInvalid*'
    }
}
