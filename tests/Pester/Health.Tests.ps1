# Health checks, run by each container's own monitor inside the container (as Invoke-ContainerCommand runs a process).
# Intervals are short so the checks come quickly; assertions wait for states, never for times.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name health
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:fast = @{ HealthInterval = [TimeSpan]::FromMilliseconds(200); HealthTimeout = [TimeSpan]::FromSeconds(20) }

}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'The monitor''s checks' {
    It 'turns a container whose check fails unhealthy after the retries, and says so in the status' {
        New-Container -Image localhost/busybox -Name sick -HealthCommand 'echo checking; exit 4' -HealthRetries 2 @fast -Command sleep, 300 | Start-Container
        Wait-TestCondition { (Get-Container sick).Health.Status -eq 'Unhealthy' } | Should -BeTrue
        $c = Get-Container sick
        $c.Health.FailingStreak | Should -BeGreaterOrEqual 2
        $c.Health.LastCheck.ExitCode | Should -Be 4
        $c.Health.LastCheck.Output | Should -Match 'checking'
        $c.Status | Should -Match '^Up .* \(unhealthy\)$'
        @(Get-ContainerEvent -Container sick -Action health_status | ForEach-Object HealthStatus) | Should -Be @('unhealthy')
        $c.State | Should -Be Running -Because 'without -HealthOnFailure nothing is done to it'
    }

    It 'turns a container whose check passes healthy, inside its own filesystem' {
        New-Container -Image localhost/busybox -Name well -HealthCommand cat, /etc/hostname @fast -Command sleep, 300 | Start-Container
        Wait-TestCondition { (Get-Container well).Health.Status -eq 'Healthy' } | Should -BeTrue
        (Get-Container well).Status | Should -Match '^Up .* \(healthy\)$'
        (Get-Container well).Health.FailingStreak | Should -Be 0
    }

    It 'counts no failure inside the start period' {
        New-Container -Image localhost/busybox -Name warming -HealthCommand 'exit 1' -HealthRetries 1 -HealthStartPeriod ([TimeSpan]::FromHours(1)) @fast -Command sleep, 300 |
            Start-Container
        Wait-TestCondition { @((Get-Container warming).Health.Log).Count -ge 3 } | Should -BeTrue
        $h = (Get-Container warming).Health
        $h.Status | Should -Be Starting
        $h.FailingStreak | Should -Be 0
    }

    It 'kills an unhealthy container with -HealthOnFailure Kill' {
        New-Container -Image localhost/busybox -Name killme -HealthCommand 'exit 1' -HealthRetries 1 -HealthOnFailure Kill @fast -Command sleep, 300 | Start-Container
        Wait-TestCondition { (Get-Container killme).State -eq 'Exited' } | Should -BeTrue
        (Get-Container killme).ExitCode | Should -Be 137
        $kill = Get-ContainerEvent -Container killme -Action kill
        $kill.Attributes['reason'] | Should -Be 'unhealthy'
        @(Get-ContainerEvent -Container killme -Action health_status, kill, die | ForEach-Object Action) | Should -Be @('health_status', 'kill', 'die')
    }

    It 'starts an unhealthy container again with -HealthOnFailure Restart, whatever its restart policy' {
        New-Container -Image localhost/busybox -Name again -HealthCommand 'exit 1' -HealthRetries 1 -HealthOnFailure Restart @fast -Command sleep, 300 | Start-Container
        Wait-TestCondition { (Get-Container again).RestartCount -ge 1 } | Should -BeTrue
        (Get-Container again).RestartPolicy | Should -Be No
        Stop-Container again -Force
        (Get-Container again).State | Should -Be Exited
    }
}

Describe 'Test-ContainerHealth' {
    It 'runs the check now, records it and returns the health' {
        # An interval of an hour: only Test-ContainerHealth runs the check here.
        New-Container -Image localhost/busybox -Name ondemand -HealthCommand 'cat /tmp/ok' -HealthRetries 1 -HealthInterval ([TimeSpan]::FromHours(1)) -Command sleep, 300 |
            Start-Container
        (Get-Container ondemand).Health.Status | Should -Be Starting
        $h = Test-ContainerHealth ondemand
        $h.Status | Should -Be Unhealthy
        $h.LastCheck.ExitCode | Should -Not -Be 0
        Invoke-ContainerCommand ondemand sh, -c, 'echo fine > /tmp/ok'
        $h = Test-ContainerHealth ondemand
        $h.Status | Should -Be Healthy
        $h.LastCheck.Output | Should -Match 'fine'
        (Get-Container ondemand).Health.Status | Should -Be Healthy
        @(Get-ContainerEvent -Container ondemand -Action health_status | ForEach-Object HealthStatus) | Should -Be @('unhealthy', 'healthy')
    }

    It 'stops a check that outlives its timeout and counts it failed' {
        New-Container -Image localhost/busybox -Name slow -HealthCommand 'sleep 100' -HealthTimeout ([TimeSpan]::FromSeconds(1)) -HealthInterval ([TimeSpan]::FromHours(1)) -Command sleep, 300 |
            Start-Container
        $h = Test-ContainerHealth slow
        $h.LastCheck.ExitCode | Should -Be -1
        $h.LastCheck.Output | Should -Match 'Timed out'
    }

    It 'says when a container has no check, or is not running' {
        New-Container -Image localhost/busybox -Name nocheck -Command sleep, 300 | Start-Container
        { Test-ContainerHealth nocheck -ErrorAction Stop } | Should -Throw -ErrorId 'NoHealthcheck*'
        (Get-Container nocheck).Health | Should -BeNullOrEmpty
        New-Container -Image localhost/busybox -Name idle -HealthCommand true -Command true
        { Test-ContainerHealth idle -ErrorAction Stop } | Should -Throw -ErrorId 'ContainerNotRunning*'
    }
}

Describe 'The image''s HEALTHCHECK' {
    It 'is the container''s check unless -HealthCommand replaces it' {
        $dir = Join-Path $root 'ctx'
        New-Item -ItemType Directory $dir -Force | Out-Null
        Set-Content (Join-Path $dir 'Containerfile') "FROM localhost/busybox`nHEALTHCHECK --interval=1h --retries=1 CMD echo from-image; exit 2`n"
        New-ContainerImage -Path (Join-Path $dir 'Containerfile') -Name localhost/checked:1 | Out-Null
        $c = New-Container -Image localhost/checked:1 -Name imagecheck -Command sleep, 300
        $c.Healthcheck.Retries | Should -Be 1
        $c.Healthcheck.Interval | Should -Be ([TimeSpan]::FromHours(1))
        Start-Container imagecheck
        $h = Test-ContainerHealth imagecheck
        $h.LastCheck.Output | Should -Match 'from-image'
        $h.Status | Should -Be Unhealthy
        (New-Container -Image localhost/checked:1 -Name nocheck2 -HealthCommand none -Command true).Healthcheck | Should -BeNullOrEmpty
    }
}
