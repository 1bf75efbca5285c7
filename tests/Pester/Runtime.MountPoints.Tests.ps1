# The store's mount points layer: proc, dev and sys come from one read-only directory of the data directory stacked
# above every container's image layers, not from directories made in each container's upper directory. Real containers
# of the busybox fixture; a hostile image built here (tar + umoci) whose /proc, /dev and /sys are a link and a file.
BeforeDiscovery { $script:isRoot = (id -u) -eq '0' }

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name mountpoints
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-BusyboxImage | Out-Null
    $script:image = 'busybox'
    # busybox lacks /etc/hosts, hostname and resolv.conf: its containers get the variant with their targets in etc/
    # (Runtime.EtcTargets.Tests.ps1), which holds proc, dev and sys as the plain layer does.
    $script:layer = Join-Path $env:PSCONTAINERS_DATA_DIR 'mountpoints-etc-0755-0-0-hosts+hostname+resolv.conf'
    # What the container's mount table says: "mount point fstype" per line.
    $script:mountTable = 'busybox awk ''{ print $5, $(NF-2) }'' /proc/self/mountinfo'
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'The mount points layer' -Skip:(-not $isRoot) {
    It 'leaves proc, dev and sys (and /etc''s bind targets) out of an unchanged container''s upper directory and out of its commit' {
        $c = New-Container $image -Command /bin/true | Start-Container -Wait
        $c.ExitCode | Should -Be 0
        $upper = Join-Path $env:PSCONTAINERS_DATA_DIR "containers/$($c.Id)/upper"
        @(Get-ChildItem -Force $upper).Name | Should -Not -Contain 'proc'
        @(Get-ChildItem -Force $upper).Name | Should -Not -Contain 'dev'
        @(Get-ChildItem -Force $upper).Name | Should -Not -Contain 'sys'
        (Get-ChildItem $layer).Name | Should -Be @('dev', 'etc', 'proc', 'sys')

        $committed = New-ContainerImage -Container $c.Id -Name localhost/unchanged:1
        $layout = Join-Path $root 'unchanged-layout'
        Save-ContainerImage -Image $committed.Id -Path $layout -Format OciLayout
        $manifest = Get-Content (Join-Path $layout "blobs/sha256/$(((Get-Content "$layout/index.json" -Raw | ConvertFrom-Json).manifests[0].digest -split ':')[1])") -Raw | ConvertFrom-Json
        $entries = & tar -tzf (Join-Path $layout "blobs/sha256/$(($manifest.layers[-1].digest -split ':')[1])")
        $entries -match '^(\./)?(proc|dev|sys)/?$' | Should -BeNullOrEmpty
        $entries -match '^(\./)?etc(/|$)' | Should -BeNullOrEmpty -Because 'nor the targets of the generated files (their /etc variant)'
        $c | Remove-Container
    }

    It 'mounts /proc, /dev and /sys at those paths when a hostile image has a link and a file there; the host canary stays empty' {
        $canary = Join-Path $root 'canary'
        New-Item -ItemType Directory $canary | Out-Null
        $work = Join-Path $root 'hostile'
        New-Item -ItemType Directory "$work/tree" | Out-Null
        New-Item -ItemType SymbolicLink -Path "$work/tree/proc" -Target /etc | Out-Null
        Set-Content "$work/tree/dev" 'a file of the image'
        New-Item -ItemType SymbolicLink -Path "$work/tree/sys" -Target ('../../../../../..' + $canary) | Out-Null
        Import-BusyboxWithLayer -Name localhost/hostile-mountpoints:1 -Tree "$work/tree" -Work $work | Out-Null

        $out = Invoke-ContainerImage localhost/hostile-mountpoints:1 -Remove -Command sh, -c, "$mountTable; busybox head -c 5 /etc/passwd"
        $LASTEXITCODE | Should -Be 0
        $out | Should -Contain '/proc proc'
        $out | Should -Contain '/dev tmpfs'
        $out | Should -Contain '/sys sysfs'
        $out | Where-Object { $_ -match '^/etc ' } | Should -BeNullOrEmpty -Because 'nothing is mounted over the image''s /etc'
        $out[-1] | Should -Be 'root:'
        Get-ChildItem -Force $canary | Should -BeNullOrEmpty
        (Get-Content /proc/self/mountinfo) -match [regex]::Escape(" $canary") | Should -BeNullOrEmpty
    }

    It 'serves a rootless container too: its user namespace''s root reads the user''s layer, the upper stays without them' {
        $out = @(Invoke-AsTestUser -Script @"
`$c = New-Container busybox -Command sh, -c, 'busybox awk ''{ print `$5, `$(NF-2) }'' /proc/self/mountinfo'
(Start-Container `$c.Name -Wait | Get-ContainerLog).Text
'upper=' + (@(Get-ChildItem -Force "`$env:PSCONTAINERS_DATA_DIR/containers/`$(`$c.Id)/upper").Name -join ',')
'layer=' + (@(Get-ChildItem (Get-Item "`$env:PSCONTAINERS_DATA_DIR/mountpoints-etc-*").FullName).Name -join ',')
Remove-Container `$c.Name
"@)
        $out | Should -Contain '/proc proc' -Because "$out"
        $out | Should -Contain '/dev tmpfs'
        $out | Should -Contain '/sys sysfs'
        @($out -match '^upper=') | Should -HaveCount 1
        @($out -match '^upper=')[0] | Should -Not -Match '\b(proc|dev|sys)\b'
        $out | Should -Contain 'layer=dev,etc,proc,sys'
    }

    It 'starts when an admin deleted the layer, and makes it again' {
        Invoke-ContainerImage $image -Remove -Command /bin/true
        Remove-Item -Recurse -Force $layer
        $out = Invoke-ContainerImage $image -Remove -Command sh, -c, $mountTable
        $LASTEXITCODE | Should -Be 0
        $out | Should -Contain '/proc proc'
        (Get-ChildItem $layer).Name | Should -Be @('dev', 'etc', 'proc', 'sys')
    }
}
