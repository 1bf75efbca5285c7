# Shared by the Pester suites: the built module, throw-away roots, the pinned pwsh.

function Get-TestModulePath {
    if (-not $env:PSCONTAINERS_TEST_MODULE) { throw 'PSCONTAINERS_TEST_MODULE is not set: run the tests through build.ps1 -Task Test' }
    return $env:PSCONTAINERS_TEST_MODULE
}

function Get-TestModulePathForUsers {
    # The built module copied where a throw-away test user can read it: the checkout may sit in a
    # folder only root can enter (mktemp -d makes 0700 folders). One copy per build, reused.
    $copy = Join-Path (Get-TestModuleCopyDir) 'Containers'
    Copy-Once (Split-Path (Get-TestModulePath)) $copy
    return Join-Path $copy 'Containers.psd1'
}

function Get-TestModuleCopyDir {
    $source = Split-Path (Get-TestModulePath)
    # Keyed by the newest file: a build may change only Core or only the monitor (pscontainers-init).
    $stamp = (Get-ChildItem $source -File -Recurse | Measure-Object -Maximum { $_.LastWriteTimeUtc.Ticks }).Maximum
    $key = [Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes("$source|$stamp"))).Substring(0, 12).ToLowerInvariant()
    Join-Path ([System.IO.Path]::GetTempPath()) "pscontainers-module-$key"
}

function Remove-TestModuleCopy {
    # Run-Pester's last step: the copy of this build made for test users (each build made one more in /tmp before).
    $dir = Get-TestModuleCopyDir
    if (Test-Path $dir) { [System.IO.Directory]::Delete($dir, $true) }
}

function Remove-StalePwshPipe {
    # Run-Pester's last step too. pwsh makes /tmp/CoreFxPipe_PSHost.<start>.<pid>.None.<name> (its Enter-PSHostProcess
    # pipe) and unlinks it only when it exits cleanly, so each session a test kills (a session killed under its containers,
    # a hung child) left one. Only those made since the run began whose process is gone; a live session keeps its pipe.
    param([Parameter(Mandatory)] [datetime] $Since)
    foreach ($pipe in Get-ChildItem ([System.IO.Path]::GetTempPath()) -Filter 'CoreFxPipe_PSHost.*' -ErrorAction SilentlyContinue) {
        $owner = $pipe.Name.Split('.')[2]
        if ($pipe.LastWriteTimeUtc -ge $Since.ToUniversalTime() -and $owner -match '^\d+$' -and -not (Test-Path "/proc/$owner")) {
            Remove-Item -LiteralPath $pipe.FullName -Force -ErrorAction SilentlyContinue
        }
    }
}

function Copy-Once([string] $Source, [string] $Copy) {
    # Copies a folder once and publishes it with a rename, so parallel test processes share one copy.
    if (Test-Path $Copy) { return }
    $tmp = "$Copy.tmp-$PID"
    New-Item -ItemType Directory -Force -Path (Split-Path $Copy) | Out-Null
    Copy-Item $Source $tmp -Recurse
    try { [System.IO.Directory]::Move($tmp, $Copy) } catch [System.IO.IOException] { Remove-Item $tmp -Recurse -Force }
}

function Get-TestPwshForUsers {
    # pwsh.dll of a copy of this pwsh that a throw-away test user can run (dotnet <it>): the tool
    # lives under /root (mode 0700) here. One copy per PowerShell version, reused.
    $copy = Join-Path ([System.IO.Path]::GetTempPath()) "pscontainers-pwsh-$($PSVersionTable.PSVersion)"
    Copy-Once $PSHOME $copy
    return Join-Path $copy 'pwsh.dll'
}

