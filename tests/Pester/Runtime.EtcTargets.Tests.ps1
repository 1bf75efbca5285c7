# The /etc variants of the store's mount points layer: the empty targets of the generated hosts, hostname and
# resolv.conf binds come from a read-only layer stacked above the image's layers (its etc/ with the image's /etc mode
# and owner), not from a copy-up of /etc into each container's upper directory. Real containers of the busybox fixture
# (its /etc has passwd and group, none of the three) and images built here (tar + umoci) on top of it, hostile ones too.
BeforeDiscovery { $script:isRoot = (id -u) -eq '0' }

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name etctargets
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-BusyboxImage | Out-Null
    $script:data = $env:PSCONTAINERS_DATA_DIR

    # An image: busybox plus one layer made from the tree $Populate builds (run with the tree's path).
    function New-LayeredImage([string] $Name, [scriptblock] $Populate) {
        $work = Join-Path $root ($Name -replace '[^a-z0-9]', '-')
        New-Item -ItemType Directory "$work/tree" | Out-Null
        & $Populate "$work/tree"
        Import-BusyboxWithLayer -Name $Name -Tree "$work/tree" -Work $work | Out-Null
    }
    function Get-Upper($c) { @(Get-ChildItem -Force (Join-Path $data "containers/$($c.Id)/upper")).Name }
    # The image's /etc as the container's record lists its layers: mode (octal), uid, gid of the topmost that has it.
    function Get-ImageEtc($c) {
        $layers = (Get-Content -Raw (Join-Path $data "containers/$($c.Id)/container.json") | ConvertFrom-Json).layerDirectories
        $etc = @($layers | ForEach-Object { Join-Path $_ 'etc' } | Where-Object { Test-Path $_ })[-1]
        & stat -c '%a %u %g' $etc
    }
    function Invoke-Logged($c) { ($c | Start-Container -Wait | Get-ContainerLog).Text }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'The /etc targets of the generated files' -Skip:(-not $isRoot) {
    It 'shows a busybox container its generated hosts, hostname and resolv.conf with /etc as the image has it; its upper directory holds no etc' {
        $c = New-Container busybox -Hostname etc-h1 -AddHost db:192.0.2.7 -Command sh, -c, 'cat /etc/hosts; echo ==; cat /etc/hostname; echo ==; cat /etc/resolv.conf; echo ==; busybox stat -c "%a %u %g" /etc; busybox ls /etc'
        $out = Invoke-Logged $c
        $dir = Join-Path $data "containers/$($c.Id)"
        $sections = ($out -join "`n") -split "`n==`n"
        $sections[0] | Should -Be ((Get-Content -Raw "$dir/hosts").TrimEnd("`n"))
        $sections[0] | Should -Match '192\.0\.2\.7\s+db'
        $sections[1] | Should -Be 'etc-h1'
        $sections[2] | Should -Be ((Get-Content -Raw "$dir/resolv.conf").TrimEnd("`n"))
        $lines = $sections[3] -split "`n"
        $lines[0] | Should -Be (Get-ImageEtc $c)
        $lines[1..9] | Should -Be @('group', 'hostname', 'hosts', 'passwd', 'resolv.conf')
        Get-Upper $c | Should -Not -Contain 'etc' -Because 'the commit of an unchanged busybox container holds no etc either (Runtime.MountPoints.Tests.ps1)'
        $c | Remove-Container
    }

    It 'gives /etc the mode and owner of each image''s own /etc: two images, two layers, neither copied up' {
        New-LayeredImage localhost/etc-mode:1 {
            param($tree)
            New-Item -ItemType Directory "$tree/etc" | Out-Null
            Set-Content "$tree/etc/motd" 'mode'
            & chown 7:8 "$tree/etc"; & chmod 0711 "$tree/etc"
        }
        $odd = New-Container localhost/etc-mode:1 -Command sh, -c, 'busybox stat -c "%a %u %g" /etc; cat /etc/motd; cat /etc/hostname'
        $plain = New-Container busybox -Command sh, -c, 'busybox stat -c "%a %u %g" /etc'
        $out = Invoke-Logged $odd
        $out[0] | Should -Be '711 7 8'
        $out[0] | Should -Be (Get-ImageEtc $odd)
        $out[1] | Should -Be 'mode'
        $out[2] | Should -Be $odd.Id.Substring(0, 12)
        (Invoke-Logged $plain) | Should -Be (Get-ImageEtc $plain)
        Get-Upper $odd | Should -Not -Contain 'etc'
        Get-Upper $plain | Should -Not -Contain 'etc'
        $variants = @(Get-ChildItem $data -Directory -Filter 'mountpoints-etc-*').Name
        $variants | Should -Contain 'mountpoints-etc-0711-7-8-hosts+hostname+resolv.conf'
        $variants | Should -Contain "mountpoints-etc-0$((Get-ImageEtc $plain).Split(' ')[0])-0-0-hosts+hostname+resolv.conf"
        $odd, $plain | Remove-Container
    }

    It 'keeps an image''s own /etc/hosts with -NoHosts and makes only the others without a copy-up' {
        New-LayeredImage localhost/etc-ownhosts:1 {
            param($tree)
            New-Item -ItemType Directory "$tree/etc" | Out-Null
            Set-Content "$tree/etc/hosts" '203.0.113.9 the-image-s-own'
        }
        $c = New-Container localhost/etc-ownhosts:1 -NoHosts -Hostname own -Command sh, -c, 'cat /etc/hosts; cat /etc/hostname; busybox grep -c . /etc/resolv.conf'
        $out = Invoke-Logged $c
        $out[0] | Should -Be '203.0.113.9 the-image-s-own'
        $out[1] | Should -Be 'own'
        [int]$out[2] | Should -BeGreaterThan 0
        Get-Upper $c | Should -Not -Contain 'etc'
        $c | Remove-Container
    }

    It 'binds over an image''s own three files with the plain layer: no variant, nothing of the image hidden' {
        New-LayeredImage localhost/etc-all:1 {
            param($tree)
            New-Item -ItemType Directory "$tree/etc" | Out-Null
            foreach ($n in 'hosts', 'hostname', 'resolv.conf') { Set-Content "$tree/etc/$n" "the image's $n" }
        }
        $before = @(Get-ChildItem $data -Directory -Filter 'mountpoints*').Name
        $c = New-Container localhost/etc-all:1 -Hostname all3 -Command sh, -c, 'cat /etc/hostname; busybox grep -c "the image" /etc/hosts /etc/resolv.conf'
        $out = Invoke-Logged $c
        $out | Should -Be @('all3', '/etc/hosts:0', '/etc/resolv.conf:0')
        Get-Upper $c | Should -Not -Contain 'etc'
        @(Get-ChildItem $data -Directory -Filter 'mountpoints*').Name | Should -Be @(@($before) + 'mountpoints' | Sort-Object -Unique)
        $c | Remove-Container
    }

    It 'leaves an image''s /etc link to a host directory alone: /etc stays the image''s link, the binds land inside the root, the host canary stays empty' {
        $canary = Join-Path $root 'etc-canary'
        New-Item -ItemType Directory $canary | Out-Null
        New-LayeredImage localhost/etc-link:1 {
            param($tree)
            New-Item -ItemType SymbolicLink -Path "$tree/etc" -Target $canary | Out-Null
        }
        $c = New-Container localhost/etc-link:1 -Hostname linked -Command sh, -c, 'busybox readlink /etc; cat /etc/hostname'
        $out = Invoke-Logged $c
        $c = Get-Container $c.Id
        $c.ExitCode | Should -Be 0
        $out[0] | Should -Be $canary
        $out[1] | Should -Be 'linked'
        Get-ChildItem -Force $canary | Should -BeNullOrEmpty
        @(Get-ChildItem $data -Directory -Filter 'mountpoints-etc-*' | Where-Object { Test-Path "$_/etc" -PathType Leaf }) | Should -BeNullOrEmpty
        $c | Remove-Container
    }

    It 'follows an image''s /etc/hosts link inside the root only: to a host file, the host file is untouched' {
        $hostFile = Join-Path $root 'etc-hosts-canary'
        Set-Content $hostFile 'host canary'
        New-LayeredImage localhost/etc-hostslink:1 {
            param($tree)
            New-Item -ItemType Directory "$tree/etc" | Out-Null
            New-Item -ItemType SymbolicLink -Path "$tree/etc/hosts" -Target $hostFile | Out-Null
        }
        $c = New-Container localhost/etc-hostslink:1 -AddHost db:192.0.2.8 -Command sh, -c, 'busybox readlink /etc/hosts; busybox grep -c 192.0.2.8 /etc/hosts'
        $out = Invoke-Logged $c
        $out[0] | Should -Be $hostFile -Because 'the image''s link is kept (no empty file of the layer hides it)'
        $out[1] | Should -Be '1'
        Get-Content $hostFile | Should -Be 'host canary'
        Test-Path -PathType Leaf (Join-Path $data "containers/$($c.Id)/upper$hostFile") | Should -BeTrue -Because 'the link''s target is made inside the root, as before'
        $c | Remove-Container
    }

    It 'refuses an image''s /etc/hosts link into /proc as before, with a typed error and the host untouched' {
        New-LayeredImage localhost/etc-hostsproc:1 {
            param($tree)
            New-Item -ItemType Directory "$tree/etc" | Out-Null
            New-Item -ItemType SymbolicLink -Path "$tree/etc/hosts" -Target /proc/self/root/etc/hosts | Out-Null
        }
        $before = Get-FileHash /etc/hosts
        $c = New-Container localhost/etc-hostsproc:1 -Command /bin/true
        { $c | Start-Container -Wait -ErrorAction Stop } | Should -Throw -ErrorId 'MountFailed,*'
        (Get-FileHash /etc/hosts).Hash | Should -Be $before.Hash
        $c | Remove-Container -Force
    }

    It 'fails a start as before when an image''s /etc/hosts is a directory' {
        New-LayeredImage localhost/etc-hostsdir:1 {
            param($tree)
            New-Item -ItemType Directory "$tree/etc/hosts" | Out-Null
            Set-Content "$tree/etc/hosts/inside" 'a directory of the image'
        }
        $c = New-Container localhost/etc-hostsdir:1 -Command /bin/true
        { $c | Start-Container -Wait -ErrorAction Stop } | Should -Throw -ErrorId 'MountFailed,*'
        $c | Remove-Container -Force
    }

    It 'serves a rootless container too: the user''s variant, its upper without etc' {
        $out = @(Invoke-AsTestUser -Script @"
`$c = New-Container busybox -Hostname rootless-etc -Command sh, -c, 'cat /etc/hostname; busybox stat -c "%a %u %g" /etc'
(Start-Container `$c.Name -Wait | Get-ContainerLog).Text
'upper=' + (@(Get-ChildItem -Force "`$env:PSCONTAINERS_DATA_DIR/containers/`$(`$c.Id)/upper").Name -join ',')
'layers=' + (@(Get-ChildItem "`$env:PSCONTAINERS_DATA_DIR" -Filter 'mountpoints-etc-*').Name -join ',')
Remove-Container `$c.Name
"@)
        $out | Should -Contain 'rootless-etc' -Because "$out"
        $out | Should -Contain '755 0 0'
        @($out -match '^upper=') | Should -HaveCount 1
        @($out -match '^upper=')[0] | Should -Not -Match '\betc\b'
        @($out -match '^layers=mountpoints-etc-0755-\d+-\d+-hosts\+hostname\+resolv\.conf$') | Should -HaveCount 1
    }
}
