# -Pull on New-Container and Invoke-ContainerImage (podman's --pull): against the fixture registries,
# with registries.conf and policy.json applied exactly as Install-ContainerImage applies them.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/Registry.psm1') -Force
    $script:root = New-TestRoot -Name pull
    $script:fx = Start-TestRegistry -ConfigDir $env:PSCONTAINERS_CONFIG_DIR
    Import-Module (Get-TestModulePath) -Force
    $script:A = $fx.Anonymous.Host
    $script:ref = "$A/busybox:latest"
    $script:storeN = 0
    $script:policy = Join-Path $env:PSCONTAINERS_CONFIG_DIR 'policy.json'

    function script:New-Store {
        $script:storeN++
        $env:PSCONTAINERS_DATA_DIR = Join-Path $script:root "data-$script:storeN"
        New-Item -ItemType Directory -Path $env:PSCONTAINERS_DATA_DIR -Force | Out-Null
    }
    function script:Block-Registry([string] $HostPort) {
        $conf = Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf'
        (Get-Content $conf -Raw) -replace "location = `"$HostPort`"", "location = `"$HostPort`"`nblocked = true" | Set-Content $conf
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Stop-TestRegistry
    Remove-TestRoot $script:root
}

Describe 'New-Container -Pull' {
    BeforeEach {
        New-Store
        Write-TestRegistryConfig -ConfigDir $env:PSCONTAINERS_CONFIG_DIR
        Set-Content $policy '{"default":[{"type":"insecureAcceptAnything"}]}'
    }
    AfterEach { Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue }

    It 'pulls an image that is not in the store by default (Missing)' {
        $c = New-Container $ref -Name pulled -Command true -ProgressAction SilentlyContinue
        $c.Image | Should -Be $ref
        (Get-ContainerImage $ref).Name | Should -Be $ref
    }

    It 'does not pull with -Pull Never' {
        { New-Container $ref -Pull Never -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'ImageNotFound*'
        Get-ContainerImage | Should -BeNullOrEmpty
    }

    It 'asks no registry for a stored image with Missing, and asks again with Always' {
        Install-ContainerImage $ref -ProgressAction SilentlyContinue | Out-Null
        Block-Registry $A   # a blocked registry is refused before any connection: proof of who was asked
        (New-Container $ref -Command true).Image | Should -Be $ref
        { New-Container $ref -Pull Always -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryBlocked*'
        { New-Container $ref -Pull Newer -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryBlocked*'
    }

    It 'keeps the stored image with Newer when the registry cannot be reached, and says so' {
        Install-ContainerImage $ref -ProgressAction SilentlyContinue | Out-Null
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $listener.Start()
        $gone = "127.0.0.1:$($listener.LocalEndpoint.Port)"; $listener.Stop()   # nothing listens there now
        Add-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf') "[[registry]]`nlocation = `"$gone`"`ninsecure = true"
        Add-ContainerImageTag -Image $ref -Tag "$gone/busybox:1"
        $c = New-Container "$gone/busybox:1" -Pull Newer -Command true -WarningVariable w -WarningAction SilentlyContinue
        $c.Image | Should -Be "$gone/busybox:1"
        $w | Should -Match "^Using the stored $([regex]::Escape("$gone/busybox:1"))"
        { New-Container "$gone/busybox:1" -Pull Always -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'RegistryConnectionRefused*'
    }

    It 'applies policy.json as Install-ContainerImage does' {
        Set-Content $policy '{"default":[{"type":"reject"}]}'
        { New-Container $ref -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'SignatureRejected*'
        Get-ContainerImage | Should -BeNullOrEmpty
        Get-Container | Should -BeNullOrEmpty
    }

    It 'shows a progress bar while it pulls' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$((Get-TestModulePath))'; New-Container '$ref' -Name progress -Pull Always -Command true | Out-Null")
            $null = $ps.Invoke()
            $ps.Streams.Progress.Activity | Should -Contain 'New-Container'
        }
        finally { $ps.Dispose() }
    }
}

Describe 'Invoke-ContainerImage -Pull' {
    BeforeEach { New-Store; Write-TestRegistryConfig -ConfigDir $env:PSCONTAINERS_CONFIG_DIR -SearchRegistries $A }

    It 'pulls a short name through the search registries and runs it' {
        Invoke-ContainerImage busybox -Remove -Command echo, pulled-and-ran -ProgressAction SilentlyContinue | Should -Be 'pulled-and-ran'
        $LASTEXITCODE | Should -Be 0
        (Get-ContainerImage).Name | Should -Be $ref
    }
}
