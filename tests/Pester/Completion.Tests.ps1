# Tab completion as a user meets it: TabExpansion2 against the built module, a real store and the
# fixture registries (tags are listed by the registry itself).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/Registry.psm1') -Force
    $script:root = New-TestRoot -Name completion
    $script:fx = Start-TestRegistry -ConfigDir $env:PSCONTAINERS_CONFIG_DIR
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:A = $fx.Anonymous.Host

    function script:Complete([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Stop-TestRegistry
    Remove-TestRoot $script:root
}

Describe 'Image names' {
    It 'completes stored images for <Line>' -ForEach @(
        @{ Line = 'New-Container -Image busy' }, @{ Line = 'New-Container busy' },
        @{ Line = 'Invoke-ContainerImage busy' }, @{ Line = 'Publish-ContainerImage busy' },
        @{ Line = 'Install-ContainerImage busy' }
    ) {
        Complete $Line | Should -Contain 'localhost/busybox:latest'
    }

    It 'completes the tags the registry lists after name:' {
        Write-TestRegistryConfig -ConfigDir $env:PSCONTAINERS_CONFIG_DIR
        $tags = Complete "Install-ContainerImage $A/busybox:"
        $tags | Should -Contain "$A/busybox:latest"
        $tags | Should -Contain "$A/busybox:docker"
        Complete "Install-ContainerImage $A/busybox:d" | Should -Be "$A/busybox:docker"
    }

    It 'completes tags of a short name through the search registries' {
        Write-TestRegistryConfig -ConfigDir $env:PSCONTAINERS_CONFIG_DIR -SearchRegistries $A
        try { Complete 'Install-ContainerImage busybox:do' | Should -Be 'busybox:docker' }
        finally { Write-TestRegistryConfig -ConfigDir $env:PSCONTAINERS_CONFIG_DIR }
    }

    It 'asks no blocked registry for tags' {
        Write-TestRegistryConfig -ConfigDir $env:PSCONTAINERS_CONFIG_DIR
        $conf = Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf'
        (Get-Content $conf -Raw) -replace "location = `"$A`"", "location = `"$A`"`nblocked = true" | Set-Content $conf
        try { Complete "Install-ContainerImage $A/busybox:" | Should -BeNullOrEmpty }
        finally { Write-TestRegistryConfig -ConfigDir $env:PSCONTAINERS_CONFIG_DIR }
    }

    It 'still completes local names when the registry accepts but never answers' {
        # A registry that hangs must not hang the prompt: the completer gives up after its short timeout.
        $silent = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $silent.Start()
        try {
            $hostPort = "127.0.0.1:$($silent.LocalEndpoint.Port)"
            Add-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'registries.conf') "[[registry]]`nlocation = `"$hostPort`"`ninsecure = true"
            Complete "Install-ContainerImage $hostPort/busybox:" | Should -BeNullOrEmpty
            Complete 'Install-ContainerImage localhost/busy' | Should -Contain 'localhost/busybox:latest'
        }
        finally { $silent.Stop(); Write-TestRegistryConfig -ConfigDir $env:PSCONTAINERS_CONFIG_DIR }
    }
}

Describe 'Registries' {
    It 'completes registries.conf hosts for <Line>' -ForEach @(
        @{ Line = 'Find-ContainerImage -Registry ' }, @{ Line = 'Connect-ContainerRegistry ' }
    ) {
        Write-TestRegistryConfig -ConfigDir $env:PSCONTAINERS_CONFIG_DIR -SearchRegistries 'search.example'
        try {
            $hosts = Complete $Line
            $hosts[0] | Should -Be 'search.example'
            $hosts | Should -Contain $A
            $hosts | Should -Contain $fx.Tls.Host
        }
        finally { Write-TestRegistryConfig -ConfigDir $env:PSCONTAINERS_CONFIG_DIR }
    }
}

Describe 'Containers' {
    It 'completes ids as well as names' {
        $c = New-Container -Image busybox -Name completion-target -Command true
        try {
            Complete 'Get-Container completion-t' | Should -Be 'completion-target'
            $short = $c.Id.Substring(0, 12)
            Complete "Get-Container $($c.Id.Substring(0, 5))" | Should -Contain $short
            Complete "Remove-Container -Id $($c.Id.Substring(0, 5))" | Should -Contain $short
            Complete "Get-ContainerStatistic -Id $($c.Id.Substring(0, 5))" | Should -Contain $short
        }
        finally { $c | Remove-Container -Force -Confirm:$false }
    }
}
