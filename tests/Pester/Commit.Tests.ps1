# New-ContainerImage -Container (commit): the container's overlay upper dir as one OCI layer, judged
# against podman commit of the same changes, and the committed image run by the module's runtime.
BeforeDiscovery { $script:canRun = (id -u) -eq '0' -and [bool](Get-Command podman -ErrorAction SilentlyContinue) }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name commit
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/Podman.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/LayerTrees.psm1') -Force
    $script:image = Import-BusyboxImage
    $script:blobs = Join-Path $env:PSCONTAINERS_DATA_DIR 'images/blobs/sha256'

    # Deletes a file, replaces one, adds files, a symlink, a hard link, a setuid dir, and replaces a
    # whole directory (an opaque dir in the upper). The fixture's busybox has few applet links: the
    # rest run as "busybox <applet>".
    $script:changes = 'rm /etc/group; mkdir -p /data/sub; echo hello > /data/new.txt; busybox chmod 640 /data/new.txt; ' +
        'busybox chown 1000:1000 /data/new.txt; busybox ln -s ../etc/passwd /data/link; busybox ln /data/new.txt /data/hard; ' +
        'rm -rf /root; mkdir /root; echo r > /root/file; busybox chmod 4755 /data/sub; echo new > /etc/passwd'

    # Mount points the runtimes make for themselves (podman adds /run/.containerenv and /etc/mtab, gives its
    # /etc/hosts 0755 and no resolv.conf with netns none): not part of what the container changed.
    $script:runtimeMade = '^(dev|proc|sys|run|run/\.containerenv|etc/mtab|etc/hosts|etc/hostname|etc/resolv\.conf)$'
}

