# Set-Container: a runbook makes a container match its definition; a second run changes nothing and does not
# restart it. Runbooks run as an admin runs them: a script in a fresh pwsh (hashtables enumerate in another order
# in every process, which must not read as a change).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name desired
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:share = Join-Path $root 'share'
    New-Item -ItemType Directory -Path $share | Out-Null

    # Runs the runbook in a new pwsh with this test's store; returns its result lines (Action;Properties;Id).
    function script:Invoke-Runbook([string] $Memory, [string] $Mode = 'production') {
        $runbook = Join-Path $root 'runbook.ps1'
        @"
`$ErrorActionPreference = 'Stop'
Import-Module '$(Get-TestModulePath)'
`$r = Set-Container -Name ds-web -Image busybox -Pull Never -Memory $Memory -PidsLimit 64 -Volume '${share}:/srv:ro' ``
    -Environment @{ MODE = '$Mode'; REGION = 'eu'; TIER = 'web'; OWNER = 'ops'; LEVEL = '3' } -Label @{ app = 'web'; team = 'ops'; env = 'prod' } ``
    -Command sh, -c, 'echo up; sleep 300'
"`$(`$r.Action);`$((`$r.Changes.Property) -join ',');`$(`$r.Container.Id)"
"@ | Set-Content $runbook
        $out = & (Get-TestPwsh) -NoProfile -NonInteractive -File $runbook 2>&1
        if ($LASTEXITCODE -ne 0) { throw "runbook failed: $out" }
        $action, $changes, $id = ("$(@($out)[-1])" -split ';')
        [pscustomobject]@{ Action = $action; Changes = @($changes -split ',' | Where-Object { $_ }); Id = $id }
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'A runbook using Set-Container' {
    AfterAll { Remove-Container ds-web -Force -Confirm:$false -ErrorAction SilentlyContinue }

    It 'creates and starts the container on its first run' {
        $first = Invoke-Runbook -Memory 64MB
        $first.Action | Should -Be 'Created'
        $first.Changes | Should -Contain 'MemoryBytes'
        $first.Changes | Should -Contain 'Env'
        $c = Get-Container ds-web
        $c.State | Should -Be 'Running'
        $c.Resources.MemoryBytes | Should -Be 64MB
        $script:started = $c.StartedAt
        $script:id = $c.Id
    }

    It 'reports no change on its second run and does not restart the container' {
        $second = Invoke-Runbook -Memory 64MB
        $second.Action | Should -Be 'Unchanged'
        $second.Changes | Should -BeNullOrEmpty
        $c = Get-Container ds-web
        $c.Id | Should -Be $script:id
        $c.StartedAt | Should -Be $script:started
        $c.State | Should -Be 'Running'
    }

    It 'recreates it, running again, when the runbook changes a limit, and reports only that' {
        $third = Invoke-Runbook -Memory 96MB
        $third.Action | Should -Be 'Recreated'
        $third.Changes | Should -Be @('MemoryBytes')
        $c = Get-Container ds-web
        $c.Id | Should -Not -Be $script:id
        $c.State | Should -Be 'Running'
        $c.Resources.MemoryBytes | Should -Be 96MB
        # The rest of the definition came along: environment, mounts, labels, command.
        Invoke-ContainerCommand ds-web -Command sh, -c, 'echo $MODE $REGION; ls -d /srv' | Should -Be @('production eu', '/srv')
        $c.Labels['team'] | Should -Be 'ops'
        $c.Command | Should -Be @('sh', '-c', 'echo up; sleep 300')
        (Invoke-Runbook -Memory 96MB).Action | Should -Be 'Unchanged'
    }
}

Describe 'Set-Container' {
    AfterEach { Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue }

    It 'takes over a container New-Container made with the same definition, without touching it' {
        $c = New-Container -Image busybox -Name ds-adopt -Environment @{ A = '1' } -Command sleep, 300 | Start-Container -PassThru
        $r = Set-Container -Name ds-adopt -Image busybox -Environment @{ A = '1' } -Command sleep, 300
        $r.Action | Should -Be 'Unchanged'
        $r.Changed | Should -BeFalse
        (Get-Container ds-adopt).StartedAt | Should -Be $c.StartedAt
    }

    It 'keeps a stopped container stopped when it recreates it, and lists before and after in -Verbose' {
        $null = New-Container -Image busybox -Name ds-stopped -Environment @{ A = '1' } -Command sleep, 300
        $r = Set-Container -Name ds-stopped -Image busybox -Environment @{ A = '2' } -Command sleep, 300 -Verbose 4>&1
        $verbose = @($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $verbose | Should -Contain 'ds-stopped: Env: {A=1} -> {A=2}'
        $change = $r | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $change.Action | Should -Be 'Recreated'
        $change.Changes.Property | Should -Be @('Env')
        (Get-Container ds-stopped).State | Should -Be 'Created'
    }

    It '-WhatIf shows the change and leaves the container as it is' {
        $c = New-Container -Image busybox -Name ds-whatif -Command sleep, 300
        $out = Set-Container -Name ds-whatif -Image busybox -Command sleep, 301 -WhatIf
        $out | Should -BeNullOrEmpty
        $after = Get-Container ds-whatif
        $after.Id | Should -Be $c.Id
        $after.Command | Should -Be @('sleep', '300')
    }

    It 'creates a missing container without starting it with -NoStart' {
        $r = Set-Container -Name ds-new -Image busybox -Command sleep, 300 -NoStart
        $r.Action | Should -Be 'Created'
        (Get-Container ds-new).State | Should -Be 'Created'
    }

    It 'needs a name: ContainerNameRequired' {
        { Set-Container -Image busybox -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'ContainerNameRequired,Containers.Cmdlets.Commands.Service.SetContainerCommand'
    }

    It 'puts the previous container back, running, when the new definition cannot start' {
        $old = New-Container -Image busybox -Name ds-back -Command sleep, 300 | Start-Container -PassThru
        { Set-Container -Name ds-back -Image busybox -Command /no/such/program -ErrorAction Stop } |
            Should -Throw -ErrorId 'ContainerRolledBack,Containers.Cmdlets.Commands.Service.SetContainerCommand'
        $back = Get-Container ds-back
        $back.State | Should -Be 'Running'
        $back.Command | Should -Be @('sleep', '300')
        $back.Id | Should -Not -Be $old.Id
        @(Get-Container ds-back*).Count | Should -Be 1
    }
}
