# Copy-ContainerItem: files between the host and a container, running or stopped, with modes, owners and links kept,
# and a hostile container whose paths are symlinks out of its root (absolute /etc, relative ../../.., in its image and
# made by itself in its upper directory): the copy must resolve them inside the container, checked from the host.
BeforeDiscovery { $script:isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name copy
    Import-Module (Get-TestModulePath) -Force

    # The image: busybox, a real /etc/nginx tree, and the attacker's links: /srv/abs -> /etc, /srv/rel -> ../../../../../etc.
    $rootfs = Join-Path $root 'rootfs'
    New-Item -ItemType Directory -Force "$rootfs/bin", "$rootfs/etc/nginx/conf.d", "$rootfs/srv", "$rootfs/tmp" | Out-Null
    Copy-Item (Get-Command busybox).Source "$rootfs/bin/busybox"
    foreach ($a in 'sh', 'cat', 'ls', 'stat', 'echo', 'readlink', 'sleep', 'true', 'rm', 'mkdir', 'ln') { & ln -s busybox "$rootfs/bin/$a" }
    Set-Content "$rootfs/etc/marker" 'container-etc'
    Set-Content "$rootfs/etc/nginx/nginx.conf" 'worker_processes 1;'
    Set-Content "$rootfs/etc/nginx/conf.d/site.conf" 'server {}'
    & ln -s nginx.conf "$rootfs/etc/nginx/current"
    & chown 101:102 "$rootfs/etc/nginx/conf.d/site.conf"; & chmod 604 "$rootfs/etc/nginx/conf.d/site.conf"
    & chmod 710 "$rootfs/etc/nginx/conf.d"
    & ln -s /etc "$rootfs/srv/abs"
    & ln -s ../../../../../etc "$rootfs/srv/rel"
    $tar = Join-Path $root 'rootfs.tar'
    & tar --numeric-owner -C $rootfs -cf $tar .
    $null = Import-ContainerImage -RootFsTarball $tar -Name localhost/copytest:1
    $script:web = New-Container localhost/copytest:1 -Name web -Command sleep, 600 | Start-Container -PassThru
    # Stopped, with a file it wrote and one it deleted (in its upper directory).
    # It also makes its own links out, in its upper directory.
    $script:stopped = New-Container localhost/copytest:1 -Name done -Command sh, -c, 'echo new > /etc/nginx/added; rm /etc/nginx/nginx.conf; ln -s / /srv/upabs; ln -s ../../../../etc /srv/uprel' | Start-Container -Wait -PassThru
    # One that deleted a directory of its image (a whiteout in its upper directory), one never started, one with a bind mount.
    $null = New-Container localhost/copytest:1 -Name wiped -Command rm, -r, /etc/nginx/conf.d | Start-Container -Wait
    New-Item -ItemType Directory (Join-Path $root 'bound') | Out-Null
    $null = New-Container localhost/copytest:1 -Name mounted -Volume "$(Join-Path $root 'bound'):/data" -Command true
    $script:out = Join-Path $root 'out'
    New-Item -ItemType Directory $out | Out-Null
    # A canary in the host's /etc that a copy through the links would reach.
    $script:canary = "/etc/pscontainers-copy-canary-$PID"
    function script:Get-Owner([string] $Path) { & stat -c '%u:%g %a' $Path }
    # A host tree to copy in: a file of another owner with its own mode, a link, an empty folder.
    function script:New-Site([string] $Name) {
        $src = Join-Path $root $Name
        New-Item -ItemType Directory "$src/static" | Out-Null
        Set-Content "$src/index.html" 'hello'
        & chown 33:34 "$src/index.html"; & chmod 640 "$src/index.html"
        & ln -s index.html "$src/home"
        return $src
    }
}