AfterAll {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'New-ContainerImage -Container' -Skip:(-not $canRun) {
    BeforeAll {
        $c = New-Container busybox -Name changed -Command sh, -c, $changes
        $c | Start-Container -Wait | Out-Null
        $script:ours = New-ContainerImage -Container changed -Name localhost/committed:ours -Message 'the fix' -Author 'Pester <p@example.org>'
    }

    It 'writes the same layer as podman commit of the same changes' {
        $podman = Initialize-TestPodman -Root $root
        try {
            $base = Import-PodmanImage -Podman $podman -Image busybox
            Invoke-Podman run --name changed $base sh -c $changes | Out-Null
            Invoke-Podman commit -q changed localhost/committed:podman | Out-Null
            $theirs = Export-PodmanImage -Podman $podman -Image localhost/committed:podman -Name localhost/committed:podman
        }
        finally { Remove-TestPodman $podman }

        $theirs.Layers.Count | Should -Be ($image.Layers.Count + 1)
        $ours.Layers.Count | Should -Be ($image.Layers.Count + 1)
        $ourTree = Get-LayerListing $ours.Layers[-1].Directory -Exclude $runtimeMade
        $ourTree | Should -Contain 'c|etc/group|0|0:0|-||-|0:0|' -Because 'the deleted file is a whiteout'
        $ourTree | Should -Contain 'd|root|755|0:0|-||-|-|y' -Because 'the replaced directory is opaque'
        $ourTree | Should -Contain 'f|data/new.txt|640|1000:1000|2||5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03|-|'
        Compare-Object $ourTree (Get-LayerListing $theirs.Layers[-1].Directory -Exclude $runtimeMade) -CaseSensitive |
            ForEach-Object { "$($_.SideIndicator) $($_.InputObject)" } | Should -BeNullOrEmpty
    }

    It 'writes whiteouts and opaque directories in OCI form in the layer blob' {
        # The store keeps the layer unpacked (no blob); a save writes the blob a registry would get.
        $layout = Join-Path $root 'commit-layout'
        Save-ContainerImage -Image $ours.Id -Path $layout -Format OciLayout
        $manifest = Get-Content (Join-Path $layout "blobs/sha256/$(((Get-Content "$layout/index.json" -Raw | ConvertFrom-Json).manifests[0].digest -split ':')[1])") -Raw | ConvertFrom-Json
        $blob = Join-Path $layout "blobs/sha256/$(($manifest.layers[-1].digest -split ':')[1])"
        $entries = & tar -tzf $blob
        $entries | Should -Contain 'etc/.wh.group'
        $entries | Should -Contain 'root/.wh..wh..opq'
        $entries | Where-Object { $_ -match '^etc/group$' } | Should -BeNullOrEmpty
        # Names are written in order: data/hard carries the data, data/new.txt links to it.
        & tar -tvzf $blob | Where-Object { $_ -match 'data/new.txt' } | Should -Match '^h.* data/new.txt link to data/hard$'
    }

    It 'makes an image that runs with the changes' {
        $out = Invoke-ContainerImage localhost/committed:ours -Remove -Command sh, -c, 'cat /data/new.txt /etc/passwd; ls /root; test -e /etc/group || echo gone; cat /data/link'
        $LASTEXITCODE | Should -Be 0
        $out | Should -Be @('hello', 'new', 'file', 'gone', 'new')
    }

    It 'keeps the base config and history, and records -Message and -Author' {
        $ours.Config.Config.Cmd | Should -Be $image.Config.Config.Cmd
        $ours.Config.Author | Should -Be 'Pester <p@example.org>'
        $ours.Config.History.Count | Should -Be ($image.Config.History.Count + 1)
        $ours.Config.History[-1].Comment | Should -Be 'the fix'
        $ours.Config.History[-1].Author | Should -Be 'Pester <p@example.org>'
        $ours.Config.RootFs.DiffIds[-1] | Should -Be $ours.Layers[-1].DiffId.ToString()
    }
}

Describe 'New-ContainerImage -Change' -Skip:(-not $canRun) {
    It 'applies Containerfile config instructions in order' {
        $c = New-Container busybox -Command true
        $changes = 'CMD ["/bin/echo","hi"]', 'ENTRYPOINT /bin/sh', 'ENV A=1 B="two words"', 'ENV A=3', 'LABEL org.example.x=y "z"=w',
            'EXPOSE 8080 53/udp', 'WORKDIR /srv', 'WORKDIR app', 'USER nobody', 'VOLUME /data', 'STOPSIGNAL SIGINT'
        $i = $c | New-ContainerImage -Name localhost/changed:1 -Change $changes
        $cfg = $i.Config.Config
        $cfg.Cmd | Should -Be @('/bin/echo', 'hi')
        $cfg.Entrypoint | Should -Be @('/bin/sh', '-c', '/bin/sh')
        $cfg.Env | Should -Contain 'B=two words'
        $cfg.Env | Should -Contain 'A=3'
        $cfg.Env | Should -Not -Contain 'A=1'
        $cfg.Labels['org.example.x'] | Should -Be 'y'
        $cfg.Labels['z'] | Should -Be 'w'
        @($cfg.ExposedPorts.Keys | Sort-Object) | Should -Be @('53/udp', '8080/tcp')
        $cfg.WorkingDir | Should -Be '/srv/app'
        $cfg.User | Should -Be 'nobody'
        $cfg.Volumes.Keys | Should -Be '/data'
        $cfg.StopSignal | Should -Be 'SIGINT'
        Remove-Container $c.Name
    }

    It 'refuses an unknown or malformed change before anything is written, naming it' {
        $c = New-Container busybox -Command true
        $before = @(Get-ChildItem $blobs).Count
        { New-ContainerImage -Container $c.Name -Name localhost/bad:1 -Change 'RUN rm -rf /' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidChange*'
        { New-ContainerImage -Container $c.Name -Name localhost/bad:1 -Change 'ENV A=1', 'EXPOSE http' -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidContainerfileSyntax*' -ExpectedMessage '-Change 2: EXPOSE expects*'
        Get-ContainerImage localhost/bad:1 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        @(Get-ChildItem $blobs).Count | Should -Be $before
        Remove-Container $c.Name
    }
}

Describe 'New-ContainerImage of a running container' -Skip:(-not $canRun) {
    It 'freezes it while the layer is written and thaws it after (-Pause is on by default)' {
        $c = New-Container busybox -Name live -Command sh, -c, 'echo up > /up; sleep 600' | Start-Container -PassThru
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not (Invoke-ContainerCommand live -Command cat, /up 2>$null) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        $verbose = New-ContainerImage -Container live -Name localhost/live:1 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($verbose.Message -join "`n") | Should -Match "Paused container .?live"
        ($verbose.Message -join "`n") | Should -Match "Resumed container .?live"
        (Get-Container live).State | Should -Be 'Running'
        Invoke-ContainerImage localhost/live:1 -Remove -Command cat, /up | Should -Be 'up'

        $verbose = New-ContainerImage -Container live -Name localhost/live:2 -Pause:$false -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($verbose.Message -join "`n") | Should -Not -Match 'Paused container'
        Remove-Container live -Force -Confirm:$false
    }
}

Describe 'Export-Container and Import-ContainerImage -RootFsTarball' -Skip:(-not $canRun) {
    BeforeAll {
        # A container with changes of its own (deletions, an opaque dir) on the busybox layer.
        $script:exported = New-Container busybox -Name exported -Command sh, -c, $changes | Start-Container -Wait
        $script:tarPath = Join-Path $root 'rootfs.tar'
    }

    It 'writes the file system overlayfs shows, as GNU tar unpacks it' {
        $file = Export-Container exported -Path $tarPath
        $file.FullName | Should -Be $tarPath
        $out = Join-Path $root 'unpacked'
        New-Item -ItemType Directory $out | Out-Null
        & tar --xattrs --xattrs-include='*' --numeric-owner -xpf $tarPath -C $out
        $LASTEXITCODE | Should -Be 0
        # The kernel's own merge of the same directories is the reference.
        $record = Get-Content (Join-Path $env:PSCONTAINERS_DATA_DIR "containers/$($exported.Id)/container.json") | ConvertFrom-Json
        $lower = @($record.LayerDirectories)
        [array]::Reverse($lower)
        $upper = Join-Path $env:PSCONTAINERS_DATA_DIR "containers/$($exported.Id)/upper"
        $reference = Get-OverlayListing (@($upper) + $lower) -Exclude $runtimeMade
        $ours = Get-LayerListing $out -Exclude $runtimeMade
        $ours | Should -Contain 'f|etc/passwd|644|0:0|1||7AA7A5359173D05B63CFD682E3C38487F3CB4F7F1D60659FE59FAB1505977D4C|-|' -Because 'the replaced file has its new content'
        $ours | Where-Object { $_ -match '\|etc/group\|' } | Should -BeNullOrEmpty -Because 'deleted files are not in an export'
        $ours | Where-Object { $_ -match '^c' } | Should -BeNullOrEmpty -Because 'no whiteout is written'
        Compare-Object $ours $reference -CaseSensitive | ForEach-Object { "$($_.SideIndicator) $($_.InputObject)" } | Should -BeNullOrEmpty
        Get-ChildItem $root -Filter '.rootfs.tar.*.partial' -Force | Should -BeNullOrEmpty
    }

    It 'imports the tar as a one-layer image that runs' {
        $i = Import-ContainerImage -RootFsTarball $tarPath -Name localhost/flat:1 -Change 'CMD ["/bin/cat","/data/new.txt"]', 'ENV PATH=/bin' -Message 'from export'
        $i.Layers.Count | Should -Be 1
        $i.Config.Config.Env | Should -Be 'PATH=/bin'
        $i.Config.History[0].Comment | Should -Be 'from export'
        Invoke-ContainerImage localhost/flat:1 -Remove | Should -Be 'hello'
        Invoke-ContainerImage localhost/flat:1 -Remove -Command sh, -c, 'ls /root; test -e /etc/group || echo gone' | Should -Be @('file', 'gone')
    }

    It 'refuses a file that is not a tar, and an unusable path, leaving nothing' {
        $junk = Join-Path $root 'junk.tar'
        [IO.File]::WriteAllBytes($junk, [byte[]](1..2000 | ForEach-Object { $_ % 251 }))
        $before = @(Get-ChildItem $blobs).Count
        { Import-ContainerImage -RootFsTarball $junk -Name localhost/junk:1 -ErrorAction Stop } | Should -Throw -ErrorId 'LayerMalformed*'
        @(Get-ChildItem $blobs).Count | Should -Be $before
        Get-ContainerImage localhost/junk:1 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        { Export-Container exported -Path (Join-Path $root 'no/such/dir/x.tar') -ErrorAction Stop } | Should -Throw -ErrorId 'ExportPathUnusable*'
    }
}
