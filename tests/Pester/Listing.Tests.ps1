# Get-Container in a session that keeps what it listed (the store's in-memory listing, parsed records and Stopped
# states): what it shows must stay what a fresh session reads from disk, whatever other processes change meanwhile.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name listing
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-BusyboxImage | Out-Null
    $script:dir = Join-Path $env:PSCONTAINERS_DATA_DIR 'containers'

    # One line per container, in listing order: what a user sees of it.
    function script:Show([object[]] $Containers) { @($Containers | ForEach-Object { "$($_.Name) $($_.State) $($_.ExitCode) $($_.Id)" }) }
    function script:Get-Fresh {
        # The same listing from a new process, which has nothing cached.
        $cmd = "Import-Module '$(Get-TestModulePath)'; Get-Container | ForEach-Object { `"`$(`$_.Name) `$(`$_.State) `$(`$_.ExitCode) `$(`$_.Id)`" }"
        @(& (Get-TestPwsh) -NoProfile -NonInteractive -Command $cmd)
    }
    function script:New-Id { [Convert]::ToHexString([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32)).ToLowerInvariant() }
    # Writes like the module does: temp file and rename.
    function script:Write-Atomic([string] $Path, [string] $Text) {
        [IO.File]::WriteAllText("$Path.tmp", $Text); [IO.File]::Move("$Path.tmp", $Path, $true)
    }
    # Ages the store directory, so the session trusts its listing (times under a second old are never trusted).
    function script:Step-Back { & touch -m -d '1 minute ago' $dir; Start-Sleep -Milliseconds 1100 }

    # An exited container (exit 3), copied 40 times under new ids and names (enough for the parallel read path).
    $script:exited = New-Container -Image busybox -Command sh, -c, 'exit 3' -Name listing-exited
    $exited | Start-Container -Wait | Out-Null
    $script:recordJson = Get-Content "$dir/$($exited.Id)/container.json" -Raw
    $script:stateJson = Get-Content "$dir/$($exited.Id)/state.json" -Raw
    function script:Add-Copy([string] $Name, [switch] $NoRecord) {
        $id = New-Id
        New-Item -ItemType Directory "$dir/$id" | Out-Null
        Write-Atomic "$dir/$id/state.json" $stateJson.Replace($exited.Id, $id)
        if (-not $NoRecord) { Add-Record $id $Name }
        return $id
    }
    # The record and its name's link in the store's name index, as New-Container leaves them.
    function script:Add-Record([string] $Id, [string] $Name) {
        Write-Atomic "$dir/$Id/container.json" $recordJson.Replace($exited.Id, $Id).Replace('"listing-exited"', "`"$Name`"")
        New-Item -ItemType SymbolicLink -Path "$dir/.names/$Name" -Target "../$Id" | Out-Null
    }
    foreach ($i in 1..40) { Add-Copy "listing-copy$i" | Out-Null }
    $script:created = New-Container -Image busybox -Command true -Name listing-created
    $script:running = New-Container -Image busybox -Command sleep, 300 -Name listing-running | Start-Container -PassThru
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Listing from a warm session' -Skip:(-not $isRoot) {
    It 'shows the same names, states, exit codes and order as a fresh session, every time' {
        Step-Back
        $fresh = Get-Fresh
        $fresh.Count | Should -Be 43
        Show (Get-Container) | Should -Be $fresh
        Show (Get-Container) | Should -Be $fresh # now from what the session kept
        (Get-Container -Name listing-copy17).Name | Should -Be 'listing-copy17'
        (Get-Container -Name listing-copy17).ExitCode | Should -Be 3
        (Get-Container -Name listing-running).State | Should -Be 'Running'
        (Get-Container -Name listing-created).State | Should -Be 'Created'
    }

    It 'sees a container another process creates or removes after it listed' {
        Step-Back
        Get-Container | Out-Null
        $id = Add-Copy 'listing-added'
        (Get-Container -Name listing-added).Id | Should -Be $id
        Step-Back
        Get-Container | Out-Null
        Remove-Item "$dir/$id" -Recurse -Force
        Get-Container -Name listing-added -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Show (Get-Container) | Should -Be (Get-Fresh)
    }

    It 'shows a container whose record appears after it listed the half-created directory' {
        $id = Add-Copy 'listing-late' -NoRecord
        Step-Back
        Get-Container -Name listing-late -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        # The record lands in the existing directory: the store directory itself does not change.
        Add-Record $id listing-late
        (Get-Container -Name listing-late).Id | Should -Be $id
        @(Get-Container | Where-Object Name -eq 'listing-late').Count | Should -Be 1
    }

    It 'shows a new exit when an exited container''s state file is replaced' {
        Step-Back
        (Get-Container -Name listing-copy5).ExitCode | Should -Be 3
        (Get-Container -Name listing-copy5).ExitCode | Should -Be 3
        $id = (Get-Container -Name listing-copy5).Id
        Write-Atomic "$dir/$id/state.json" ($stateJson.Replace($exited.Id, $id) -replace '"exitCode":\s*3', '"exitCode": 42')
        (Get-Container -Name listing-copy5).ExitCode | Should -Be 42
        Start-Sleep -Milliseconds 1100 # old enough to be kept: replaced again, it is read again
        (Get-Container -Name listing-copy5).ExitCode | Should -Be 42
        Write-Atomic "$dir/$id/state.json" ($stateJson.Replace($exited.Id, $id) -replace '"exitCode":\s*3', '"exitCode": 43')
        (Get-Container -Name listing-copy5).ExitCode | Should -Be 43
    }

    It 'shows the real container''s later runs' {
        Step-Back
        $before = (Get-Container -Name listing-exited).FinishedAt
        Start-Sleep -Milliseconds 1100
        Start-Container listing-exited -Wait | Out-Null
        $after = Get-Container -Name listing-exited
        $after.State | Should -Be 'Exited'
        $after.FinishedAt | Should -BeGreaterThan $before
    }
}
