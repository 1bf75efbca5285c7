# The first call in a new session: what it loads and what it has to JIT-compile, checked in a fresh pwsh against
# the fixture registry (never its timing: bench/FirstCall.Bench.ps1 measures that).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/Registry.psm1') -Force
    $script:root = New-TestRoot -Name firstcall
    $script:fx = Start-TestRegistry -ConfigDir $env:PSCONTAINERS_CONFIG_DIR
    $script:modulePath = Get-TestModulePath
    Set-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'policy.json') '{"default":[{"type":"insecureAcceptAnything"}]}'

    function script:Invoke-FreshPull([hashtable] $Environment = @{}) {
        # Install-ContainerImage of the fixture's busybox (gzip layers) as the first call of a new pwsh, into an empty
        # store; returns the names of the assemblies loaded at the end.
        $store = Join-Path $script:root "data-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $command = "`$env:PSCONTAINERS_DATA_DIR = '$store'; Import-Module '$script:modulePath'; " +
            "Install-ContainerImage '$($script:fx.Anonymous.Host)/busybox:latest' -ProgressAction SilentlyContinue | Out-Null; " +
            "[AppDomain]::CurrentDomain.GetAssemblies().GetName().Name"
        $saved = @{}
        foreach ($k in $Environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $Environment[$k]) }
        try { $out = & (Get-TestPwsh) -NoProfile -NonInteractive -Command $command 2>&1 }
        finally { foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) } }
        # The pull ended and listed what it loaded. (Not the exit code: with DOTNET_JitStdOutFile the 10.0 runtime
        # sometimes aborts at exit, "free(): invalid pointer", whatever the module: main's build does it too.)
        $out | Should -Contain 'Containers.Core' -Because ($out | Out-String)
        return $out
    }
}

AfterAll {
    Stop-TestRegistry
    Remove-TestRoot $script:root
}

Describe 'The first pull of a session' {
    It 'loads neither ZstdSharp nor BouncyCastle when the image has gzip layers and no signature is checked' {
        $loaded = Invoke-FreshPull
        $loaded | Should -Not -Contain 'ZstdSharp'
        $loaded | Should -Not -Contain 'BouncyCastle.Cryptography'
    }

    It 'runs the boxes of the module''s async state machines from precompiled code (the startup profile), not JIT-compiled' {
        # The runtime's JIT summary (honoured by release runtimes): one line per method it compiled.
        $summary = Join-Path $script:root "jit-$([guid]::NewGuid().ToString('N').Substring(0, 8)).txt"
        $null = Invoke-FreshPull @{ DOTNET_JitDisasmSummary = '1'; DOTNET_JitStdOutFile = $summary }
        $compiled = @(Get-Content $summary)
        # the summary is real: the pull's own first-time code is in it
        $compiled.Count | Should -BeGreaterThan 1000
        # MoveNext of AsyncStateMachineBox<TResult, a state machine of Containers.Core or Containers>: each async
        # method of the pull needs it, and crossgen2 compiles it only when the profile names it
        $boxes = @($compiled | Where-Object { $_ -match 'AsyncStateMachineBox`1\[[^:]*Containers\.[^:]*\]:MoveNext\(' })
        $boxes | Should -BeNullOrEmpty -Because 'build.ps1 passes build/startup-methods.txt to crossgen2 as a profile'
    }

    It 'writes its events to the log file at the log level in force (<Level>), the file logger being made at the first event' -ForEach @(
        @{ Level = 'Information'; DebugLine = $false }
        @{ Level = 'Debug'; DebugLine = $true }
    ) {
        $logs = Join-Path $script:root "logs-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $null = Invoke-FreshPull @{ PSCONTAINERS_LOG_DIR = $logs; PSCONTAINERS_LOG_LEVEL = $Level }
        $text = (Get-ChildItem $logs -Filter 'pscontainers-*.log' | Get-Content) -join "`n"
        $text | Should -Match "\[INF\] \(\d+\) Containers\.Core\.Registry\.ImagePuller: Pulled .*busybox:latest"
        # a step the pull logs at Debug: only in the file when the level asks for it
        $text -match '\[DBG\] .*is insecure; using http' | Should -Be $DebugLine
    }
}
