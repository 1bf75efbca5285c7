# Named volumes: New/Get/Remove-ContainerVolume, -Volume name:/path (made on first use, copied up from the image as
# podman does), their place in the storage cmdlets, and the bad input that must be refused before anything changes.
BeforeDiscovery { $script:isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name volumes
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:volumesDir = Join-Path $env:PSCONTAINERS_DATA_DIR 'volumes'

    # An image whose /srv/app has owners, modes, a symlink, a hard link, an xattr and a private subdirectory: what
    # a copy-up must keep. Two layers, so the upper one's whiteout and opaque directory must be honoured too.
    $script:rootfs = Join-Path $root 'rootfs'
    $bin = Join-Path $rootfs 'bin'
    New-Item -ItemType Directory -Force $bin, "$rootfs/srv/app/private", "$rootfs/srv/app/gone", "$rootfs/srv/other", "$rootfs/tmp" | Out-Null
    Copy-Item (Get-Command busybox).Source "$bin/busybox"
    foreach ($a in 'sh', 'cat', 'ls', 'stat', 'echo', 'readlink', 'id', 'sleep', 'true') { & ln -s busybox "$bin/$a" }
    Set-Content "$rootfs/srv/app/config" 'from-image'
    & ln "$rootfs/srv/app/config" "$rootfs/srv/app/hardlink"
    & ln -s config "$rootfs/srv/app/link"
    & ln -s /etc/shadow "$rootfs/srv/app/abs-link"
    Set-Content "$rootfs/srv/app/private/secret" 'inner'
    Set-Content "$rootfs/srv/app/gone/file" 'hidden later'
    & chown 123:456 "$rootfs/srv/app/config"; & chmod 640 "$rootfs/srv/app/config"
    & chown 70:71 "$rootfs/srv/app/private"; & chmod 700 "$rootfs/srv/app/private"
    & chown 33:33 "$rootfs/srv/app"; & chmod 750 "$rootfs/srv/app"
    & setfattr -n user.origin -v image "$rootfs/srv/app/config"
    $tar = Join-Path $root 'rootfs.tar'
    & tar --xattrs --xattrs-include='user.*' --numeric-owner -C $rootfs -cf $tar .
    $null = Import-ContainerImage -RootFsTarball $tar -Name localhost/copyup:1
    # The second layer removes /srv/app/gone (a whiteout) through a container commit.
    New-Container localhost/copyup:1 -Name layer2 -Command sh, -c, 'rm -r /srv/app/gone' | Start-Container -Wait | Out-Null
    $null = New-ContainerImage -Container layer2 -Name localhost/copyup:2
    Remove-Container layer2

    function script:Get-Owner([string] $Path) { & stat -c '%u:%g %a' $Path }
}

