# Remove-Container moves the container's directory into the store's .trash in one rename and deletes it in the
# background: the container leaves the store at once and whole, a kill at any point leaves either the whole container or
# trash, and the next removal (of any session) deletes what a killed one left. Real pwsh processes and real containers
# of the busybox fixture.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name trash
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-BusyboxImage | Out-Null
    $script:dir = Join-Path $env:PSCONTAINERS_DATA_DIR 'containers'
    $script:trash = Join-Path $dir '.trash'
    $script:pwsh = Get-TestPwsh
    $script:module = Get-TestModulePath

    # What the trash holds, once this session's background deletions had up to 10 s to end.
    function script:Get-TrashAfterDeletions {
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ((Test-Path -LiteralPath $trash) -and @(Get-ChildItem -LiteralPath $trash -Force).Count -and [DateTime]::UtcNow -lt $deadline) {
            Start-Sleep -Milliseconds 20
        }
        if (Test-Path -LiteralPath $trash) { @(Get-ChildItem -LiteralPath $trash -Force).Name }
    }
    # A directory as a removal killed mid-way leaves it in the trash: files, and overlayfs's work/work at mode 000.
    function script:New-TrashLeftover {
        $id = [Convert]::ToHexString([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32)).ToLowerInvariant()
        $left = Join-Path $trash $id
        New-Item -ItemType Directory "$left/upper/etc", "$left/work/work", "$left/bundle/rootfs" -Force | Out-Null
        Set-Content "$left/upper/etc/hosts" 'leftover'
        Set-Content "$left/container.json" '{}'
        & chmod 000 "$left/work/work"
        $id
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Container trash' -Skip:(-not $isRoot) {
    AfterEach { Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction Continue }

    It 'takes a removed container out of the store at once and deletes its directory in the background' {
        $c = New-Container -Image busybox -Command true -Name trashed
        $c | Start-Container -Wait | Out-Null
        Remove-Container trashed
        Test-Path -LiteralPath (Join-Path $dir $c.Id) | Should -BeFalse
        Get-Container -Name trashed -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Test-Path -LiteralPath (Join-Path $dir ".names/trashed") | Should -BeFalse
        Get-TrashAfterDeletions | Should -BeNullOrEmpty
        (New-Container -Image busybox -Command true -Name trashed).Name | Should -Be trashed
    }

    It 'deletes at the next removal what a killed removal left in the trash' {
        # The removals of the last test's cleanup end first: their deletions would take the leftover while it is made.
        Get-TrashAfterDeletions | Should -BeNullOrEmpty
        Start-Sleep -Milliseconds 200
        $left = New-TrashLeftover
        New-Container -Image busybox -Command true | Remove-Container
        Get-TrashAfterDeletions | Should -Not -Contain $left
        Get-TrashAfterDeletions | Should -BeNullOrEmpty
    }

    It 'finishes its deletions before the session exits' {
        $out = & $pwsh -NoProfile -NonInteractive -Command "Import-Module '$module'; 1..5 | ForEach-Object { New-Container -Image busybox -Command true | Remove-Container }; 'done'" 2>&1
        "$out" | Should -Be 'done'
        # No waiting here: the session has ended, and with it any deletion it had not finished.
        if (Test-Path -LiteralPath $trash) { @(Get-ChildItem -LiteralPath $trash -Force) | Should -BeNullOrEmpty }
    }

    It 'keeps the store whole when removals are killed at any point' {
        # Endless: a fixed count could end before the kill on a fast machine.
        $cmd = "Import-Module '$module'; while (`$true) { New-Container -Image busybox -Command true | Remove-Container -Confirm:`$false }"
        foreach ($wait in 700, 900, 1100, 1300, 1500, 1700) {
            $p = Start-Process $pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-Command', $cmd -PassThru
            Start-Sleep -Milliseconds $wait
            $p.HasExited | Should -BeFalse -Because 'the session must be killed while it works'
            Stop-Process -Id $p.Id -Force
            $p.WaitForExit()
            # Either a whole container (listed, found by name, also by a new session) or trash.
            $listed = @(Get-Container)
            foreach ($c in $listed) { (Get-Container -Name $c.Name).Id | Should -Be $c.Id }
            & $pwsh -NoProfile -NonInteractive -Command "Import-Module '$module'; @(Get-Container).Count" | Should -Be "$($listed.Count)"
            Get-Container | Remove-Container -Force -Confirm:$false
            New-Container -Image busybox -Command true | Remove-Container
            Get-TrashAfterDeletions | Should -BeNullOrEmpty
        }
    }
}