AfterAll {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-Item $script:canary -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Copy-ContainerItem out of a container' -Skip:(-not $isRoot) {
    It 'copies a running container''s directory with modes, owners and links' {
        Copy-ContainerItem web:/etc/nginx (Join-Path $out 'conf') -Recurse
        Get-Content "$out/conf/nginx.conf" | Should -Be 'worker_processes 1;'
        Get-Owner "$out/conf/conf.d/site.conf" | Should -Be '101:102 604'
        Get-Owner "$out/conf/conf.d" | Should -Be '0:0 710'
        & readlink "$out/conf/current" | Should -Be 'nginx.conf'
        @(Get-ChildItem -Force $out).Name | Should -Be @('conf') -Because 'no temporary file is left'
    }

    It 'copies into an existing folder under the source''s name, and a directory empty without -Recurse' {
        $into = Join-Path $out 'into'
        New-Item -ItemType Directory $into | Out-Null
        Copy-ContainerItem web:/etc/nginx/nginx.conf $into
        Get-Content "$into/nginx.conf" | Should -Be 'worker_processes 1;'
        Copy-ContainerItem web:/etc/nginx $into
        @(Get-ChildItem -Force "$into/nginx").Count | Should -Be 0
    }

    It 'copies a stopped container''s tree as it left it' {
        Copy-ContainerItem done:/etc/nginx (Join-Path $out 'stopped') -Recurse
        Get-Content "$out/stopped/added" | Should -Be 'new'
        Test-Path "$out/stopped/nginx.conf" | Should -BeFalse -Because 'the container deleted it'
        Get-Owner "$out/stopped/conf.d/site.conf" | Should -Be '101:102 604'
    }

    It 'resolves a hostile symlink (<link>) inside the container''s root, running and stopped' -ForEach @(
        @{ Link = 'srv/abs' }, @{ Link = 'srv/rel' }
    ) {
        foreach ($c in 'web', 'done') {
            $dest = Join-Path $out "$c-$($Link -replace '/', '-')"
            Copy-ContainerItem "${c}:/$Link" $dest -Recurse
            Get-Content "$dest/marker" | Should -Be 'container-etc'
            Test-Path "$dest/passwd" | Should -BeFalse -Because 'the host''s /etc has one, the container''s does not'
            Test-Path "$dest/nginx/conf.d/site.conf" | Should -BeTrue
        }
    }
}

Describe 'Copy-ContainerItem into a container' -Skip:(-not $isRoot) {
    It 'copies a host tree into a running container with modes, owners and links' {
        $src = New-Site 'site'
        Copy-ContainerItem $src web:/srv/ -Recurse
        Invoke-ContainerCommand web -Command stat, -c, '%u:%g %a', /srv/site/index.html | Should -Be '33:34 640'
        Invoke-ContainerCommand web -Command readlink, /srv/site/home | Should -Be 'index.html'
        Invoke-ContainerCommand web -Command cat, /srv/site/index.html | Should -Be 'hello'
    }

    It 'writes through a hostile symlink (<link>) into the container''s /etc, never the host''s' -ForEach @(
        @{ Link = 'srv/abs' }, @{ Link = 'srv/rel' }
    ) {
        $file = Join-Path $root 'pscontainers-copy-canary'
        Set-Content $file 'planted'
        Copy-ContainerItem $file "web:/$Link/$(Split-Path $canary -Leaf)"
        Test-Path $canary | Should -BeFalse -Because 'the host''s /etc must not be written'
        Invoke-ContainerCommand web -Command cat, "/etc/$(Split-Path $canary -Leaf)" | Should -Be 'planted'
    }
}

