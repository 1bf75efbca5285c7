# Update-Container against the fixture registry: a new image pushed under the same tag moves the container to it with
# its definition; an unchanged tag changes nothing; a new image that fails puts the previous container back.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/Registry.psm1') -Force
    $script:root = New-TestRoot -Name update
    $script:fx = Start-TestRegistry -ConfigDir $env:PSCONTAINERS_CONFIG_DIR
    Import-Module (Get-TestModulePath) -Force
    $script:A = $fx.Anonymous.Host
    $script:n = 0

    # Pushes the fixture's busybox, changed by umoci config arguments (a new config: a new image id), as repo:tag.
    function script:Push-Variant([string] $Target, [string[]] $Config = @()) {
        $script:n++
        $layout = Join-Path $root "layout-$script:n"
        Copy-Item (Join-Path $fx.Cache 'busybox') $layout -Recurse
        if ($Config) {
            $out = & umoci config --image "${layout}:latest" @Config 2>&1
            if ($LASTEXITCODE -ne 0) { throw "umoci config: $out" }
        }
        $out = & skopeo copy --quiet --dest-tls-verify=false "oci:${layout}:latest" "docker://$A/$Target" 2>&1
        if ($LASTEXITCODE -ne 0) { throw "skopeo copy: $out" }
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Stop-TestRegistry
    Remove-TestRoot $script:root
}

Describe 'Update-Container' {
    AfterEach { Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue }

    It 'moves a running container to the new digest of its tag, with its definition, and then finds nothing to do' {
        Push-Variant 'update/app:1' @('--config.env', 'VERSION=1')
        $share = Join-Path $root 'share1'; New-Item -ItemType Directory $share -Force | Out-Null
        $old = New-Container "$A/update/app:1" -Name up-app -Memory 64MB -Environment @{ MODE = 'prod' } -Volume "${share}:/srv" `
            -Label @{ 'io.containers.autoupdate' = 'registry' } -Command sh, -c, 'echo $VERSION; sleep 300' -ProgressAction SilentlyContinue |
            Start-Container -PassThru
        Push-Variant 'update/app:1' @('--config.env', 'VERSION=2')

        $r = Update-Container -ProgressAction SilentlyContinue -ErrorAction Stop
        $r.Name | Should -Be 'up-app'
        $r.Action | Should -Be 'Recreated'
        $r.Changes.Property | Should -Be 'ImageId'
        $r.Changes.Before | Should -Be $old.ImageId.Substring(0, 12)
        $c = Get-Container up-app
        $c.ImageId | Should -Not -Be $old.ImageId
        $c.ImageId.Substring(0, 12) | Should -Be $r.Changes.After
        $c.Image | Should -Be "$A/update/app:1"
        $c.State | Should -Be 'Running'
        Invoke-ContainerCommand up-app -Command sh, -c, 'echo $VERSION $MODE; ls -d /srv' | Should -Be @('2 prod', '/srv')
        $c.Resources.MemoryBytes | Should -Be 64MB
        $c.Labels['io.containers.autoupdate'] | Should -Be 'registry'

        $again = Update-Container up-app -ProgressAction SilentlyContinue -ErrorAction Stop
        $again.Action | Should -Be 'Unchanged'
        (Get-Container up-app).Id | Should -Be $c.Id
    }

    It '-WhatIf names the container that would change and changes nothing; -Label selects' {
        Push-Variant 'update/what:1'
        $web = New-Container "$A/update/what:1" -Name up-web -Label @{ tier = 'web' } -Command sleep, 300 -ProgressAction SilentlyContinue
        $db = New-Container "$A/update/what:1" -Name up-db -Label @{ tier = 'db' } -Command sleep, 300 -ProgressAction SilentlyContinue
        Push-Variant 'update/what:1' @('--config.env', 'NEW=1')
        $out = Update-Container -Label tier=web -WhatIf -Verbose 4>&1
        @($out | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }) | Should -BeNullOrEmpty
        ($out | ForEach-Object Message) -join "`n" | Should -Match 'up-web .*ImageId'
        ($out | ForEach-Object Message) -join "`n" | Should -Not -Match 'up-db'
        (Get-Container up-web).Id | Should -Be $web.Id
        (Get-Container up-web).ImageId | Should -Be $web.ImageId
        # Without -Label and names, only containers labelled io.containers.autoupdate=registry are considered.
        Update-Container -ProgressAction SilentlyContinue | Should -BeNullOrEmpty
        (Update-Container -Label tier -ProgressAction SilentlyContinue).Name | Sort-Object | Should -Be @('up-db', 'up-web')
        (Get-Container up-db).Id | Should -Not -Be $db.Id
    }

    It 'puts the previous container back, running on the previous image, when the new image fails to start' {
        Push-Variant 'update/fail:1'
        $old = New-Container "$A/update/fail:1" -Name up-fail -Command sleep, 300 -ProgressAction SilentlyContinue | Start-Container -PassThru
        # The new image's sleep is gone: the container cannot start from it.
        Push-Variant 'update/fail:1' @('--config.entrypoint', '/no/such/entrypoint')
        { Update-Container up-fail -ProgressAction SilentlyContinue -ErrorAction Stop } |
            Should -Throw -ErrorId 'ContainerRolledBack,Containers.Cmdlets.Commands.Service.UpdateContainerCommand'
        $c = Get-Container up-fail
        $c.State | Should -Be 'Running'
        $c.ImageId | Should -Be $old.ImageId
        $c.Command | Should -Be @('sleep', '300')
        @(Get-Container up-fail*).Count | Should -Be 1
    }

    It 'puts the previous container back when the new image does not become healthy' {
        Push-Variant 'update/health:1' @('--config.env', 'VERSION=1')
        $old = New-Container "$A/update/health:1" -Name up-health -Command sleep, 300 -HealthCommand 'test "$VERSION" != bad' `
            -HealthInterval 00:00:01 -HealthRetries 2 -ProgressAction SilentlyContinue | Start-Container -PassThru
        Push-Variant 'update/health:1' @('--config.env', 'VERSION=bad')
        { Update-Container up-health -ProgressAction SilentlyContinue -ErrorAction Stop } |
            Should -Throw -ErrorId 'ContainerRolledBack,Containers.Cmdlets.Commands.Service.UpdateContainerCommand'
        $c = Get-Container up-health
        $c.State | Should -Be 'Running'
        $c.ImageId | Should -Be $old.ImageId
        Invoke-ContainerCommand up-health -Command sh, -c, 'echo $VERSION' | Should -Be '1'
        # The healthy new image goes through.
        Push-Variant 'update/health:1' @('--config.env', 'VERSION=2')
        (Update-Container up-health -ProgressAction SilentlyContinue -ErrorAction Stop).Action | Should -Be 'Recreated'
        (Get-Container up-health).Health.Status | Should -Be 'Healthy'
    }

    It 'writes the registry''s error for an image it cannot reach, and leaves the container alone' {
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
        $null = Import-BusyboxImage
        $c = New-Container localhost/busybox -Name up-local -Command true
        Update-Container up-local -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        (Get-Container up-local).Id | Should -Be $c.Id
    }
}
