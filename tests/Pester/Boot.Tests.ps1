# Containers through a reboot, and the systemd units that run them. systemd is not PID 1 here: the units are checked
# with systemd-analyze verify and their ExecStart/ExecStop lines are run by hand, as systemd would run them.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name boot
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:units = Join-Path $root 'units'

    # The value of a unit's key (the first line Key=...).
    function script:Get-UnitValue([string] $Unit, [string] $Key) {
        ($Unit -split "`n" | Where-Object { $_.StartsWith("$Key=") } | Select-Object -First 1).Substring($Key.Length + 1)
    }
    # Splits a command line as systemd does: words, "double-quoted" with \-escapes, $$ and %% for $ and %.
    function script:Split-SystemdCommand([string] $Line) {
        $words = [System.Collections.Generic.List[string]]::new()
        $i = 0
        while ($i -lt $Line.Length) {
            if ($Line[$i] -eq ' ') { $i++; continue }
            $w = [System.Text.StringBuilder]::new()
            if ($Line[$i] -eq '"') {
                $i++
                while ($Line[$i] -ne '"') {
                    if ($Line[$i] -eq '\') { $i++ }
                    elseif ($Line[$i] -in '$', '%') { $i++ }
                    [void]$w.Append($Line[$i]); $i++
                }
                $i++
            }
            else { while ($i -lt $Line.Length -and $Line[$i] -ne ' ') { [void]$w.Append($Line[$i]); $i++ } }
            $words.Add($w.ToString())
        }
        , $words.ToArray()
    }
    # Runs a unit's ExecStart/ExecStop as systemd would (its Environment= lines are this test's own overrides).
    function script:Invoke-UnitCommand([string] $Unit, [string] $Key) {
        $argv = Split-SystemdCommand (Get-UnitValue $Unit $Key)
        $out = & $argv[0] $argv[1..($argv.Length - 1)] 2>&1
        if ($LASTEXITCODE -ne 0) { throw "$Key exited with $LASTEXITCODE`: $out" }
        $out
    }
    # What a reboot does to a running container: its monitor and its processes are gone, nothing recorded their end.
    function script:Stop-AsByReboot($Container) {
        $c = Get-Container -Id $Container.Id
        Stop-Process -Id $c.MonitorPid -Force
        Stop-Process -Id $c.Pid -Force
        Wait-TestCondition { (Get-Container -Id $c.Id).State -ne 'Running' } | Should -BeTrue
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'The boot service' {
    AfterAll { Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue }

    It 'is installed and enabled into a unit directory, passes systemd-analyze verify, and is removed again' {
        Install-ContainerBootService -Path $units -WhatIf
        Test-Path (Join-Path $units 'pscontainers-restart.service') | Should -BeFalse
        $file = Install-ContainerBootService -Path $units -PassThru -WarningAction SilentlyContinue
        $file.Name | Should -Be 'pscontainers-restart.service'
        (Get-Item (Join-Path $units 'default.target.wants/pscontainers-restart.service')).LinkTarget | Should -Be '../pscontainers-restart.service'
        $unit = Get-Content $file -Raw
        Get-UnitValue $unit 'Type' | Should -Be 'oneshot'
        Get-UnitValue $unit 'Environment' | Should -Be "`"PSCONTAINERS_CONFIG_DIR=$env:PSCONTAINERS_CONFIG_DIR`""
        $out = & systemd-analyze verify --man=no $file.FullName 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$out"
        Uninstall-ContainerBootService -Path $units
        Get-ChildItem $units -Recurse -File | Should -BeNullOrEmpty
    }

    It 'as shipped for the Debian package passes systemd-analyze verify (with pwsh where it is here)' {
        $shipped = Get-Content (Join-Path $PSScriptRoot '../../build/systemd/pscontainers-restart.service') -Raw
        $copy = Join-Path $root 'shipped/pscontainers-restart.service'
        New-Item -ItemType Directory (Split-Path $copy) -Force | Out-Null
        $shipped.Replace('/usr/bin/pwsh', (Get-TestPwsh)) | Set-Content $copy -NoNewline
        $out = & systemd-analyze verify --man=no $copy 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$out"
    }

    It 'unless-stopped survives a simulated reboot; a user-stopped one stays stopped; always comes back; no does not' {
        $unless = New-Container -Image busybox -Name boot-unless -RestartPolicy UnlessStopped -Command sleep, 300 | Start-Container -PassThru
        $always = New-Container -Image busybox -Name boot-always -RestartPolicy Always -Command sleep, 300 | Start-Container -PassThru
        $stopped = New-Container -Image busybox -Name boot-stopped -RestartPolicy UnlessStopped -Command sleep, 300 | Start-Container -PassThru
        $never = New-Container -Image busybox -Name boot-never -Command sleep, 300 | Start-Container -PassThru
        Stop-Container $always -Timeout 0
        Stop-Container $stopped -Timeout 0
        Stop-AsByReboot $unless
        Stop-AsByReboot $never

        $unit = Get-Content (Install-ContainerBootService -Path $units -PassThru -WarningAction SilentlyContinue) -Raw
        Invoke-UnitCommand $unit 'ExecStart' | Out-Null

        (Get-Container boot-unless).State | Should -Be 'Running'
        (Get-Container boot-always).State | Should -Be 'Running'
        (Get-Container boot-stopped).State | Should -Be 'Exited'
        (Get-Container boot-never).State | Should -Be 'Exited'
        # Run again (the unit started twice, or an admin by hand): nothing is started twice.
        $pid1 = (Get-Container boot-unless).Pid
        Start-Container -Boot
        (Get-Container boot-unless).Pid | Should -Be $pid1
        Uninstall-ContainerBootService -Path $units
    }
}

Describe 'Export-ContainerSystemdUnit' {
    AfterEach { Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue }

    It 'writes a unit per container that passes systemd-analyze verify, with the restart policy as Restart=' {
        $cs = foreach ($p in 'No', 'OnFailure', 'Always', 'UnlessStopped') { New-Container -Image busybox -Name "unit-$($p.ToLower())" -RestartPolicy $p -Command sleep, 300 }
        $files = $cs | Export-ContainerSystemdUnit -Path $units -PassThru
        $files.Name | Sort-Object | Should -Be @('pscontainers-unit-always.service', 'pscontainers-unit-no.service', 'pscontainers-unit-onfailure.service', 'pscontainers-unit-unlessstopped.service')
        $out = & systemd-analyze verify --man=no $files.FullName 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$out"
        $restart = @{}
        foreach ($f in $files) { $restart[$f.Name] = Get-UnitValue (Get-Content $f -Raw) 'Restart' }
        $restart['pscontainers-unit-no.service'] | Should -Be 'no'
        $restart['pscontainers-unit-onfailure.service'] | Should -Be 'on-failure'
        $restart['pscontainers-unit-always.service'] | Should -Be 'always'
        $restart['pscontainers-unit-unlessstopped.service'] | Should -Be 'always'
    }

    It 'its ExecStart starts the container and writes the monitor pid to the PIDFile; ExecStop stops it' {
        $c = New-Container -Image busybox -Name unit-run -Command sleep, 300
        $unit = Export-ContainerSystemdUnit unit-run -Timeout 1
        Get-UnitValue $unit 'Type' | Should -Be 'forking'
        Invoke-UnitCommand $unit 'ExecStart' | Out-Null
        $running = Get-Container unit-run
        $running.State | Should -Be 'Running'
        (Get-Content (Get-UnitValue $unit 'PIDFile')).Trim() | Should -Be "$($running.MonitorPid)"
        # systemd may run ExecStart again (Restart=): a running container is left as it is.
        Invoke-UnitCommand $unit 'ExecStart' | Out-Null
        (Get-Container unit-run).Pid | Should -Be $running.Pid
        Invoke-UnitCommand $unit 'ExecStop' | Out-Null
        (Get-Container unit-run).State | Should -Be 'Exited'
    }

    It '-Format Quadlet writes a podman .container file with the definition' {
        $share = Join-Path $root 'qshare'; New-Item -ItemType Directory $share -Force | Out-Null
        $null = New-Container -Image busybox -Name unit-quadlet -RestartPolicy Always -Memory 64MB -Environment @{ MODE = 'prod' } -Volume "${share}:/srv:ro" -Label @{ tier = 'web' } -Command sleep, 300
        $file = Export-ContainerSystemdUnit unit-quadlet -Format Quadlet -Path $units -PassThru
        $file.Name | Should -Be 'unit-quadlet.container'
        # It carries the container's environment: readable by its owner only, as the record is.
        (Get-Item $file).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
        $q = Get-Content $file -Raw
        Get-UnitValue $q 'Image' | Should -Be 'busybox'
        Get-UnitValue $q 'ContainerName' | Should -Be 'unit-quadlet'
        Get-UnitValue $q 'Exec' | Should -Be 'sleep 300'
        Get-UnitValue $q 'Environment' | Should -Be 'MODE=prod'
        Get-UnitValue $q 'Volume' | Should -Be "${share}:/srv:ro"
        Get-UnitValue $q 'Label' | Should -Be 'tier=web'
        Get-UnitValue $q 'PodmanArgs' | Should -Be '--memory=67108864'
        Get-UnitValue $q 'Restart' | Should -Be 'always'
    }
}
