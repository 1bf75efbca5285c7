# The local image store and its cmdlets, against layouts and archives made by umoci, skopeo and buildah,
# with `umoci unpack` as the reference for every unpacked tree.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name images
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force

    $script:IsRoot = (id -u) -eq '0'
    # Peer-made fixtures, cached per fixture-script version (building them takes a few seconds).
    $script_ = Join-Path $PSScriptRoot '../fixtures/images.sh'
    $key = (Get-FileHash -Algorithm SHA256 $script_).Hash.Substring(0, 12).ToLowerInvariant()
    $script:fx = Join-Path ([IO.Path]::GetTempPath()) "pscontainers-fixture-images-$key"
    if ($IsRoot) {
        $log = & bash $script_ $fx 2>&1
        if ($LASTEXITCODE -ne 0) { throw "tests/fixtures/images.sh failed ($LASTEXITCODE): $($log -join "`n")" }
    }

    function Get-TreeListing([string] $Path) {
        # One line per entry: type, path, mode, owner, link count of files, symlink target, content digest, user.* xattrs.
        $lines = & find $Path -mindepth 1 -printf '%y|%P|%m|%U:%G|%n|%l\n' | ForEach-Object {
            $f = $_.Split('|')
            if ($f[0] -ne 'f') { $f[4] = '-' }
            $full = Join-Path $Path $f[1]
            $hash = if ($f[0] -eq 'f') { (Get-FileHash -Algorithm SHA256 -LiteralPath $full).Hash } else { '-' }
            $xattrs = if ($f[0] -in 'f', 'd') { (& getfattr --absolute-names -d -m '^user\.' -- $full 2>$null | Where-Object { $_ -match '=' }) -join ',' } else { '' }
            ($f + $hash + $xattrs) -join '|'
        }
        return @($lines | Sort-Object -CaseSensitive)
    }

    function Get-MergedTree($Image) {
        # The kernel's own merge of our layer dirs (overlayfs), so whiteouts and opaque dirs are judged
        # by what they do, not by how they are written down.
        $dirs = @($Image.Layers.Directory)
        if ($dirs.Count -eq 1) { return Get-TreeListing $dirs[0] }
        $mnt = Join-Path $root ('merged-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory $mnt | Out-Null
        [array]::Reverse($dirs)
        & mount -t overlay overlay -o "lowerdir=$($dirs -join ':')" $mnt
        if ($LASTEXITCODE -ne 0) { throw 'overlay mount failed' }
        try { return Get-TreeListing $mnt }
        finally { & umount $mnt; Remove-Item $mnt }
    }

    function Compare-Tree($Image, [string] $Reference) {
        $ours = Get-MergedTree $Image
        $theirs = Get-TreeListing $Reference
        $diff = Compare-Object $ours $theirs -CaseSensitive | ForEach-Object { "$($_.SideIndicator) $($_.InputObject)" }
        return @($diff)
    }
}

AfterAll {
    Get-ContainerImage -ErrorAction SilentlyContinue | Remove-ContainerImage -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Import-ContainerImage from peer-made layouts' -Skip:((id -u) -ne '0') {
    It 'imports <Name> and unpacks the same tree as umoci' -ForEach @(
        @{ Name = 'umoci-busybox'; Reference = 'umoci-busybox.rootfs'; Layers = 1 }
        @{ Name = 'umoci-layers'; Reference = 'umoci-layers.rootfs'; Layers = 4 }
        @{ Name = 'skopeo-zstd'; Reference = 'umoci-layers.rootfs'; Layers = 4 }
        @{ Name = 'buildah-busybox'; Reference = 'buildah-busybox.rootfs'; Layers = 2 }
    ) {
        $image = Import-ContainerImage -Path (Join-Path $fx $Name) -Name "test/${Name}:1"
        $image.Names | Should -Be @("localhost/test/${Name}:1")
        $image.Layers.Count | Should -Be $Layers
        Compare-Tree $image (Join-Path $fx $Reference) | Should -BeNullOrEmpty
        Remove-ContainerImage -Name "test/${Name}:1" -Confirm:$false
    }

    It 'writes whiteouts as 0/0 character devices and opaque dirs as trusted.overlay.opaque, with no .wh. names left' {
        $image = Import-ContainerImage -Path (Join-Path $fx 'umoci-layers') -Name wh
        $l3 = $image.Layers[2].Directory
        (& stat -c '%F %t:%T' (Join-Path $l3 'data/delete-me.txt')) | Should -Be 'character special file 0:0'
        (& stat -c '%F %t:%T' (Join-Path $l3 'links/remove-me-symlink')) | Should -Be 'character special file 0:0'
        (& getfattr --absolute-names --only-values -n trusted.overlay.opaque (Join-Path $l3 'opaque')) | Should -Be 'y'
        foreach ($d in $image.Layers.Directory) { @(& find $d -name '.wh.*') | Should -BeNullOrEmpty }
        # The setuid bit, the xattr and the hardlink survive in the layer itself.
        $l2 = $image.Layers[1].Directory
        (& stat -c '%a' (Join-Path $l2 'usr/local/bin/suid-tool')) | Should -Be '4755'
        (& stat -c '%i' (Join-Path $l2 'links/a-original.txt')) | Should -Be (& stat -c '%i' (Join-Path $l2 'links/b-hardlink.txt'))
        (& readlink (Join-Path $l2 'links/escaping-symlink')) | Should -Be '../../../../etc/passwd'
        Remove-ContainerImage -Name wh -Confirm:$false
    }

    It 'imports an oci-archive and a docker-archive of the same image to the same id and tree, sharing layers' {
        $layout = Import-ContainerImage -Path (Join-Path $fx 'umoci-layers') -Name layers:layout
        $layerCount = @(Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/layers')).Count
        $oci = Import-ContainerImage -Path (Join-Path $fx 'layers.oci.tar') -Name layers:oci
        $oci.Id | Should -Be $layout.Id
        $docker = Import-ContainerImage -Path (Join-Path $fx 'layers.docker.tar')
        $docker.Names | Should -Contain 'localhost/layers:latest'   # the name manifest.json carries
        $docker.Id | Should -Be $layout.Id
        @(Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/layers')).Count | Should -Be $layerCount
        Compare-Tree $docker (Join-Path $fx 'umoci-layers.rootfs') | Should -BeNullOrEmpty
        @(Get-ContainerImage -Id $layout.Id).Count | Should -Be 3   # one row per name
        Remove-ContainerImage -Id $layout.Id -Force -Confirm:$false
        Get-ContainerImage -Id $layout.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        @(Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/layers')).Count | Should -Be 0
    }

    It 'saves to a layout umoci reads, to archives skopeo reads, and re-imports them' {
        $image = Import-ContainerImage -Path (Join-Path $fx 'umoci-layers') -Name roundtrip:1
        $out = Join-Path $root 'saved'
        New-Item -ItemType Directory $out | Out-Null
        Save-ContainerImage -Image roundtrip:1 -Path (Join-Path $out 'layout')
        Save-ContainerImage -Image roundtrip:1 -Path (Join-Path $out 'oci.tar')
        $image | Save-ContainerImage -Path (Join-Path $out 'docker.tar') -Format DockerArchive
        & umoci unpack --image "$(Join-Path $out 'layout'):1" (Join-Path $out 'bundle') 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 0
        $diff = Compare-Object (Get-TreeListing (Join-Path $out 'bundle/rootfs')) (Get-TreeListing (Join-Path $fx 'umoci-layers.rootfs')) -CaseSensitive
        $diff | Should -BeNullOrEmpty
        $inspect = & skopeo inspect --raw "oci-archive:$(Join-Path $out 'oci.tar')" | ConvertFrom-Json
        $inspect.layers.Count | Should -Be 4
        $dockerInspect = & skopeo inspect "docker-archive:$(Join-Path $out 'docker.tar')" | ConvertFrom-Json
        $dockerInspect.Layers.Count | Should -Be 4
        { Save-ContainerImage -Image roundtrip:1 -Path (Join-Path $out 'oci.tar') } | Should -Throw -ErrorId 'ArchiveExists,Containers.Cmdlets.Commands.Image.SaveContainerImageCommand'

        Remove-ContainerImage -Name roundtrip:1 -Confirm:$false
        foreach ($p in 'layout', 'oci.tar', 'docker.tar') {
            $back = Import-ContainerImage -Path (Join-Path $out $p)
            $back.Id | Should -Be $image.Id
            Compare-Tree $back (Join-Path $fx 'umoci-layers.rootfs') | Should -BeNullOrEmpty
        }
        (Get-ContainerImage -Id $image.Id).Names | Should -Contain 'localhost/roundtrip:1'
        Remove-ContainerImage -Id $image.Id -Force -Confirm:$false
    }

    It 'refuses a layout whose layer was tampered with, and stores nothing' {
        $layersBefore = @(Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/layers') -ErrorAction SilentlyContinue).Count
        $copy = Join-Path $root 'tampered'
        Copy-Item -Recurse (Join-Path $fx 'umoci-busybox') $copy
        $manifestDigest = ((Get-Content (Join-Path $copy 'index.json') | ConvertFrom-Json).manifests[0].digest -split ':')[1]
        $manifest = Get-Content (Join-Path $copy "blobs/sha256/$manifestDigest") | ConvertFrom-Json
        $blob = Join-Path $copy "blobs/sha256/$(($manifest.layers[0].digest -split ':')[1])"
        $bytes = [IO.File]::ReadAllBytes($blob); $bytes[100] = $bytes[100] -bxor 0xff; [IO.File]::WriteAllBytes($blob, $bytes)
        { Import-ContainerImage -Path $copy -Name tampered -ErrorAction Stop } | Should -Throw -ErrorId 'DigestMismatch,Containers.Cmdlets.Commands.Image.ImportContainerImageCommand'
        Get-ContainerImage -Name tampered -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        @(Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/layers')).Count | Should -Be $layersBefore
        @(Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/tmp')).Count | Should -Be 0
    }
}

Describe 'Import-ContainerImage errors and -WhatIf' {
    It 'reports a missing path' {
        { Import-ContainerImage -Path (Join-Path $root 'nope') -ErrorAction Stop } | Should -Throw -ErrorId 'ArchiveNotFound,Containers.Cmdlets.Commands.Image.ImportContainerImageCommand'
    }
    It 'reports a directory that is no layout' {
        $d = New-Item -ItemType Directory (Join-Path $root 'not-a-layout') -Force
        { Import-ContainerImage -Path $d.FullName -ErrorAction Stop } | Should -Throw -ErrorId 'UnknownArchiveFormat,Containers.Cmdlets.Commands.Image.ImportContainerImageCommand'
    }
    It 'refuses a layer over the configured decompression bound' {
        $env:PSCONTAINERS_MAX_LAYER_SIZE = '1M'   # busybox alone unpacks to about 2 MB
        try {
            { Import-ContainerImage -Path (Get-BusyboxLayout) -Name bomb -ErrorAction Stop } | Should -Throw -ErrorId 'LayerTooLarge,Containers.Cmdlets.Commands.Image.ImportContainerImageCommand'
        }
        finally { Remove-Item env:PSCONTAINERS_MAX_LAYER_SIZE }
        Get-ContainerImage -Name bomb -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        @(Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/tmp')).Count | Should -Be 0
    }

    It 'reports a full disk, keeps nothing of the failed layer, and the same store takes the next import' -Skip:((id -u) -ne '0') {
        # A 6 MiB tmpfs as the data dir and an 8 MiB layer of random bytes that cannot fit.
        $work = Join-Path $root 'diskfull'
        New-Item -ItemType Directory "$work/rootfs/data", "$work/small" -Force | Out-Null
        & head -c 8M /dev/urandom > "$work/rootfs/data/random.bin"
        & tar -C "$work/rootfs" -cf "$work/layer.tar" data
        & umoci init --layout "$work/layout"; & umoci new --image "$work/layout:latest"
        & umoci raw add-layer --image "$work/layout:latest" "$work/layer.tar"
        & mount -t tmpfs -o size=6m tmpfs "$work/small"
        $dataDir = $env:PSCONTAINERS_DATA_DIR
        $env:PSCONTAINERS_DATA_DIR = "$work/small/data"
        try {
            $e = { Import-ContainerImage -Path "$work/layout" -Name full -ErrorAction Stop } |
                Should -Throw -ErrorId 'DiskFull,Containers.Cmdlets.Commands.Image.ImportContainerImageCommand' -PassThru
            $e.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $e.TargetObject | Should -Be "$work/small/data/images"
            Get-ContainerImage -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            @(Get-ChildItem "$work/small/data/images/tmp", "$work/small/data/images/layers").Count | Should -Be 0
            # Busybox (about 2 MB unpacked) fits only if the failed layer's bytes were all released.
            (Import-ContainerImage -Path (Get-BusyboxLayout) -Name after-full).Names | Should -Contain 'localhost/after-full:latest'
        }
        finally {
            $env:PSCONTAINERS_DATA_DIR = $dataDir
            & umount "$work/small"
            Remove-Item -Recurse -Force $work
        }
    }

    It 'changes nothing with -WhatIf' {
        $db = Join-Path $env:PSCONTAINERS_DATA_DIR 'images/images.json'
        $before = if (Test-Path $db) { Get-Content $db -Raw }
        $layers = @(Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/layers') -ErrorAction SilentlyContinue).Count
        Import-ContainerImage -Path (Get-BusyboxLayout) -Name whatif -WhatIf
        Get-ContainerImage -Name whatif -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $(if (Test-Path $db) { Get-Content $db -Raw }) | Should -Be $before
        @(Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/layers') -ErrorAction SilentlyContinue).Count | Should -Be $layers
    }
}

Describe 'Get-, Add-ContainerImageTag and Remove-ContainerImage' {
    BeforeAll {
        $script:bb = Import-BusyboxImage
    }

    It 'the fixture imports busybox as localhost/busybox:latest with /bin/sh as Cmd' {
        $bb.Names | Should -Be @('localhost/busybox:latest')
        $bb.Config.Config.Cmd | Should -Be @('/bin/sh')
        Test-Path (Join-Path $bb.Layers[0].Directory 'bin/sh') | Should -BeTrue
        (& stat -c '%a' (Join-Path $bb.Layers[0].Directory 'tmp')) | Should -Be '1777'
    }

    It 'finds images by short name, id prefix, digest and wildcard' {
        (Get-ContainerImage busybox).Id | Should -Be $bb.Id
        (Get-ContainerImage -Id $bb.Id.Substring(0, 5)).Id | Should -Be $bb.Id
        (Get-ContainerImage -Digest $bb.Digest).Id | Should -Be $bb.Id
        (Get-ContainerImage -Name 'busy*').Id | Should -Be $bb.Id
        Get-ContainerImage -Name 'nothing*' | Should -BeNullOrEmpty
    }

    It 'writes a non-terminating ImageNotFound for a literal name that matches nothing' {
        $r = Get-ContainerImage -Name nothing-here, busybox -ErrorVariable err -ErrorAction SilentlyContinue
        $r.Id | Should -Be $bb.Id
        $err[0].FullyQualifiedErrorId | Should -Be 'ImageNotFound,Containers.Cmdlets.Commands.Image.GetContainerImageCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'shows a podman-like table' {
        $text = Get-ContainerImage | Out-String
        $text | Should -Match 'REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE'
        $text | Should -Match "localhost/busybox\s+latest\s+$($bb.Id.Substring(0, 12))"
    }

    It 'completes image names' {
        $c = TabExpansion2 -inputScript 'Get-ContainerImage -Name busy' -cursorColumn 'Get-ContainerImage -Name busy'.Length
        $c.CompletionMatches.CompletionText | Should -Contain 'localhost/busybox:latest'
    }

    It 'tags, untags by name, and refuses to delete a multi-named image by id without -Force' {
        $tagged = Add-ContainerImageTag -Image busybox -Tag registry.example.com/tools/bb:1, other -PassThru
        $tagged[-1].Names | Should -Be @('localhost/busybox:latest', 'registry.example.com/tools/bb:1', 'localhost/other:latest')
        { Remove-ContainerImage -Id $bb.Id -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'ImageHasSeveralNames,Containers.Cmdlets.Commands.Image.RemoveContainerImageCommand'
        Remove-ContainerImage -Name other -Confirm:$false
        Remove-ContainerImage -Name registry.example.com/tools/bb:1 -Confirm:$false
        (Get-ContainerImage -Id $bb.Id).Names | Should -Be @('localhost/busybox:latest')
    }

    It 'lists one row per repository:tag, as podman images does, and says what it tagged and untagged' {
        $tagged = Add-ContainerImageTag -Image busybox -Tag registry.example.com/tools/bb:1, other -PassThru
        # -PassThru: the rows of the new names, as the store spells them
        @($tagged).ForEach({ "$($_.Repository):$($_.Tag)" }) | Should -Be @('registry.example.com/tools/bb:1', 'localhost/other:latest')
        try {
            $rows = @(Get-ContainerImage | Where-Object Id -EQ $bb.Id)
            $rows.ForEach({ "$($_.Repository):$($_.Tag)" }) | Should -Be @('localhost/busybox:latest', 'registry.example.com/tools/bb:1', 'localhost/other:latest')
            $table = Get-ContainerImage | Out-String
            $table | Should -Match "registry.example.com/tools/bb\s+1\s+$($bb.Id.Substring(0, 12))"
            $table | Should -Match "localhost/other\s+latest\s+$($bb.Id.Substring(0, 12))"
            # By a name: only that name's row; by id: every row
            (Get-ContainerImage other).Name | Should -Be 'localhost/other:latest'
            @(Get-ContainerImage -Id $bb.Id).Count | Should -Be 3
            # Untagging says which name went
            $verbose = Remove-ContainerImage -Name other -Confirm:$false -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
            $verbose.Message | Should -Contain "Untagged localhost/other:latest from image $($bb.Id.Substring(0, 12))."
            $gone = Remove-ContainerImage -Name registry.example.com/tools/bb:1 -Confirm:$false -PassThru
            "$($gone.Repository):$($gone.Tag)" | Should -Be 'registry.example.com/tools/bb:1'
        }
        finally { Remove-ContainerImage -Name other, registry.example.com/tools/bb:1 -Confirm:$false -ErrorAction SilentlyContinue }
        @(Get-ContainerImage | Where-Object Id -EQ $bb.Id).Name | Should -Be 'localhost/busybox:latest'
    }

    It 'untags the name of a piped row of a multi-named image' {
        Add-ContainerImageTag -Image busybox -Tag piped:1
        Get-ContainerImage piped:1 | Remove-ContainerImage -Confirm:$false
        (Get-ContainerImage -Id $bb.Id).Names | Should -Be @('localhost/busybox:latest')
    }

    It 'binds the pipeline and changes nothing with -WhatIf' {
        $before = Get-Content (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/images.json') -Raw
        $out = Get-ContainerImage | Remove-ContainerImage -WhatIf 6>&1 | Out-String
        Get-ContainerImage -Id $bb.Id | Should -Not -BeNullOrEmpty
        Get-Content (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/images.json') -Raw | Should -Be $before
        Test-Path $bb.Layers[0].Directory | Should -BeTrue
    }

    It 'lists dangling images and removes them through the pipeline' {
        Add-ContainerImageTag -Image busybox -Tag keep:1
        Remove-ContainerImage -Name busybox -Confirm:$false   # one of two names: untag only
        Get-ContainerImage -Id $bb.Id | Should -Not -BeNullOrEmpty
        Get-ContainerImage -Dangling | Should -BeNullOrEmpty
        'keep:1' | Remove-ContainerImage -Confirm:$false   # last name, by pipeline: the image goes
        Get-ContainerImage -Id $bb.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Test-Path $bb.Layers[0].Directory | Should -BeFalse
        $script:bb = Import-BusyboxImage
    }

    It 'rejects a bad name with a typed error' {
        { Add-ContainerImageTag -Image busybox -Tag 'Bad Name' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidImageReference,Containers.Cmdlets.Commands.Image.AddContainerImageTagCommand'
    }
}

Describe 'The store across processes' {
    BeforeAll {
        $script:pwsh = Get-TestPwsh
        $script:module = Get-TestModulePath
        $script:layout = Get-BusyboxLayout
    }

    It 'lets two processes import at once and keeps both records' {
        $procs = foreach ($n in 1, 2) {
            $cmd = "Import-Module '$module'; Import-ContainerImage -Path '$layout' -Name concurrent:$n -ErrorAction Stop | Out-Null; Add-ContainerImageTag -Image concurrent:$n -Tag more:$n -ErrorAction Stop"
            Start-Process -FilePath $pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-Command', $cmd -PassThru -RedirectStandardError (Join-Path $root "err$n.txt")
        }
        $procs | ForEach-Object { $_.WaitForExit(); $_.ExitCode | Should -Be 0 -Because (Get-Content (Join-Path $root "err$($_.Id).txt") -ErrorAction SilentlyContinue) }
        $names = (Get-ContainerImage -Name 'concurrent:1').Names
        foreach ($n in 'localhost/concurrent:1', 'localhost/concurrent:2', 'localhost/more:1', 'localhost/more:2') { $names | Should -Contain $n }
        @(Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/tmp') -Filter '*.lock').Count | Should -Be 0
    }

    It 'leaves nothing visible when an import is killed, and the next import works' -Skip:((id -u) -ne '0') {
        # A layer big enough to still be unpacking when the SIGKILL arrives.
        $big = Join-Path $root 'big'
        New-Item -ItemType Directory "$big/rootfs/data" -Force | Out-Null
        & head -c 96M /dev/urandom > "$big/rootfs/data/random.bin"
        & tar -C "$big/rootfs" -cf "$big/layer.tar" data
        & umoci init --layout "$big/layout"; & umoci new --image "$big/layout:latest"
        & umoci raw add-layer --image "$big/layout:latest" "$big/layer.tar"
        Remove-Item -Recurse "$big/rootfs", "$big/layer.tar"
        $tmp = Join-Path $env:PSCONTAINERS_DATA_DIR 'images/tmp'
        $p = Start-Process -FilePath $pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-Command', "Import-Module '$module'; Import-ContainerImage -Path '$big/layout' -Name killed" -PassThru
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not (Get-ChildItem $tmp -Recurse -Filter random.bin -ErrorAction SilentlyContinue) -and -not $p.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $p.HasExited | Should -BeFalse -Because 'the import must still be running to be killed mid-way'
        & kill -KILL $p.Id
        $p.WaitForExit()
        Get-ContainerImage -Name killed -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        @(Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'images/layers') | Where-Object { Test-Path "$($_.FullName)/diff/data/random.bin" }) | Should -BeNullOrEmpty
        # The rerun clears the dead staging dir and completes.
        $image = Import-ContainerImage -Path "$big/layout" -Name killed
        (Get-Item (Join-Path $image.Layers[0].Directory 'data/random.bin')).Length | Should -Be 96MB
        @(Get-ChildItem $tmp).Count | Should -Be 0
        Remove-ContainerImage -Name killed -Confirm:$false
        Remove-Item -Recurse $big
    }
}

Describe 'Rootless import (an unprivileged user created by the test)' -Skip:((id -u) -ne '0') {
    BeforeAll {
        $script:pwshDll = Get-TestPwshForUsers
        $script:user = 'psimg' + (Get-Random -Maximum 999999)
        $script:userHome = Join-Path ([IO.Path]::GetTempPath()) "$user-home"
        & useradd --create-home --home-dir $userHome --shell /bin/sh --user-group $user
        if ($LASTEXITCODE) { throw "useradd $user failed" }
        $script:userStore = Join-Path $userHome 'data/images'
    }
    AfterAll {
        & userdel --remove $user 2>$null
        Remove-Item $userHome -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'unpacks with user.overlay.opaque and 0/0 whiteouts that a userxattr overlay mount honours, and removes it all' {
        $script = Join-Path $userHome 'import.ps1'
        @"
`$ErrorActionPreference = 'Stop'
`$env:PSCONTAINERS_DATA_DIR = "`$HOME/data"; `$env:PSCONTAINERS_STATE_DIR = "`$HOME/state"; `$env:PSCONTAINERS_LOG_DIR = "`$HOME/logs"; `$env:PSCONTAINERS_CONFIG_DIR = "`$HOME/config"
Import-Module '$(Get-TestModulePathForUsers)'
`$i = Import-ContainerImage -Path "`$HOME/umoci-layers" -Name layers -WarningAction SilentlyContinue
(`$i.Layers.Directory | Select-Object -Last 100) -join ':' | Set-Content "`$HOME/layers.txt"
"@ | Set-Content $script
        # umoci writes index.json 0600: the user gets its own copy of the layout.
        Copy-Item -Recurse (Join-Path $fx 'umoci-layers') (Join-Path $userHome 'umoci-layers')
        & chown -R "${user}:${user}" $userHome
        $asUser = @('setpriv', '--reuid', $user, '--regid', $user, '--clear-groups', '--reset-env', '--', '/usr/bin/env', "HOME=$userHome", 'PATH=/usr/bin:/bin', "DOTNET_CLI_HOME=$userHome")
        $out = & $asUser[0] $asUser[1..($asUser.Count - 1)] /usr/bin/dotnet $pwshDll -NoProfile -NonInteractive -File $script 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $dirs = (Get-Content (Join-Path $userHome 'layers.txt')).Split(':')
        $dirs.Count | Should -Be 4
        (& stat -c '%F %t:%T' (Join-Path $dirs[2] 'data/delete-me.txt')) | Should -Be 'character special file 0:0'
        (& getfattr --absolute-names --only-values -n user.overlay.opaque (Join-Path $dirs[2] 'opaque')) | Should -Be 'y'
        (& stat -c '%U %a' (Join-Path $dirs[1] 'usr/local/bin/suid-tool')) | Should -Be "$user 4755"
        (& stat -c '%U' (Join-Path $dirs[1] 'home/user/owned.txt')) | Should -Be $user

        # The kernel's view: the user mounts the layers with userxattr in its own user namespace.
        $lower = ($dirs[3..0]) -join ':'
        $listing = & $asUser[0] $asUser[1..($asUser.Count - 1)] unshare -rm sh -c "mkdir -p `$HOME/m && mount -t overlay overlay -o lowerdir=$lower,userxattr `$HOME/m && cd `$HOME/m && find . -mindepth 1 | sort" 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($listing -join "`n")
        $expected = & sh -c "cd '$(Join-Path $fx 'umoci-layers.rootfs')' && find . -mindepth 1 | sort"
        Compare-Object @($listing) @($expected) -CaseSensitive | Should -BeNullOrEmpty

        # And the user can delete what it unpacked, 0700 dirs included.
        @"
`$env:PSCONTAINERS_DATA_DIR = "`$HOME/data"; `$env:PSCONTAINERS_STATE_DIR = "`$HOME/state"; `$env:PSCONTAINERS_LOG_DIR = "`$HOME/logs"; `$env:PSCONTAINERS_CONFIG_DIR = "`$HOME/config"
Import-Module '$(Get-TestModulePathForUsers)'
Remove-ContainerImage -Name layers -Confirm:`$false -ErrorAction Stop
"@ | Set-Content $script
        $out = & $asUser[0] $asUser[1..($asUser.Count - 1)] /usr/bin/dotnet $pwshDll -NoProfile -NonInteractive -File $script 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        @(Get-ChildItem (Join-Path $userStore 'layers')).Count | Should -Be 0
    }
}
