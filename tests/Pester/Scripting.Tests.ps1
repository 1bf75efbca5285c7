# What a runbook author notices: the cmdlets script like PowerShell's own (DESIGN conventions 11-14).
# Objects bind by position, starting a running container is no error, -Force does not ask, processes
# run in a container report like native commands, and times are DateTime.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name scripting
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $script:image = Import-BusyboxImage

    function script:New-Sleeper {
        New-Container -Image busybox -Command sleep, 300
    }
    # A child pwsh with no console to ask on, sharing this test's store through the environment.
    function script:Invoke-NonInteractive([string] $Command) {
        $out = & (Get-TestPwsh) -NoProfile -NonInteractive -Command "Import-Module '$(Get-TestModulePath)'; $Command" 2>&1
        [pscustomobject]@{ Output = @($out | ForEach-Object { "$_" }); ExitCode = $LASTEXITCODE }
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Container objects bind by position' {
    BeforeAll {
        $script:c = New-Sleeper
    }
    AfterAll { Remove-Container -Id $c.Id -Force -Confirm:$false -ErrorAction SilentlyContinue }

    It 'Start-Container $c starts the container in the variable' {
        Start-Container $c -ErrorAction Stop
        (Get-Container -Id $c.Id).State | Should -Be 'Running'
    }

    It '<Line> acts on the container in the variable' -ForEach @(
        @{ Line = 'Get-ContainerProcess $c'; Code = { Get-ContainerProcess $c } }
        @{ Line = 'Get-ContainerLog $c'; Code = { Get-ContainerLog $c } }
        @{ Line = 'Get-ContainerStatistic $c'; Code = { Get-ContainerStatistic $c } }
        @{ Line = 'Invoke-ContainerCommand $c -- true'; Code = { Invoke-ContainerCommand $c -- true } }
        @{ Line = 'Suspend-Container $c; Resume-Container $c'; Code = { Suspend-Container $c; Resume-Container $c } }
        @{ Line = 'Restart-Container $c -Timeout 0'; Code = { Restart-Container $c -Timeout 0 } }
    ) {
        { & $Code | Out-Null } | Should -Not -Throw
        (Get-Container -Id $c.Id).State | Should -Be 'Running'
    }

    It 'Stop-Container $c stops it and Wait-Container $c returns it' {
        Stop-Container $c -Timeout 0 -ErrorAction Stop
        (Wait-Container $c -ErrorAction Stop).State | Should -Be 'Exited'
    }

    It 'Remove-Container $c removes it, and a name with wildcards still binds by position' {
        Remove-Container $c -ErrorAction Stop
        Get-Container -Id $c.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $named = New-Container -Image busybox -Name scripting-by-name -Command true
        Remove-Container scripting-by-* -ErrorAction Stop
        Get-Container -Id $named.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Start-Container on a running container' {
    It 'does nothing, is not an error, and -PassThru still outputs it' {
        $c = New-Sleeper
        try {
            Start-Container $c.Name -ErrorAction Stop
            $pid1 = (Get-Container -Id $c.Id).Pid
            $again = Start-Container $c.Name -PassThru -ErrorAction Stop
            $ok = $?
            $ok | Should -BeTrue
            $again.Id | Should -Be $c.Id
            $again.State | Should -Be 'Running'
            (Get-Container -Id $c.Id).Pid | Should -Be $pid1 -Because 'the running process was left alone'
        }
        finally { Remove-Container -Id $c.Id -Force -Confirm:$false }
    }
}

Describe '-Force means do not ask' {
    It 'Remove-Container -Force removes a running container from a non-interactive session' {
        $c = New-Sleeper | Start-Container -PassThru
        Remove-Container -Id $c.Id -Force -WhatIf
        (Get-Container -Id $c.Id).State | Should -Be 'Running' -Because '-WhatIf still changes nothing'
        $r = Invoke-NonInteractive "Remove-Container -Id $($c.Id) -Force -ErrorAction Stop"
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        Get-Container -Id $c.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Test-Path "/proc/$($c.Pid)" | Should -BeFalse -Because 'the container was killed'
    }
}

Describe 'Processes in a container report like native commands' {
    BeforeAll {
        $script:c = New-Sleeper | Start-Container -PassThru
    }
    AfterAll { Remove-Container -Id $c.Id -Force -Confirm:$false -ErrorAction SilentlyContinue }

    It 'a successful command that writes to stderr does not throw under -ErrorAction Stop' {
        $out = Invoke-ContainerCommand $c.Name -ErrorAction Stop -- sh -c 'echo done; echo warning >&2'
        $ok = $?
        $out | Should -Be 'done'
        $ok | Should -BeTrue
        $LASTEXITCODE | Should -Be 0
    }

    It 'nor under $ErrorActionPreference = Stop, for Invoke-ContainerImage either' {
        $ErrorActionPreference = 'Stop'
        $out = Invoke-ContainerImage -Image busybox -Remove -Command sh, -c, 'echo syntax is ok >&2; echo ran'
        $out | Should -Be 'ran'
    }

    It '2>&1 captures the stderr lines as the bare text, also under -ErrorAction Stop' {
        $all = @(Invoke-ContainerCommand $c.Name -ErrorAction Stop -- sh -c 'echo out; echo err >&2' 2>&1)
        @($all | Where-Object { $_ -is [string] }) | Should -Be 'out'
        $errs = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $errs.Count | Should -Be 1
        "$($errs[0])" | Should -Be 'err'
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'NativeCommandError*'
    }

    It 'a non-zero exit sets $LASTEXITCODE and $? and does not throw by default' {
        Invoke-ContainerCommand $c.Name -ErrorAction Stop -- sh -c 'exit 3'
        $ok = $?
        $LASTEXITCODE | Should -Be 3
        $ok | Should -BeFalse
        Invoke-ContainerImage -Image busybox -Remove -Command sh, -c, 'exit 4' -ErrorAction Stop
        $ok = $?
        $LASTEXITCODE | Should -Be 4
        $ok | Should -BeFalse
    }

    It 'a non-zero exit throws with the exit code when $PSNativeCommandUseErrorActionPreference is $true' {
        $PSNativeCommandUseErrorActionPreference = $true
        $ErrorActionPreference = 'Stop'
        $e = { Invoke-ContainerCommand $c.Name -- sh -c 'exit 3' } | Should -Throw -ErrorId 'ProgramExitedWithNonZeroCode*' -PassThru
        $e.Exception.Message | Should -BeLike '*exit code: 3*'
        $e.Exception.Data['ExitCode'] | Should -Be 3
        $LASTEXITCODE | Should -Be 3
        { Invoke-ContainerImage -Image busybox -Remove -Command sh, -c, 'exit 5' } | Should -Throw -ErrorId 'ProgramExitedWithNonZeroCode*'
        { Invoke-ContainerCommand $c.Name -- true } | Should -Not -Throw
    }
}

Describe 'Times are DateTime' {
    It '(Get-Date) - $c.StartedAt is the time it has been up, and Created and FinishedAt are DateTime too' {
        $c = New-Sleeper | Start-Container -PassThru
        try {
            $c.Created | Should -BeOfType [datetime]
            $c.StartedAt | Should -BeOfType [datetime]
            $up = (Get-Date) - $c.StartedAt
            $up | Should -BeOfType [timespan]
            $up.TotalSeconds | Should -BeGreaterOrEqual 0
            $up.TotalHours | Should -BeLessThan 1
            Stop-Container $c -Timeout 0
            (Get-Container -Id $c.Id).FinishedAt | Should -BeOfType [datetime]
        }
        finally { Remove-Container -Id $c.Id -Force -Confirm:$false }
    }

    It 'an image''s Created is a DateTime' {
        $img = Get-ContainerImage busybox
        if ($null -ne $img.Created) { $img.Created | Should -BeOfType [datetime] }
        $img.PSObject.Properties['Created'].TypeNameOfValue | Should -BeLike 'System.Nullable*System.DateTime,*'
    }
}

Describe 'Image objects bind by position' {
    # Last: this removes the busybox image the other tests run.
    It 'Add-ContainerImageTag $img, Save-ContainerImage $img and Remove-ContainerImage $img -Force act on the image in the variable' {
        Get-Container | Remove-Container -Force -Confirm:$false
        $img = Get-ContainerImage busybox
        Add-ContainerImageTag $img localhost/scripting:copy -ErrorAction Stop
        (Get-ContainerImage localhost/scripting:copy).Id | Should -Be $img.Id
        $archive = Join-Path $root 'busybox.tar'
        Save-ContainerImage $img -Path $archive -ErrorAction Stop
        Test-Path $archive | Should -BeTrue
        $null = New-Container -Image busybox -Command true # in use: only -Force deletes it
        $r = Invoke-NonInteractive "Remove-ContainerImage (Get-ContainerImage -Id $($img.Id)) -Force -ErrorAction Stop"
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        Get-ContainerImage -Id $img.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}