function New-TestRoot {
    # A throw-away data/state/config/log root; points the module at it for this process.
    param([string] $Name = 'pester')
    $root = Join-Path ([System.IO.Path]::GetTempPath()) ("pscontainers-$Name-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    foreach ($d in 'data', 'state', 'config', 'logs') { New-Item -ItemType Directory -Path (Join-Path $root $d) -Force | Out-Null }
    $env:PSCONTAINERS_DATA_DIR = Join-Path $root 'data'
    $env:PSCONTAINERS_STATE_DIR = Join-Path $root 'state'
    $env:PSCONTAINERS_CONFIG_DIR = Join-Path $root 'config'
    $env:PSCONTAINERS_LOG_DIR = Join-Path $root 'logs'
    $env:REGISTRY_AUTH_FILE = Join-Path $root 'config/auth.json'
    # Like skopeo and podman, the module pulls nothing without a policy.json: start with Debian's default.
    Set-Content (Join-Path $root 'config/policy.json') '{"default":[{"type":"insecureAcceptAnything"}]}'
    # Root containers default to a bridge network made on first use; tests that do not ask for a network get loopback
    # only (fast, nothing on the host). Network.Tests.ps1 proves the default bridge in its own CNI directory.
    Set-Content (Join-Path $root 'config/containers.conf') "[network]`ndefault_network = `"private`""
    return $root
}

function Remove-TestRoot([string] $Root) {
    # Directory.Delete unlinks symbolic links; Remove-Item -Force tries to make a link's target writable first and gives
    # up on one like an image's etc/mtab -> /proc/mounts, leaving the whole root behind.
    # Remove-Container deletes the container's directory in the background (from the store's .trash): a delete racing it
    # finds entries gone under it, and is tried again.
    for ($attempt = 1; $Root -and (Test-Path $Root); $attempt++) {
        try { [IO.Directory]::Delete($Root, $true) }
        catch {
            if ($attempt -lt 5) { Start-Sleep -Milliseconds 100; continue }
            Write-Warning "test root $Root not removed: $_"; break
        }
    }
}

function Get-TestPwsh {
    # The pinned pwsh that runs this suite, for tests that need a second session.
    $tool = Join-Path $PSHOME 'pwsh'
    if (Test-Path $tool) { return $tool }
    return 'pwsh'
}

function Get-JitCompiledMethod {
    # The methods a fresh session compiles from IL (not a tier-up of precompiled code) while it runs $Command, one per
    # compilation, from the runtime's JIT summary (DOTNET_JitDisasmSummary, honoured by release runtimes). $Session is
    # the command line of the pwsh to start (the pinned one by default; `dotnet <pwsh.dll>` for another).
    param([Parameter(Mandatory)] [string] $Command, [string[]] $Session = @(Get-TestPwsh))
    $file = Join-Path ([System.IO.Path]::GetTempPath()) "pscontainers-jit-$([guid]::NewGuid().ToString('N')).txt"
    $env:DOTNET_JitDisasmSummary = '1'; $env:DOTNET_JitStdOutFile = $file
    # (the 10.0 runtime sometimes aborts at exit when it writes this file: the summary is still whole)
    $rest = @($Session | Select-Object -Skip 1)
    try { & $Session[0] @rest -NoProfile -NonInteractive -Command $Command *> $null }
    finally { Remove-Item env:DOTNET_JitDisasmSummary, env:DOTNET_JitStdOutFile }
    try {
        foreach ($line in Get-Content $file) {
            if ($line -match '^\s*\d+: JIT compiled (.+) \[(Tier0|Instrumented Tier0|FullOpts|Tier-0 switched to FullOpts),') { $Matches[1] }
        }
    }
    finally { Remove-Item $file -ErrorAction SilentlyContinue }
}

function Invoke-UnderScript {
    <#
    .SYNOPSIS
        Runs a shell command line under script(1), which gives it a terminal of the host as stdin and stdout, as a
        console would; types each reply (@{ When = regex; Send = text }, in order) once its prompt has appeared.
        With -AnswerCursorQueries it also answers the cursor position queries an interactive console host waits on.
        Returns the output lines without the terminal's escape sequences, or throws if it does not end in time.
    #>
    param([Parameter(Mandatory)] [string] $CommandLine, [object[]] $Replies = @(), [int] $TimeoutSeconds = 90, [switch] $AnswerCursorQueries)
    $psi = [System.Diagnostics.ProcessStartInfo]::new('script')
    foreach ($a in '-qec', $CommandLine, '/dev/null') { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $p = [System.Diagnostics.Process]::Start($psi)
    try {
        $text = [System.Text.StringBuilder]::new()
        $buffer = [char[]]::new(4096)
        $read = $p.StandardOutput.ReadAsync($buffer, 0, $buffer.Length)
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        $next = 0
        while ([DateTime]::UtcNow -lt $deadline) {
            if ($read.Wait(200)) {
                if ($read.Result -le 0) { break }
                $chunk = [string]::new($buffer, 0, $read.Result)
                [void]$text.Append($chunk)
                if ($AnswerCursorQueries) {
                    foreach ($q in [regex]::Matches($chunk, '\e\[6n')) { $p.StandardInput.Write("`e[1;1R"); $p.StandardInput.Flush() }
                }
                $read = $p.StandardOutput.ReadAsync($buffer, 0, $buffer.Length)
            }
            if ($next -lt $Replies.Count -and $text.ToString() -match $Replies[$next].When) {
                $p.StandardInput.Write($Replies[$next].Send); $p.StandardInput.Flush(); $next++
            }
        }
        if (-not $p.WaitForExit(10000)) { throw "the command did not end; replies sent: $next; output: $text" }
        # Without window titles, keypad mode and cursor position queries.
        return @($text.ToString() -replace '\e\][^\a]*\a|\e\[[?0-9;]*[a-zA-Z]|\e[=>]', '' -split "`r?`n" | ForEach-Object { $_.Trim() })
    }
    finally { if (-not $p.HasExited) { $p.Kill($true) } }
}

