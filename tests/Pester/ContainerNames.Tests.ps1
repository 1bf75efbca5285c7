# The container store's name index (.names/<name> -> ../<id>): lookups by name read the one record named, names stay
# unique when sessions create at once, and whatever a killed create or remove leaves behind, listings and lookups stay
# right and the index is repaired. Real pwsh processes and real containers of the busybox fixture.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name names
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-BusyboxImage | Out-Null
    $script:dir = Join-Path $env:PSCONTAINERS_DATA_DIR 'containers'
    $script:names = Join-Path $dir '.names'
    $script:pwsh = Get-TestPwsh
    $script:module = Get-TestModulePath

    # The container id a name's link leads to; $null without a link.
    function script:Get-Link([string] $Name) {
        $item = Get-Item -LiteralPath (Join-Path $names $Name) -Force -ErrorAction SilentlyContinue
        if ($item) { Split-Path -Leaf $item.Target }
    }
    # Runs a command in a new session; returns its output lines.
    function script:Invoke-Fresh([string] $Command) {
        @(& $pwsh -NoProfile -NonInteractive -Command "Import-Module '$module'; $Command" 2>&1 | ForEach-Object { "$_" })
    }
    # Every listed container must be found by its name, by a new session too.
    function script:Assert-Consistent {
        $listed = @(Get-Container)
        foreach ($c in $listed) { (Get-Container -Name $c.Name).Id | Should -Be $c.Id }
        $fresh = Invoke-Fresh '$all = @(Get-Container); foreach ($c in $all) { if ((Get-Container -Name $c.Name).Id -ne $c.Id) { "MISSING $($c.Name)" } }; "listed $($all.Count)"'
        $fresh | Should -Be @("listed $($listed.Count)")
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Container names' -Skip:(-not $isRoot) {
    AfterEach { Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction Continue }

    It 'gives a name to one of two sessions creating it at once; the other gets ContainerNameInUse' {
        foreach ($round in 1..3) {
            $cmd = "Import-Module '$module'; try { (New-Container -Image busybox -Command true -Name race$round -ErrorAction Stop).Id } catch { `$_.FullyQualifiedErrorId }"
            $jobs = 1..2 | ForEach-Object { Start-Job -ScriptBlock { param($p, $c) & $p -NoProfile -NonInteractive -Command $c } -ArgumentList $pwsh, $cmd }
            $out = @($jobs | Wait-Job | Receive-Job | ForEach-Object { "$_".Trim() }) | Sort-Object
            $jobs | Remove-Job
            $ids = @($out | Where-Object { $_ -match '^[0-9a-f]{64}$' })
            $ids.Count | Should -Be 1 -Because "round $round gave: $out"
            @($out | Where-Object { $_ -like 'ContainerNameInUse,*' }).Count | Should -Be 1 -Because "round $round gave: $out"
            (Get-Container -Name "race$round").Id | Should -Be $ids[0]
            Get-Link "race$round" | Should -Be $ids[0]
        }
    }

    It 'finds a container by name or id without reading the other records' {
        $target = New-Container -Image busybox -Command true -Name lookup-target
        1..30 | ForEach-Object { New-Container -Image busybox -Command true -Name "lookup-other$_" } | Out-Null
        $trace = Join-Path $root 'lookup.strace'
        foreach ($how in "-Name lookup-target", "-Id $($target.Id.Substring(0, 16))", "-Id $($target.Id)") {
            & strace -f -qq -e trace=openat -o $trace $pwsh -NoProfile -NonInteractive -Command "Import-Module '$module'; (Get-Container $how).Id" |
                Should -Be $target.Id
            $opened = @(Select-String -Path $trace -Pattern '/container\.json"' | Where-Object { $_.Line -notmatch 'ENOENT' })
            $opened.Count | Should -BeLessOrEqual 2 -Because "Get-Container $how opened $($opened.Count) records"
        }
    }

    It 'ignores, logs and deletes a link a killed remove left (record gone, link still there)' {
        $c = New-Container -Image busybox -Command true -Name stale-link
        Remove-Item -LiteralPath (Join-Path $dir "$($c.Id)/container.json")
        Get-Link stale-link | Should -Be $c.Id
        $env:PSCONTAINERS_LOG_LEVEL = 'Debug'
        try {
            # Get-Container applies the log level itself and shows its events on -Debug.
            $out = Get-Container -Name stale-link -Debug -ErrorAction SilentlyContinue -ErrorVariable err 5>&1
            @($out | Where-Object { $_ -isnot [System.Management.Automation.DebugRecord] }) | Should -BeNullOrEmpty
            @($out | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }).Message -join "`n" | Should -Match "links stale-link to $($c.Id), which has no record of that name"
            $err[0].FullyQualifiedErrorId | Should -BeLike 'ContainerNotFound,*'
            Get-Link stale-link | Should -BeNullOrEmpty
            (Get-ChildItem $env:PSCONTAINERS_LOG_DIR -File | Get-Content) -join "`n" | Should -Match "links stale-link to $($c.Id), which has no record of that name"
            @(Get-Container).Name | Should -Not -Contain stale-link
            (New-Container -Image busybox -Command true -Name stale-link).Name | Should -Be stale-link
            Remove-Item -LiteralPath (Join-Path $dir $c.Id) -Recurse -Force
        }
        finally { Remove-Item env:PSCONTAINERS_LOG_LEVEL }
    }

    It 'lets a name a killed create left linked (no record yet) be created again' {
        $orphan = [Convert]::ToHexString([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32)).ToLowerInvariant()
        New-Item -ItemType Directory (Join-Path $dir "$orphan/bundle") | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $names half-made) -Target "../$orphan" | Out-Null

        Get-Container -Name half-made -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $c = New-Container -Image busybox -Command true -Name half-made
        Get-Link half-made | Should -Be $c.Id
        (Get-Container -Name half-made).Id | Should -Be $c.Id
        Remove-Item -LiteralPath (Join-Path $dir $orphan) -Recurse -Force
    }

    It 'builds the index of a store made without one, and links records written around the module' {
        1..3 | ForEach-Object { New-Container -Image busybox -Command true -Name "old$_" } | Out-Null
        Remove-Item -LiteralPath $names -Recurse -Force
        (Invoke-Fresh '(Get-Container -Name old2).Name') | Should -Be 'old2'
        Get-Link old2 | Should -Be (Get-Container -Name old2).Id

        # A record copied in by hand (as the bench does) has no link until a listing sees it.
        $src = Get-Container -Name old1
        $id = [Convert]::ToHexString([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32)).ToLowerInvariant()
        New-Item -ItemType Directory (Join-Path $dir $id) | Out-Null
        (Get-Content (Join-Path $dir "$($src.Id)/container.json") -Raw).Replace($src.Id, $id).Replace('"old1"', '"copied"') |
            Set-Content (Join-Path $dir "$id/container.json")
        (Invoke-Fresh '@(Get-Container).Count') | Should -Be '4'
        Get-Link copied | Should -Be $id
        Assert-Consistent
    }

    It 'keeps listings and lookups consistent when creates and removes are killed at any point' {
        # Endless: a fixed count could end before the kill on a fast machine (400 creates took under 1.5 s in CI).
        $cmd = "Import-Module '$module'; `$i = 0; while (`$true) { `$i++; `$c = New-Container -Image busybox -Command true -Name kill`$i; if (`$i % 2) { Remove-Container `$c.Name -Confirm:`$false } }"
        foreach ($wait in 700, 1100, 1500, 1900) {
            $p = Start-Process $pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-Command', $cmd -PassThru
            Start-Sleep -Milliseconds $wait
            $p.HasExited | Should -BeFalse -Because 'the creator must be killed while it works'
            Stop-Process -Id $p.Id -Force
            $p.WaitForExit()
            Assert-Consistent
            Get-Container | Remove-Container -Force -Confirm:$false
            @(Get-ChildItem -LiteralPath $names -Force | Where-Object { Test-Path -LiteralPath (Join-Path $dir "$(Split-Path -Leaf $_.Target)/container.json") }) |
                Should -BeNullOrEmpty
        }
    }
}
