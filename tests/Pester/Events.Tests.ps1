# The event journal: written by cmdlets (any session) and by container monitors, read by Get-ContainerEvent.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name events
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:journal = Join-Path $env:PSCONTAINERS_DATA_DIR 'events/events.jsonl'

}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'A container''s life' {
    It 'is recorded in order, typed, with the exit code on die' {
        $c = New-Container -Image localhost/busybox -Name life -Command sh, -c, 'sleep 300'
        Start-Container life
        Invoke-ContainerCommand life sh, -c, 'exit 0'
        Stop-Container life -Force
        Remove-Container life -Confirm:$false
        $events = @(Get-ContainerEvent -Container life)
        $events.Action | Should -Be @('create', 'start', 'exec', 'kill', 'die', 'stop', 'remove')
        $events | ForEach-Object { $_ | Should -BeOfType Containers.Core.Events.ContainerEvent }
        $events | ForEach-Object { $_.Id | Should -Be $c.Id; $_.Image | Should -Be 'localhost/busybox'; $_.Type | Should -Be Container }
        ($events | Where-Object Action -eq die).ExitCode | Should -Be 137
        ($events | Where-Object Action -eq exec).Attributes['command'] | Should -Be 'sh -c exit 0'
        # Filters: by id prefix, action wildcard, image, type and time.
        @(Get-ContainerEvent -Container $c.Id.Substring(0, 8) -Action 'st*').Action | Should -Be @('start', 'stop')
        @(Get-ContainerEvent -Image localhost/busybox -Container life).Count | Should -Be 7
        @(Get-ContainerEvent -Container life -Type Image).Count | Should -Be 0
        @(Get-ContainerEvent -Container life -Since $events[-1].Time).Action | Should -Be @('remove')
        @(Get-ContainerEvent -Container life -Until $events[0].Time).Action | Should -Be @('create')
    }

    It 'records image tags and removals' {
        Add-ContainerImageTag -Image localhost/busybox -Tag localhost/evtag:1
        Remove-ContainerImage localhost/evtag:1 -Confirm:$false
        @(Get-ContainerEvent -Type Image -Image localhost/evtag:1).Action | Should -Be @('tag', 'untag')
    }
}

Describe 'Concurrent sessions' {
    It 'keeps every event of two sessions writing at once, each session''s in its order' {
        $pwsh = Get-TestPwsh
        $module = Get-TestModulePath
        $script = {
            param($Module, $Tag)
            Import-Module $Module
            foreach ($i in 1..15) { New-Container -Image localhost/busybox -Name "$Tag-$i" -Command true | Out-Null }
        }
        $jobs = foreach ($tag in 'left', 'right') { Start-Job -ScriptBlock $script -ArgumentList $module, $tag }
        $null = $jobs | Wait-Job -Timeout 300
        $jobs | ForEach-Object { $_.State | Should -Be Completed; Receive-Job $_ -ErrorAction Stop; Remove-Job $_ }
        foreach ($tag in 'left', 'right') {
            @(Get-ContainerEvent -Action create -Container "$tag-*").Name | Should -Be @(1..15 | ForEach-Object { "$tag-$_" })
        }
        # Every line of the journal is one whole record.
        @(Get-Content $journal).Count | Should -Be @(Get-ContainerEvent).Count
    }
}

Describe 'A monitor killed with SIGKILL' {
    It 'has its container''s die written by the next Get-Container, once' {
        $c = New-Container -Image localhost/busybox -Name orphan -Command sleep, 300 | Start-Container -PassThru
        $c = Get-Container orphan
        $monitor = $c.MonitorPid
        $monitor | Should -BeGreaterThan 0
        kill -KILL $monitor
        Wait-TestCondition { -not (Test-ProcessAlive $monitor) } | Should -BeTrue
        kill -KILL $c.Pid
        Wait-TestCondition { -not (Test-ProcessAlive $c.Pid) } | Should -BeTrue
        @(Get-ContainerEvent -Container orphan -Action die).Count | Should -Be 0 -Because 'nobody has looked yet'
        (Get-Container orphan).State | Should -Be Exited
        (Get-Container orphan).State | Should -Be Exited
        $die = @(Get-ContainerEvent -Container orphan -Action die)
        $die.Count | Should -Be 1
        $die[0].Attributes['reason'] | Should -Be 'monitor-lost'
    }
}

Describe 'Get-ContainerEvent -Follow' {
    It 'streams an event written after it started, and stops when the pipeline has what it wants' {
        $since = Get-Date
        New-Container -Image localhost/busybox -Name follow-1 -Command true | Out-Null
        $job = Start-Job -ArgumentList (Get-TestModulePath), $since -ScriptBlock {
            param($Module, $Since)
            Import-Module $Module
            Get-ContainerEvent -Follow -Since $Since -Action create -Container 'follow-*' | Select-Object -First 2 | ForEach-Object Name
        }
        try {
            # The first comes from the history: once the job has written it, the follower is tailing the journal.
            Wait-TestCondition { @($job.ChildJobs[0].Output).Count -ge 1 -or $job.State -ne 'Running' } | Should -BeTrue
            @($job.ChildJobs[0].Output) | Should -Be @('follow-1')
            New-Container -Image localhost/busybox -Name follow-2 -Command true | Out-Null
            $null = Wait-Job $job -Timeout 60
            $job.State | Should -Be Completed -Because 'Select-Object -First 2 stops the follower once the later event came'
            Receive-Job $job | Should -Be @('follow-1', 'follow-2')
        }
        finally { Remove-Job $job -Force }
    }
}

Describe 'The journal file' {
    It 'skips a line a crashed writer left cut short' {
        Add-Content $journal '{"time":"2026-01-01T00:00:00Z","type":"container","action":"cre' -NoNewline
        New-Container -Image localhost/busybox -Name after-tear -Command true | Out-Null
        @(Get-ContainerEvent -Container after-tear).Action | Should -Be @('create')
        { Get-ContainerEvent -ErrorAction Stop } | Should -Not -Throw
    }
}
