# Hostile registries on loopback, run by the tests themselves (ScriptedServer in Fixtures/HostileServers.cs):
# where a registry's credential may go, which token services may be asked, how much of a body is read,
# and that a registry host is the same registry whatever its spelling.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/Registry.psm1') -Force
    $script:root = New-TestRoot -Name hostile
    $script:fx = Start-TestRegistry -ConfigDir $env:PSCONTAINERS_CONFIG_DIR
    Import-Module (Get-TestModulePath) -Force
    $script:servers = [System.Collections.Generic.List[object]]::new()

    function script:New-Server([switch] $Tls) {
        $s = [PSContainersFixture.ScriptedServer]::new([bool] $Tls)
        $script:servers.Add($s)
        return $s
    }

    function script:Set-Registries([string[]] $Insecure = @(), [string[]] $Search = @(), [string[]] $Extra = @()) {
        # Only what the test names: no auth.json entry for any scripted server.
        $quoted = ($Search | ForEach-Object { '"' + $_ + '"' }) -join ', '
        $lines = @("unqualified-search-registries = [$quoted]", '')
        foreach ($h in $Insecure) { $lines += '[[registry]]', "location = `"$h`"", 'insecure = true', '' }
        ($lines + $Extra) | Set-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf')
    }

    function script:Add-Challenge($Server, [string] $Challenge) {
        $r = $Server.Add('/v2/', 401)
        $r.Headers['WWW-Authenticate'] = $Challenge
        return $r
    }
}

AfterAll {
    foreach ($s in $script:servers) { $s.Dispose() }
    Stop-TestRegistry
    Remove-TestRoot $script:root
}

Describe 'A registry credential goes to that registry and its own token service only' {
    BeforeEach {
        $env:PSCONTAINERS_DATA_DIR = Join-Path $script:root "data-$([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-Item -ItemType Directory $env:PSCONTAINERS_DATA_DIR | Out-Null
        Set-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'policy.json') '{"default":[{"type":"insecureAcceptAnything"}]}'
    }

    It 'ignores a 401 from the host a registry redirected to, whose realm names a third host' {
        $recorder = New-Server
        $null = $recorder.Add('/token', 200, '{"token":"stolen"}')
        $other = New-Server
        $null = Add-Challenge $other "Bearer realm=`"http://$($recorder.Host)/token`",service=`"evil`""
        $registry = New-Server
        $redirect = $registry.Add('/v2/', 307)
        $redirect.Headers['Location'] = "http://$($other.Host)/v2/app/manifests/latest"
        Set-Registries -Insecure $registry.Host, $other.Host, $recorder.Host

        { Install-ContainerImage "$($registry.Host)/app:latest" -Credential $fx.Credential -ErrorAction Stop } |
            Should -Throw -ErrorId 'RegistryForeignChallenge*'
        @($other.Requests).Count | Should -BeGreaterThan 0
        @($recorder.Requests) | Should -BeNullOrEmpty
        @($recorder.Authorization) | Should -BeNullOrEmpty
        @($other.Authorization) | Should -BeNullOrEmpty
    }

    It 'refuses a plain-HTTP token realm for a registry it speaks TLS to (<Name>)' -ForEach @(
        @{ Name = 'pull' }
        @{ Name = 'login check' }
    ) {
        $recorder = New-Server
        $null = $recorder.Add('/token', 200, '{"token":"stolen"}')
        $registry = New-Server -Tls
        $null = Add-Challenge $registry "Bearer realm=`"http://$($recorder.Host)/token`",service=`"svc`""
        # insecure lets the registry's own certificate go unchecked; it is still spoken to over TLS
        Set-Registries -Insecure $registry.Host
        $action = if ($Name -eq 'pull') { { Install-ContainerImage "$($registry.Host)/app:latest" -Credential $fx.Credential -ErrorAction Stop } }
        else { { Connect-ContainerRegistry -Registry $registry.Host -Credential $fx.Credential -ErrorAction Stop } }

        $action | Should -Throw -ErrorId 'RegistryInsecureTokenRealm*'
        @($registry.Requests).Count | Should -BeGreaterThan 0
        @($recorder.Requests) | Should -BeNullOrEmpty
        @($registry.Authorization) | Should -BeNullOrEmpty
    }

    It 'checks the token service''s certificate normally even for an insecure registry (<Name>)' -ForEach @(
        @{ Name = 'pull' }
        @{ Name = 'login check' }
    ) {
        $realm = New-Server -Tls   # self-signed: no CA vouches for it
        $null = $realm.Add('/token', 200, '{"token":"stolen"}')
        $registry = New-Server
        $null = Add-Challenge $registry "Bearer realm=`"https://$($realm.Host)/token`",service=`"svc`""
        Set-Registries -Insecure $registry.Host
        $action = if ($Name -eq 'pull') { { Install-ContainerImage "$($registry.Host)/app:latest" -Credential $fx.Credential -ErrorAction Stop } }
        else { { Connect-ContainerRegistry -Registry $registry.Host -Credential $fx.Credential -ErrorAction Stop } }

        $action | Should -Throw -ErrorId 'RegistryTlsFailure*'
        @($realm.Requests) | Should -BeNullOrEmpty
        @($realm.Authorization) | Should -BeNullOrEmpty
    }

    It 'sends -Credential with a short name to the registry the name resolves to, not to every search registry' {
        $first = New-Server
        # the first search registry asks for a login, then has no such image; the second asks for one too
        $challenge = $first.Add('/v2/', 401, '', $false, $false)
        $challenge.Headers['WWW-Authenticate'] = 'Basic realm="first"'
        $second = New-Server
        $null = Add-Challenge $second 'Basic realm="second"'
        Set-Registries -Insecure $first.Host, $second.Host -Search $first.Host, $second.Host

        { Install-ContainerImage 'app:latest' -Credential $fx.Credential -ErrorAction Stop } | Should -Throw
        @($first.Authorization | Where-Object { $_ -like 'Basic *' }).Count | Should -BeGreaterThan 0
        @($second.Requests | Where-Object { $_ -like 'GET /v2/app/manifests/*' }).Count | Should -BeGreaterThan 0
        @($second.Authorization) | Should -BeNullOrEmpty
    }
}

