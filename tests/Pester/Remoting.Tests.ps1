# PowerShell remoting over SSH as the fleet interface: Debian's sshd, started by the test on a free
# loopback port with its own config, host key and client key, a powershell subsystem running this
# suite's pwsh; objects come back deserialized and still format as the module's tables.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name remoting
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:web = New-Container -Image busybox -Name remote-web -Command sleep, 300 | Start-Container -PassThru

    $script:ssh = Join-Path $root 'ssh'
    New-Item -ItemType Directory $ssh | Out-Null
    & ssh-keygen -q -t ed25519 -N '' -f "$ssh/host_key"
    & ssh-keygen -q -t ed25519 -N '' -f "$ssh/client_key"
    Copy-Item "$ssh/client_key.pub" "$ssh/authorized_keys"
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $listener.Start()
    $script:port = $listener.LocalEndpoint.Port; $listener.Stop()
    # The remote session sees this test's store: sshd passes these to the subsystem.
    $setEnv = 'PSCONTAINERS_DATA_DIR', 'PSCONTAINERS_STATE_DIR', 'PSCONTAINERS_CONFIG_DIR', 'PSCONTAINERS_LOG_DIR' |
        ForEach-Object { "$_=$([Environment]::GetEnvironmentVariable($_))" }
    @"
Port $port
ListenAddress 127.0.0.1
HostKey $ssh/host_key
PidFile $ssh/sshd.pid
AuthorizedKeysFile $ssh/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
SetEnv $($setEnv -join ' ')
Subsystem powershell $(Get-TestPwsh) -sshs -NoLogo -NoProfile
"@ | Set-Content "$ssh/sshd_config"
    # sshd's privilege separation directory; made (and later removed) only if the host has none.
    $script:madeRunSshd = -not (Test-Path /run/sshd)
    if ($madeRunSshd) { New-Item -ItemType Directory /run/sshd | Out-Null }
    $script:sshd = Start-Process /usr/sbin/sshd -ArgumentList '-D', '-e', '-f', "$ssh/sshd_config" -PassThru -RedirectStandardError "$ssh/sshd.log"
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    do {
        Start-Sleep -Milliseconds 100
        $up = try { $c = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $port); $c.Dispose(); $true } catch { $false }
    } until ($up -or $sshd.HasExited -or [DateTime]::UtcNow -gt $deadline)
    if (-not $up) { throw "sshd did not start: $(Get-Content "$ssh/sshd.log" -Raw)" }

    $script:target = @{
        HostName = '127.0.0.1'; Port = $port; UserName = (id -un); KeyFilePath = "$ssh/client_key"
        Options = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
    }
    $script:module = Get-TestModulePath
}

AfterAll {
    if ($script:sshd -and -not $sshd.HasExited) { $sshd.Kill(); $sshd.WaitForExit(5000) | Out-Null }
    if ($script:madeRunSshd) { Remove-Item /run/sshd -Recurse -Force -ErrorAction SilentlyContinue }
    Get-Container remote-* | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Invoke-Command -HostName over SSH' {
    It 'returns containers and images that format as the module''s tables' {
        $containers = Invoke-Command @target { Import-Module $using:module; Get-Container remote-web }
        $containers.PSObject.TypeNames[0] | Should -Be 'Deserialized.Containers.Core.Runtime.Container'
        $containers.Name | Should -Be 'remote-web'
        $lines = @($containers | Out-String -Width 80 -Stream | Where-Object { $_ })
        $lines[0] | Should -Match '^ContainerId\s+Name\s+Image\s+Status\s+'   # remoting adds PSComputerName at the end
        $lines | Where-Object { $_ -like "$($web.Id.Substring(0, 12))*" } | Should -Match "^$($web.Id.Substring(0, 12))\s+remote-web\s+busybox\s+Up "

        $images = Invoke-Command @target { Import-Module $using:module; Get-ContainerImage busybox }
        $text = $images | Out-String -Width 80
        $text | Should -Match 'REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE'
        $text | Should -Match 'localhost/busybox\s+latest\s+[0-9a-f]{12}\s+\d+ \w+ ago\s+[\d.]+ [kMG]B' -Because $text

    }
}

Describe 'Enter-PSSession -HostName over SSH' {
    It 'enters the host and runs the module''s cmdlets there' {
        $enter = "Enter-PSSession -HostName 127.0.0.1 -Port $port -UserName $($target.UserName) -KeyFilePath '$ssh/client_key' " +
            "-Options @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }"
        $lines = Invoke-InTerminal -TimeoutSeconds 90 -Replies @(
            @{ When = 'PS [^\r\n]*> '; Send = "$enter`r" }
            @{ When = '\[127\.0\.0\.1\]: PS [^\r\n]*> '; Send = "Import-Module '$module'; 'remote=' + (Get-Container remote-web).Name + ' ' + [Environment]::MachineName; exit`r" }
            @{ When = 'remote=remote-web'; Send = "exit`r" }
        )
        $lines | Where-Object { $_ -match 'remote=remote-web \S+' } | Should -Not -BeNullOrEmpty -Because ($lines -join "`n")
    }
}
