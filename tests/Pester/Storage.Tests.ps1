# Get-ContainerStorageUsage and Clear-ContainerStorage: what usage calls reclaimable is exactly what the
# prune frees on disk (du of the store's layers and blobs and of the containers' directories).
BeforeDiscovery { $script:isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name storage
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:data = $env:PSCONTAINERS_DATA_DIR

    function script:Get-DiskBytes {
        # Apparent bytes of everything the usage counts, as du counts them (a hard link once).
        $paths = @('images/blobs', 'images/layers', 'containers') | ForEach-Object { Join-Path $data $_ } | Where-Object { Test-Path $_ }
        [long]((& du -sb --apparent-size -c @paths | Select-Object -Last 1) -split '\s+')[0]
    }
}

AfterAll {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Clear-ContainerStorage frees what Get-ContainerStorageUsage calls reclaimable' -Skip:(-not $isRoot) {
    BeforeAll {
        # In use: busybox, by a running container.
        New-Container busybox -Name keep -Command sleep, 600 | Start-Container | Out-Null
        # A stopped container with changes, and an unused named image committed from it.
        New-Container busybox -Name stopped -Command sh, -c, 'echo data > /big; busybox seq 1 20000 > /numbers' | Start-Container -Wait | Out-Null
        $null = New-ContainerImage -Container stopped -Name localhost/unused:1
        # The build cache of a small build.
        $ctx = Join-Path $root 'ctx'
        New-Item -ItemType Directory $ctx | Out-Null
        Set-Content "$ctx/f.txt" 'file'
        Set-Content "$ctx/Containerfile" "FROM localhost/busybox:latest`nCOPY f.txt /f.txt`nRUN echo x > /x`nENV A=1"
        $null = New-ContainerImage -Path "$ctx/Containerfile"
        # An orphan: the layers of an image force-removed while a container used it, once the container is gone.
        Export-Container stopped -Path (Join-Path $root 'rootfs.tar') | Out-Null
        $null = Import-ContainerImage -RootFsTarball (Join-Path $root 'rootfs.tar') -Name localhost/orphaned:1
        New-Container localhost/orphaned:1 -Name user -Command true | Out-Null
        Remove-ContainerImage localhost/orphaned:1 -Force -Confirm:$false
        Remove-Container user
        # And a layer published by a pull that was killed before it recorded its image.
        $leftover = Join-Path $data ('images/layers/' + ('ab' * 32) + '/diff')
        New-Item -ItemType Directory $leftover -Force | Out-Null
        Set-Content (Join-Path $leftover 'partial') ('x' * 5000)
    }

    It 'reports every kind with reclaimable bytes' {
        $usage = Get-ContainerStorageUsage
        @($usage.Type) | Should -Be @('Images', 'BuildCache', 'Containers', 'Orphans', 'Volumes')
        foreach ($row in $usage | Where-Object Type -ne 'Volumes') { $row.Reclaimable | Should -BeGreaterThan 0 -Because $row.Type }
        ($usage | Where-Object Type -eq 'Images').Active | Should -Be 1
        ($usage | Where-Object Type -eq 'Containers').Active | Should -Be 1
        # The layer the force-removed image left to its container (its blob went with the image), and the killed pull's.
        ($usage | Where-Object Type -eq 'Orphans').Total | Should -BeGreaterOrEqual 2
        (Get-ContainerStorageUsage -Detailed | Where-Object Type -eq 'Containers').Name | Should -Be 'stopped'
    }

    It 'removes nothing with -WhatIf' {
        $before = Get-DiskBytes
        Clear-ContainerStorage -All -WhatIf | Should -BeNullOrEmpty
        Get-DiskBytes | Should -Be $before
        Get-Container stopped | Should -Not -BeNullOrEmpty
    }

    It 'frees exactly the reclaimable bytes and keeps what is in use' {
        $reclaimable = (Get-ContainerStorageUsage | Measure-Object Reclaimable -Sum).Sum
        $before = Get-DiskBytes
        $removed = Clear-ContainerStorage -All -Confirm:$false
        $after = Get-DiskBytes
        ($before - $after) | Should -Be $reclaimable
        ($removed | Measure-Object Reclaimable -Sum).Sum | Should -Be $reclaimable
        (Get-Container keep).State | Should -Be 'Running'
        Get-Container stopped -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        @(Get-ContainerImage).Names | Should -Be @('localhost/busybox:latest')
        Get-ContainerStorageUsage | ForEach-Object { $_.Reclaimable | Should -Be 0 -Because $_.Type }
        Invoke-ContainerCommand keep -Command true
        $LASTEXITCODE | Should -Be 0
    }
}