Describe 'Bodies a registry sends are read with a limit' {
    BeforeEach {
        $env:PSCONTAINERS_DATA_DIR = Join-Path $script:root "data-$([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-Item -ItemType Directory $env:PSCONTAINERS_DATA_DIR | Out-Null
    }

    It 'stops reading an endless token response' {
        $realm = New-Server
        $null = $realm.Add('/token', 200, '', $true)
        $registry = New-Server
        $null = Add-Challenge $registry "Bearer realm=`"http://$($realm.Host)/token`""
        Set-Registries -Insecure $registry.Host, $realm.Host
        { Install-ContainerImage "$($registry.Host)/app:latest" -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryResponseTooLarge*'
        @($realm.Requests).Count | Should -Be 1
    }

    It 'stops reading an endless error body' {
        $registry = New-Server
        $null = $registry.Add('/v2/app/manifests/', 404, '', $true)
        Set-Registries -Insecure $registry.Host
        { Install-ContainerImage "$($registry.Host)/app:latest" -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryResponseTooLarge*'
    }
}

Describe 'A registry host is the same registry in any case' {
    BeforeEach {
        $env:PSCONTAINERS_DATA_DIR = Join-Path $script:root "data-$([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-Item -ItemType Directory $env:PSCONTAINERS_DATA_DIR | Out-Null
        $script:port = $fx.Anonymous.Port
    }

    It 'blocks <Name>' -ForEach @(
        @{ Name = 'an uppercase reference to a registry blocked in lowercase'; Reference = 'LOCALHOST:{0}/busybox:latest'; Blocked = 'localhost:{0}' }
        @{ Name = 'a lowercase reference to a registry blocked in mixed case'; Reference = 'localhost:{0}/busybox:latest'; Blocked = 'LocalHost:{0}' }
    ) {
        $registry = New-Server
        $ref = $Reference -f $registry.Port
        Set-Registries -Extra '[[registry]]', "location = `"$($Blocked -f $registry.Port)`"", 'blocked = true'
        { Install-ContainerImage $ref -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryBlocked*'
        @($registry.Requests) | Should -BeNullOrEmpty
    }

    It 'judges LOCALHOST:port by the policy.json scope of localhost:port, and pulls it as localhost:port when allowed' {
        Set-Registries -Insecure "localhost:$port"
        $policy = @{ default = @(@{ type = 'insecureAcceptAnything' }); transports = @{ docker = @{ "localhost:$port/busybox" = @(@{ type = 'reject' }) } } }
        $policy | ConvertTo-Json -Depth 6 | Set-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'policy.json')
        { Install-ContainerImage "LOCALHOST:$port/busybox:latest" -ErrorAction Stop } | Should -Throw -ErrorId 'SignatureRejected*'
        Get-ContainerImage | Should -BeNullOrEmpty

        Set-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'policy.json') '{"default":[{"type":"insecureAcceptAnything"}]}'
        (Install-ContainerImage "LOCALHOST:$port/busybox:latest" -ProgressAction SilentlyContinue).Names | Should -Contain "localhost:$port/busybox:latest"
    }

    It 'finds the auth.json login and binds -Credential whatever the spelling' {
        $registry = New-Server
        $null = Add-Challenge $registry 'Basic realm="r"'
        Set-Registries -Insecure $registry.Host.Replace('127.0.0.1', 'LOCALHOST')
        $auth = @{ auths = @{ "LocalHost:$($registry.Port)" = @{ auth = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('saved:secret')) } } }
        $authFile = Join-Path $script:root 'auth-case.json'
        $auth | ConvertTo-Json -Depth 4 | Set-Content $authFile
        $env:REGISTRY_AUTH_FILE, $saved = $authFile, $env:REGISTRY_AUTH_FILE
        try {
            { Install-ContainerImage "localhost:$($registry.Port)/app:latest" -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryAuthenticationFailed*'
            @($registry.Authorization) | Should -Contain ('Basic ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('saved:secret')))
        }
        finally { $env:REGISTRY_AUTH_FILE = $saved }
    }
}