Describe 'Copy-ContainerItem into a stopped container' -Skip:(-not $isRoot) {
    It 'copies a host tree into a container never started, with modes, owners and links, seen when it starts' {
        $src = New-Site 'site2'
        $c = New-Container localhost/copytest:1 -Command sh, -c, 'stat -c "%u:%g %a" /srv/site2/index.html /etc/nginx/conf.d; readlink /srv/site2/home; cat /srv/site2/index.html /etc/nginx/conf.d/site.conf'
        Copy-ContainerItem $src "$($c.Name):/srv/" -Recurse
        Copy-ContainerItem "$root/site2/index.html" "$($c.Name):/etc/nginx/conf.d/index.html"
        @((Start-Container $c.Name -Wait | Get-ContainerLog).Text) | Should -Be @('33:34 640', '0:0 710', 'index.html', 'hello', 'server {}') -Because 'the copied-up conf.d keeps its mode and its image content'
    }

    It 'writes through a hostile symlink (<link>) into the container''s /etc, never the host''s' -ForEach @(
        @{ Link = 'srv/abs' }, @{ Link = 'srv/rel' }, @{ Link = 'srv/upabs/etc' }, @{ Link = 'srv/uprel' }
    ) {
        $leaf = Split-Path $canary -Leaf
        $file = Join-Path $root 'pscontainers-copy-canary'
        Set-Content $file "planted via $Link"
        Copy-ContainerItem $file "done:/$Link/$leaf"
        Test-Path $canary | Should -BeFalse -Because 'the host''s /etc must not be written'
        Copy-ContainerItem "done:/etc/$leaf" (Join-Path $out "planted-$($Link -replace '/', '-')")
        Get-Content (Join-Path $out "planted-$($Link -replace '/', '-')") | Should -Be "planted via $Link"
    }

    It 'copies a directory over one the container deleted without bringing the image''s content back' {
        $src = Join-Path $root 'conf.d'
        New-Item -ItemType Directory $src | Out-Null
        Set-Content "$src/new.conf" 'server { listen 81; }'
        Copy-ContainerItem $src wiped:/etc/nginx/ -Recurse
        Copy-ContainerItem wiped:/etc/nginx/conf.d (Join-Path $out 'wiped') -Recurse
        @(Get-ChildItem -Force -Name (Join-Path $out 'wiped')) | Should -Be @('new.conf')
    }
}

Describe 'Copy-ContainerItem refuses bad input before anything changes' -Skip:(-not $isRoot) {
    It 'refuses <id> (<from> -> <to>)' -ForEach @(
        @{ Id = 'InvalidContainerPath'; From = 'web:etc/nginx'; To = 'OUT/x' }
        @{ Id = 'CopyPathEscapesRoot'; From = 'web:/../../etc'; To = 'OUT/x' }
        @{ Id = 'CopyPathEscapesRoot'; From = 'HOST'; To = 'web:/srv/../../../etc/x' }
        @{ Id = 'CopyNeedsOneContainer'; From = 'HOST'; To = 'OUT/x' }
        @{ Id = 'CopyNeedsOneContainer'; From = 'web:/etc'; To = 'done:/tmp' }
        @{ Id = 'ContainerPathNotFound'; From = 'web:/no/such'; To = 'OUT/x' }
        @{ Id = 'ContainerPathNotFound'; From = 'done:/no/such'; To = 'OUT/x' }
        @{ Id = 'ContainerPathNotFound'; From = 'HOST'; To = 'done:/no/such/x' }
        @{ Id = 'CopyTargetIsMounted'; From = 'HOST'; To = 'mounted:/data/x' }
        @{ Id = 'CopyDestinationNotFound'; From = 'web:/etc/marker'; To = 'OUT/missing/x' }
        @{ Id = 'ContainerNotFound'; From = 'ghost:/etc'; To = 'OUT/x' }
    ) {
        $hostFile = Join-Path $root 'host.txt'
        Set-Content $hostFile 'x'
        $f = $From -replace '^HOST$', $hostFile -replace '^OUT', $out
        $t = $To -replace '^HOST$', $hostFile -replace '^OUT', $out
        $before = @(Get-ChildItem -Recurse -Force $out).Count
        { Copy-ContainerItem $f $t -Recurse -ErrorAction Stop } | Should -Throw -ErrorId "$Id,*"
        @(Get-ChildItem -Recurse -Force $out).Count | Should -Be $before
        Test-Path "$out/x" | Should -BeFalse
    }

    It 'changes nothing with -WhatIf' {
        Copy-ContainerItem web:/etc/nginx (Join-Path $out 'whatif') -Recurse -WhatIf
        Test-Path (Join-Path $out 'whatif') | Should -BeFalse
    }
}
