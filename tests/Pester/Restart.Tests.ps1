# Restart policies, carried out by each container's own monitor (no daemon). Order and counts, never timings: the
# backoff schedule itself is xunit's (ServiceRulesTests).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name restart
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage

    function script:Get-Actions([string] $Name) {
        @(Get-ContainerEvent -Container $Name -Action die, restart, start, stop | ForEach-Object Action)
    }
    function script:Get-MonitorPid([string] $Id) {
        (Get-Content (Join-Path $env:PSCONTAINERS_DATA_DIR "containers/$Id/state.json") -Raw | ConvertFrom-Json).monitorPid
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'OnFailure' {
    It 'restarts a crashing command up to MaxRestarts, then leaves it exited with its count' {
        $c = New-Container -Image localhost/busybox -Name crash3 -RestartPolicy OnFailure -MaxRestarts 3 -Command sh, -c, 'echo run; exit 3'
        $c.RestartPolicy | Should -Be OnFailure
        Start-Container crash3
        Wait-TestCondition { $x = Get-Container crash3; $x.State -eq 'Exited' -and $x.RestartCount -eq 3 } | Should -BeTrue
        $x = Get-Container crash3
        $x.ExitCode | Should -Be 3
        # Four runs: the first and three restarts, each recorded by the monitor in order.
        @(Get-ContainerLog crash3 | Where-Object Text -eq 'run').Count | Should -Be 4
        Get-Actions crash3 | Should -Be @('start', 'die', 'restart', 'die', 'restart', 'die', 'restart', 'die')
        @(Get-ContainerEvent -Container crash3 -Action restart | ForEach-Object { $_.Attributes['restartCount'] }) | Should -Be @('1', '2', '3')
        @(Get-ContainerEvent -Container crash3 -Action die | ForEach-Object ExitCode) | Should -Be @(3, 3, 3, 3)
    }

    It 'does not restart a command that exits 0' {
        New-Container -Image localhost/busybox -Name clean0 -RestartPolicy OnFailure -Command sh, -c, 'exit 0' | Start-Container
        # Exited (not Restarting) is final: the monitor decided before it wrote the state.
        Wait-TestCondition { (Get-Container clean0).State -eq 'Exited' } | Should -BeTrue
        (Get-Container clean0).RestartCount | Should -Be 0
        Get-Actions clean0 | Should -Be @('start', 'die')
    }

    It 'matches podman: on-failure with 2 retries runs the command three times and counts 2' {
        New-Container -Image localhost/busybox -Name like-podman -RestartPolicy OnFailure -MaxRestarts 2 -Command sh, -c, 'echo run; exit 3' | Start-Container
        Wait-TestCondition { $x = Get-Container like-podman; $x.State -eq 'Exited' -and $x.RestartCount -eq 2 } | Should -BeTrue
        $ours = @((Get-Container like-podman).RestartCount, (Get-Container like-podman).ExitCode, @(Get-ContainerLog like-podman | Where-Object Text -eq 'run').Count)

        Import-Module (Join-Path $PSScriptRoot 'Fixtures/Podman.psm1') -Force
        $podman = Initialize-TestPodman -Root $root
        try {
            $image = Import-PodmanImage -Podman $podman -Image localhost/busybox
            Invoke-Podman run -d --name like-us --restart on-failure:2 $image sh -c 'echo run; exit 3' | Out-Null
            Wait-TestCondition { (Invoke-Podman inspect --format '{{.State.Status}} {{.RestartCount}}' like-us) -eq 'exited 2' } | Should -BeTrue
            $theirs = @([int](Invoke-Podman inspect --format '{{.RestartCount}}' like-us), [int](Invoke-Podman inspect --format '{{.State.ExitCode}}' like-us),
                @(Invoke-Podman logs like-us | Where-Object { $_ -eq 'run' }).Count)
        }
        finally { Remove-TestPodman $podman }
        $ours | Should -Be $theirs
        $ours | Should -Be @(2, 3, 3)
    }

    It 'refuses MaxRestarts with another policy, as podman does' {
        { New-Container -Image localhost/busybox -Name bad-max -RestartPolicy Always -MaxRestarts 2 -Command true -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidMaxRestarts*'
        Get-Container bad-max -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'No' {
    It 'never restarts, whatever the exit code' {
        New-Container -Image localhost/busybox -Name never -Command sh, -c, 'exit 1' | Start-Container
        Wait-TestCondition { (Get-Container never).State -eq 'Exited' } | Should -BeTrue
        (Get-Container never).RestartCount | Should -Be 0
        Get-Actions never | Should -Be @('start', 'die')
    }
}

Describe 'Always' {
    It 'restarts a command that exits 0, and Stop-Container ends the loop for good' {
        $c = New-Container -Image localhost/busybox -Name always -RestartPolicy Always -Command sh, -c, 'echo run; sleep 0.2'
        Start-Container always
        Wait-TestCondition { (Get-Container always).RestartCount -ge 2 } | Should -BeTrue
        $monitor = Get-MonitorPid $c.Id
        Stop-Container always
        Wait-TestCondition { -not (Test-ProcessAlive $monitor) } | Should -BeTrue
        $x = Get-Container always
        $x.State | Should -Be Exited
        $actions = Get-Actions always
        $actions[-1] | Should -Be 'stop'
        # The loop is over: nothing after the stop, and the count is what the container shows.
        @($actions | Where-Object { $_ -eq 'restart' }).Count | Should -Be $x.RestartCount
        Start-Container always
        (Get-Container always).RestartCount | Should -Be 0 -Because 'a start begins a new count'
        Stop-Container always -Force
    }

    It 'lets a stop win over a restart in progress' {
        # Crashes at once: the monitor is always between a die and its next start, in the delay or launching.
        foreach ($i in 1..3) {
            $c = New-Container -Image localhost/busybox -Name "race$i" -RestartPolicy Always -Command sh, -c, 'exit 1'
            Start-Container "race$i"
            Wait-TestCondition { (Get-Container "race$i").RestartCount -ge $i } | Should -BeTrue
            $monitor = Get-MonitorPid $c.Id
            Stop-Container "race$i"
            Wait-TestCondition { -not (Test-ProcessAlive $monitor) } | Should -BeTrue
            (Get-Container "race$i").State | Should -Be Exited
            $actions = Get-Actions "race$i"
            $actions[-1] | Should -Be 'stop'
            $last = (Get-ContainerEvent -Container "race$i" -Action restart | Select-Object -Last 1).Attributes['restartCount']
            (Get-Container "race$i").RestartCount | Should -Be ([int]$last)
        }
    }

    It 'removes a container in its restart loop only with -Force, and ends the loop' {
        $c = New-Container -Image localhost/busybox -Name loop-rm -RestartPolicy Always -Command sh, -c, 'exit 1'
        Start-Container loop-rm
        Wait-TestCondition { (Get-Container loop-rm).RestartCount -ge 4 } | Should -BeTrue
        $monitor = Get-MonitorPid $c.Id
        # From the 4th restart on the delay is at least 800 ms: the container is mostly Restarting now.
        Wait-TestCondition { (Get-Container loop-rm).State -eq 'Restarting' } | Should -BeTrue
        { Remove-Container loop-rm -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'ContainerRunning*'
        Remove-Container loop-rm -Force -Confirm:$false
        Wait-TestCondition { -not (Test-ProcessAlive $monitor) } | Should -BeTrue
        Get-Container loop-rm -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        (Get-ContainerEvent -Container loop-rm | Select-Object -Last 1).Action | Should -Be 'remove'
    }
}