AfterAll {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-ContainerVolume -ErrorAction SilentlyContinue | Remove-ContainerVolume -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'New-ContainerVolume, Get-ContainerVolume, Remove-ContainerVolume' -Skip:(-not $isRoot) {
    It 'creates a labelled volume under the data root and lists it with a DateTime and its users' {
        New-ContainerVolume plain -WhatIf | Should -BeNullOrEmpty
        Test-Path (Join-Path $volumesDir 'plain') | Should -BeFalse
        $v = New-ContainerVolume plain -Label @{ app = 'db' }
        $v.Name | Should -Be 'plain'
        $v.Mountpoint | Should -Be (Join-Path $volumesDir 'plain/_data')
        Test-Path $v.Mountpoint -PathType Container | Should -BeTrue
        $got = Get-ContainerVolume plain
        $got.Labels['app'] | Should -Be 'db'
        $got.CreatedAt | Should -BeOfType [datetime]
        $got.Driver | Should -Be 'local'
        @($got.InUseBy).Count | Should -Be 0
        (Get-ContainerVolume pl*).Name | Should -Be 'plain'
        Get-ContainerVolume nomatch* | Should -BeNullOrEmpty
        (Get-ContainerVolume | Out-String) | Should -Match 'VOLUME NAME'
    }

    It 'refuses a taken name, a bad name and a missing volume with typed errors' {
        { New-ContainerVolume plain -ErrorAction Stop } | Should -Throw -ErrorId 'VolumeExists,*'
        { New-ContainerVolume '.hidden' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidVolumeName,*'
        { New-ContainerVolume 'a/b' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidVolumeName,*'
        { Get-ContainerVolume missing -ErrorAction Stop } | Should -Throw -ErrorId 'VolumeNotFound,*'
        { Remove-ContainerVolume missing -ErrorAction Stop } | Should -Throw -ErrorId 'VolumeNotFound,*'
        @(Get-ChildItem $volumesDir -Directory).Name | Should -Be @('plain')
    }

    It 'completes volume names' {
        $r = TabExpansion2 -inputScript 'Remove-ContainerVolume pla' -cursorColumn 26
        $r.CompletionMatches.CompletionText | Should -Be @('plain')
    }

    It 'removes by value and by property name, and keeps it with -WhatIf' {
        Get-ContainerVolume plain | Remove-ContainerVolume -WhatIf
        Get-ContainerVolume plain | Should -Not -BeNullOrEmpty
        Get-ContainerVolume plain | Remove-ContainerVolume -Confirm:$false
        Test-Path (Join-Path $volumesDir 'plain') | Should -BeFalse
        New-ContainerVolume byprop | Out-Null
        [pscustomobject]@{ Name = 'byprop' } | Remove-ContainerVolume -Confirm:$false
        Get-ContainerVolume byprop -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe '-Volume name:/path' -Skip:(-not $isRoot) {
    It 'makes the volume on first use; its data survives the container and reaches the next one' {
        Get-ContainerVolume keep -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $c = New-Container busybox -Name writer -Volume keep:/data -Command sh, -c, 'echo persisted > /data/f' | Start-Container -Wait -PassThru
        $c.ExitCode | Should -Be 0
        (Get-ContainerVolume keep).InUseBy | Should -Be @('writer')
        Remove-Container writer
        @((Get-ContainerVolume keep).InUseBy).Count | Should -Be 0
        Invoke-ContainerImage busybox -Remove -Volume keep:/again:ro -Command cat, /again/f | Should -Be 'persisted'
        Invoke-ContainerImage busybox -Remove -Volume keep:/again:ro -Command sh, -c, 'mkdir /again/d 2>/dev/null || echo read-only' | Should -Be 'read-only'
    }

    It 'copies up the image content with owners, modes, links and xattrs, whiteouts applied, only once' {
        $c = New-Container localhost/copyup:2 -Name cu1 -Volume appdata:/srv/app -Command true
        $data = (Get-ContainerVolume appdata).Mountpoint
        Get-Owner $data | Should -Be '33:33 750'
        Get-Owner "$data/config" | Should -Be '123:456 640'
        Get-Owner "$data/private" | Should -Be '70:71 700'
        Get-Content "$data/private/secret" | Should -Be 'inner'
        & readlink "$data/link" | Should -Be 'config'
        & readlink "$data/abs-link" | Should -Be '/etc/shadow'
        & stat -c %i "$data/config" | Should -Be (& stat -c %i "$data/hardlink")
        & getfattr --only-values -n user.origin "$data/config" | Should -Be 'image'
        Test-Path "$data/gone" | Should -BeFalse -Because 'the upper layer deleted it (a whiteout)'
        @(Get-ChildItem -Force (Join-Path $volumesDir 'appdata')).Name | Should -Be @('_data', 'volume.json')

        # A change in the volume stays: the next container's mount copies nothing over it.
        Set-Content "$data/config" 'changed'
        New-Container localhost/copyup:2 -Name cu2 -Volume appdata:/srv/app -Command true | Out-Null
        Get-Content "$data/config" | Should -Be 'changed'
        Remove-Container cu1, cu2
    }

    It 'copies up what podman copies up from the same image (owners, modes, types, links)' {
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/Podman.psm1') -Force
        $podman = Initialize-TestPodman -Root $root
        try {
            $image = Import-PodmanImage -Podman $podman -Image localhost/copyup:2
            Invoke-Podman run --rm -v pvol:/srv/app $image true | Out-Null
            $theirs = (Invoke-Podman volume inspect pvol --format '{{.Mountpoint}}' | Select-Object -Last 1).Trim()
            New-Container localhost/copyup:2 -Name cmp -Volume ours:/srv/app -Command true | Out-Null
            $ours = (Get-ContainerVolume ours).Mountpoint
            $list = { param($d) & find $d -printf '%P %u:%g %m %y %n %l\n' | Sort-Object }
            @(& $list $ours) | Should -Be @(& $list $theirs)
            @(& $list $ours).Count | Should -BeGreaterThan 5
            Remove-Container cmp
        }
        finally { Remove-TestPodman $podman }
    }

    It 'gives a new volume the owner podman gives it: the container''s user where the image has nothing, the image''s owner where it has the directory' {
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/Podman.psm1') -Force
        $podman = Initialize-TestPodman -Root $root
        try {
            $image = Import-PodmanImage -Podman $podman -Image localhost/copyup:2
            Invoke-Podman run --rm -u 1234:5678 -v pown:/not/there -v papp:/srv/app $image true | Out-Null
            $theirs = foreach ($v in 'pown', 'papp') { Get-Owner (Invoke-Podman volume inspect $v --format '{{.Mountpoint}}' | Select-Object -Last 1).Trim() }
            New-Container localhost/copyup:2 -Name owned -User 1234:5678 -Volume own:/not/there, ownapp:/srv/app -Command true | Out-Null
            $ours = foreach ($v in 'own', 'ownapp') { Get-Owner (Get-ContainerVolume $v).Mountpoint }
            $ours | Should -Be @('1234:5678 755', '33:33 750')
            $ours | Should -Be $theirs
            # Only a new volume: one that exists keeps its owner when the next container mounts it.
            New-Container localhost/copyup:2 -Name owned2 -User 42:42 -Volume own:/elsewhere -Command true | Out-Null
            Get-Owner (Get-ContainerVolume own).Mountpoint | Should -Be '1234:5678 755'
            Remove-Container owned, owned2
        }
        finally { Remove-TestPodman $podman }
    }

    It 'copies nothing with nocopy, and nothing for a path the image does not have or has as a symlink' {
        New-Container localhost/copyup:2 -Name nc -Volume 'nocp:/srv/app:nocopy', 'nopath:/not/there', 'linkdest:/srv/app/link' -Command true | Out-Null
        foreach ($v in 'nocp', 'nopath', 'linkdest') { @(Get-ChildItem -Force (Get-ContainerVolume $v).Mountpoint).Count | Should -Be 0 -Because $v }
        Remove-Container nc
    }

    It 'refuses a relative path or a bad name as a typed error and creates nothing' {
        Push-Location $root
        try {
            foreach ($bad in './pgdata:/var/lib/postgresql', '../x:/x', '.pgdata:/x', 'pg data:/x', 'pg$:/x') {
                { New-Container busybox -Volume $bad -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidVolumeSource,*' -Because $bad
            }
            { New-Container busybox -Volume 'data:/x:rx' -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidVolume,*'
            Test-Path (Join-Path $root 'pgdata') | Should -BeFalse
            @(Get-Container | Where-Object Image -eq 'busybox').Count | Should -Be 0
            Get-ContainerVolume pgdata, x -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }
        finally { Pop-Location }
        $e = try { New-Container busybox -Volume './pgdata:/x' -Command true -ErrorAction Stop } catch { $_ }
        $e.ErrorDetails.RecommendedAction | Should -Match 'Resolve-Path'
    }

    It 'removes a volume a failed create made, and leaves an existing one' {
        New-ContainerVolume existing | Out-Null
        { New-Container busybox -Volume 'fresh:/a', 'existing:/b' -User ghost -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'UserNotFound*'
        { New-Container busybox -Volume 'fresh:/a', 'existing:/b', 'fresh2:/a' -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'DuplicateMountDestination*'
        Get-ContainerVolume fresh, fresh2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Get-ContainerVolume existing | Should -Not -BeNullOrEmpty
        Remove-ContainerVolume existing
    }

    It 'refuses to remove a volume in use unless -Force, which removes the container too' {
        New-Container busybox -Name user1 -Volume busy:/data -Command sleep, 600 | Start-Container | Out-Null
        { Remove-ContainerVolume busy -ErrorAction Stop } | Should -Throw -ErrorId 'VolumeInUse,*'
        Get-ContainerVolume busy | Should -Not -BeNullOrEmpty
        Remove-ContainerVolume busy -Force -Confirm:$false
        Get-ContainerVolume busy -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Get-Container user1 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'copies up once when two sessions create containers with the same new volume at once' {
        $module = Get-TestModulePath
        $jobs = 1..2 | ForEach-Object {
            $n = $_
            Start-Job -ScriptBlock {
                Import-Module $using:module
                New-Container localhost/copyup:1 -Name "race$using:n" -Volume race:/srv/app -Command true | Out-Null
            }
        }
        $jobs | Wait-Job | Receive-Job -ErrorAction Stop
        $jobs | Remove-Job
        (Get-ContainerVolume race).InUseBy | Should -Be @('race1', 'race2')
        $copies = @(Get-ChildItem $env:PSCONTAINERS_LOG_DIR -File | Select-String -SimpleMatch 'into the new volume' | Where-Object Line -like '*volumes/race/_data*')
        $copies.Count | Should -Be 1
        Get-Content "$((Get-ContainerVolume race).Mountpoint)/gone/file" | Should -Be 'hidden later'
        @(Get-ChildItem -Force (Join-Path $volumesDir 'race')).Name | Should -Be @('_data', 'volume.json')
        Remove-Container race1, race2
    }
}

Describe 'Volumes in the storage cmdlets' -Skip:(-not $isRoot) {
    It 'counts volumes and frees the unused ones only with -Volumes' {
        New-Container busybox -Name holder -Volume used:/data -Command sh, -c, 'head -c 100000 /dev/zero > /data/z' | Start-Container -Wait | Out-Null
        $unused = New-ContainerVolume unused
        Set-Content (Join-Path $unused.Mountpoint 'f') ('y' * 5000)
        $row = Get-ContainerStorageUsage | Where-Object Type -eq 'Volumes'
        $row.Active | Should -BeGreaterOrEqual 1
        $row.Reclaimable | Should -BeGreaterOrEqual 5000
        Clear-ContainerStorage -Until ([datetime]::new(2000, 1, 1)) -Confirm:$false | Where-Object Type -eq 'Volumes' | Should -BeNullOrEmpty
        Get-ContainerVolume unused | Should -Not -BeNullOrEmpty
        $removed = Clear-ContainerStorage -Volumes -Until ([datetime]::new(2000, 1, 1)) -Confirm:$false | Where-Object Type -eq 'Volumes'
        $removed.Name | Should -Contain 'unused'
        $removed.Name | Should -Not -Contain 'used'
        Get-ContainerVolume unused -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        (Get-ContainerVolume used).InUseBy | Should -Be @('holder')
        Remove-Container holder
    }
}

Describe 'Rootless: volumes and data cleanup (an unprivileged user created by the test)' -Skip:(-not $isRoot) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/TestUsers.psm1') -Force
        $script:u = New-FixtureUser
        $script:subuid = [uint32]((Get-Content /etc/subuid | Where-Object { $_ -like "$($u.Name):*" } | Select-Object -First 1).Split(':')[1])
        $script:asUser = @{ ModulePath = (Get-TestModulePathForUsers); PwshDll = (Get-TestPwshForUsers) }
    }
    AfterAll { Remove-FixtureUser $u }

    It 'copies up as the user''s own files, and removes a volume and a bind-mounted tree full of subordinate ids' {
        $r = Invoke-AsFixtureUser $u @'
$bind = "$HOME/bound"
New-Item -ItemType Directory $bind | Out-Null
# Root inside gives a tree to uid 1000, and a process running as uid 1000 writes a private directory, in both mounts.
$null = Invoke-ContainerImage busybox -Remove -Volume "${bind}:/b", 'vol:/v' -Command sh, -c, 'for d in /b /v; do mkdir -p $d/sub && echo x > $d/sub/f && chown -R 1000:1000 $d/sub && chmod 1777 $d; done'
$null = Invoke-ContainerImage busybox -Remove -User 1000:1000 -Volume "${bind}:/b", 'vol:/v' -Command sh, -c, 'mkdir /b/own /v/own && echo x > /b/own/f && chmod 700 /b/own /v/own'
$volume = (Get-ContainerVolume vol).Mountpoint
$owners = @("$bind/sub", "$bind/own", "$volume/sub") | ForEach-Object { & stat -c %u $_ }
# Proof that this user cannot delete them itself (the test would pass for nothing otherwise).
$denied = try { Remove-Item $bind -Recurse -Force -ErrorAction Stop; 'deleted' } catch { 'denied' }
Remove-ContainerItem $bind -Confirm:$false
Remove-ContainerVolume vol
# A copy-up made by the user: the image's /etc as root inside (the user outside).
$null = Invoke-ContainerImage busybox -Remove -Volume 'etc:/etc' -Command true
$etcOwner = & stat -c %u "$((Get-ContainerVolume etc).Mountpoint)/passwd"
Remove-ContainerVolume etc
[pscustomobject]@{ Owners = $owners; Denied = $denied; BindLeft = (Test-Path $bind); VolumesLeft = @(Get-ChildItem "$HOME/pscontainers/data/volumes" -Exclude '.locks').Count; EtcOwner = $etcOwner } | ConvertTo-Json -Compress
'@ @asUser
        $r.Owners | Should -Be @("$($subuid + 999)", "$($subuid + 999)", "$($subuid + 999)")
        $r.Denied | Should -Be 'denied'
        $r.BindLeft | Should -BeFalse
        $r.VolumesLeft | Should -Be 0
        $r.EtcOwner | Should -Be "$($u.Uid)"
    }
}

Describe 'Remove-ContainerItem (root)' -Skip:(-not $isRoot) {
    It 'removes a tree, refuses a missing path and the root, and keeps it with -WhatIf' {
        $dir = Join-Path $root 'tree'
        New-Item -ItemType Directory "$dir/a/b" -Force | Out-Null
        & ln -s /etc "$dir/a/etc-link"
        Remove-ContainerItem $dir -WhatIf
        Test-Path $dir | Should -BeTrue
        Get-Item $dir | Remove-ContainerItem -Confirm:$false
        Test-Path $dir | Should -BeFalse
        Test-Path /etc/passwd | Should -BeTrue -Because 'a link inside is removed, not followed'
        { Remove-ContainerItem (Join-Path $root 'missing') -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'ItemNotFound,*'
        { Remove-ContainerItem / -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidItemPath,*'
    }
}