function Invoke-InTerminal {
    # A pwsh script (or, without -File, an interactive pwsh reading the replies as commands) on a 40x160 terminal:
    # script(1) sizes its terminal from its own stdin, a pipe here, so the size is given as a console has one.
    param([string] $File, [object[]] $Replies = @(), [int] $TimeoutSeconds = 60)
    $run = if ($File) { "-NonInteractive -File '$File'" } else { '-NoLogo' }
    Invoke-UnderScript "stty rows 40 cols 160; '$(Get-TestPwsh)' -NoProfile $run" -Replies $Replies -TimeoutSeconds $TimeoutSeconds -AnswerCursorQueries
}

function Invoke-AsTestUser {
    # Runs PowerShell code as a throw-away unprivileged user of the host (created here, removed after), with a store of
    # its own under its home, the module and the busybox image imported; $Files are copied into its home first.
    # Returns the output lines, trimmed.
    param([Parameter(Mandatory)] [string] $Script, [string[]] $Files = @())
    $user = 'pstest' + (Get-Random -Maximum 999999)
    $userHome = Join-Path ([System.IO.Path]::GetTempPath()) "$user-home"
    & useradd --create-home --home-dir $userHome --shell /bin/sh --user-group $user
    if ($LASTEXITCODE) { throw "useradd $user failed" }
    try {
        foreach ($f in @($Files) + (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1')) { Copy-Item $f $userHome -Recurse }
        @"
`$ErrorActionPreference = 'Stop'
foreach (`$d in 'data', 'state', 'config', 'logs') { New-Item -ItemType Directory -Force "`$HOME/pscontainers/`$d" | Out-Null }
`$env:PSCONTAINERS_DATA_DIR = "`$HOME/pscontainers/data"; `$env:PSCONTAINERS_STATE_DIR = "`$HOME/pscontainers/state"
`$env:PSCONTAINERS_CONFIG_DIR = "`$HOME/pscontainers/config"; `$env:PSCONTAINERS_LOG_DIR = "`$HOME/pscontainers/logs"
Import-Module '$(Get-TestModulePathForUsers)'
Import-Module "`$HOME/BusyboxImage.psm1"
`$null = Import-BusyboxImage
"@ + "`n" + $Script | Set-Content "$userHome/test.ps1"
        & chown -R "${user}:${user}" $userHome
        & setpriv --reuid $user --regid $user --clear-groups --reset-env -- /usr/bin/env "HOME=$userHome" 'PATH=/usr/bin:/bin' "DOTNET_CLI_HOME=$userHome" `
            /usr/bin/dotnet (Get-TestPwshForUsers) -NoProfile -NonInteractive -File "$userHome/test.ps1" 2>&1 | ForEach-Object { "$_".Trim() }
    }
    finally {
        $deadline = (Get-Date).AddSeconds(30)
        while ((& pgrep -u $user) -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 200 }
        & userdel --remove $user 2>$null
        Remove-Item $userHome -Recurse -Force -ErrorAction SilentlyContinue
    }
}

function Invoke-BundleUnderCrun {
    # Runs a container's bundle with crun run: the same config.json, the layers copied into a plain rootfs, a cgroup path
    # of its own. Returns crun's output lines; $LASTEXITCODE is crun's exit code.
    param([Parameter(Mandatory)] [string] $ContainerDir)
    $id = [guid]::NewGuid().ToString('N').Substring(0, 8)
    $bundle = Join-Path ([System.IO.Path]::GetTempPath()) "crun-bundle-$id"
    $name = "pscontainers-test-$id"
    New-Item -ItemType Directory "$bundle/rootfs" -Force | Out-Null
    try {
        foreach ($layer in (Get-Content "$ContainerDir/container.json" -Raw | ConvertFrom-Json).layerDirectories) { & cp -a "$layer/." "$bundle/rootfs/" }
        $spec = Get-Content "$ContainerDir/bundle/config.json" -Raw | ConvertFrom-Json
        $spec.root.path = "$bundle/rootfs"
        $spec.linux.cgroupsPath = "/$name"
        $spec | ConvertTo-Json -Depth 30 | Set-Content "$bundle/config.json"
        # crun 1.8 refuses this hybrid layout unless the cgroup2 controller list is masked (private mount namespace; the host is unchanged).
        $unified = '/sys/fs/cgroup/unified/cgroup.controllers'
        $out = & unshare -m --propagation private -- sh -c "mount --bind /dev/null $unified 2>/dev/null; exec crun run -b '$bundle' $name" 2>&1
        $code = $LASTEXITCODE
    }
    finally {
        & crun delete -f $name 2>$null
        Remove-Item $bundle -Recurse -Force -ErrorAction SilentlyContinue
    }
    $global:LASTEXITCODE = $code
    $out
}

function Wait-TestCondition {
    # Polls a condition until it holds (true) or the time is up (false): tests wait for states, never assert times.
    param([Parameter(Mandatory)] [scriptblock] $Condition, [int] $Seconds = 60)
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while ([DateTime]::UtcNow -lt $deadline) { if (& $Condition) { return $true }; Start-Sleep -Milliseconds 100 }
    return $false
}

function Test-ProcessAlive([int] $ProcessId) {
    # A process whose parent is gone is reparented to the host's init, which reaps late here: a zombie is not alive.
    $stat = Get-Content "/proc/$ProcessId/stat" -ErrorAction SilentlyContinue
    return [bool]$stat -and ($stat -split '\) ')[1][0] -ne 'Z'
}

function Get-FreePort {
    # A TCP port free on every address at this moment (published ports bind 0.0.0.0).
    $l = [System.Net.Sockets.TcpListener]::new([ipaddress]::Any, 0); $l.Start()
    try { return $l.LocalEndpoint.Port } finally { $l.Stop() }
}

function Get-FromInside([string] $Name, [string] $Url) {
    # busybox wget inside a running container; the server may need a moment after its start to listen.
    for ($i = 0; $i -lt 50; $i++) {
        $out = Invoke-ContainerCommand -Name $Name -Command busybox, wget, -qO-, $Url 2>$null
        if ($LASTEXITCODE -eq 0) { return $out }
        Start-Sleep -Milliseconds 100
    }
    throw "wget $Url in $Name failed"
}

Export-ModuleMember -Function Remove-TestModuleCopy, Remove-StalePwshPipe, Get-FreePort, Get-FromInside, Wait-TestCondition, Test-ProcessAlive, Get-TestModulePath, Get-TestModulePathForUsers, Get-TestPwshForUsers, New-TestRoot, Remove-TestRoot, Get-TestPwsh, Get-JitCompiledMethod, Invoke-UnderScript, Invoke-InTerminal, Invoke-BundleUnderCrun, Invoke-AsTestUser
