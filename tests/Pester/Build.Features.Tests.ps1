# Containerfile features beyond the classic syntax: heredocs (RUN, COPY), RUN --mount (bind, cache,
# tmpfs, secret), RUN --network and -Network, -Platform and FROM --platform. Each is checked from the built image's files and, for
# RUN --mount, against buildah bud on the same context.
BeforeDiscovery { $script:canRun = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name buildfeat
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/LayerTrees.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/Buildah.psm1') -Force
    $null = Import-BusyboxImage

    function script:New-Context([string] $Name, [string] $Containerfile, [hashtable] $Files = @{}) {
        $dir = Join-Path $root $Name
        New-Item -ItemType Directory $dir -Force | Out-Null
        Set-Content "$dir/Containerfile" $Containerfile -NoNewline
        foreach ($f in $Files.Keys) { New-Item -ItemType Directory (Split-Path "$dir/$f") -Force | Out-Null; Set-Content "$dir/$f" $Files[$f] -NoNewline }
        return $dir
    }
    function script:Read-ImageFile([string] $Image, [string[]] $Path) {
        Invoke-ContainerImage $Image -Remove -Network none -Command (@('cat') + $Path)
    }
    function script:Get-Tree($Image) {
        $dirs = @($Image.Layers.Directory); [array]::Reverse($dirs)
        Get-OverlayListing $dirs -Exclude '^(dev|proc|sys|run|etc/hosts|etc/hostname|etc/resolv\.conf)$'
    }
}

AfterAll {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Heredocs in a Containerfile' -Skip:(-not $canRun) {
    BeforeAll {
        $tab = "`t"
        $script:ctx = New-Context heredoc @"
FROM localhost/busybox:latest
ARG WHO=builder
RUN <<EOF
echo "shell body ran as `$(id -u)" > /shell.txt
echo second line >> /shell.txt
EOF
RUN <<EOF
#!/bin/busybox sh
echo "interpreter got `$0" > /interp.txt
EOF
RUN cat <<A > /a.txt && cat <<-B > /b.txt
first
A
$tab${tab}tabs stripped
${tab}B
COPY <<EOF <<'RAW' /etc/
hello `$WHO
EOF
kept `$WHO
RAW
COPY --chmod=600 <<EOF /etc/motd
motd for `${WHO}
EOF
"@
        $script:image = New-ContainerImage -Path "$ctx/Containerfile" -Name localhost/heredoc:1
    }

    It 'runs a RUN heredoc through the shell, and one with #! through its interpreter' {
        Read-ImageFile localhost/heredoc:1 /shell.txt | Should -Be @('shell body ran as 0', 'second line')
        Read-ImageFile localhost/heredoc:1 /interp.txt | Should -Be 'interpreter got /dev/.pscontainers-heredoc'
    }

    It 'gives a line with heredocs to the shell, which reads them (<<- strips tabs)' {
        Read-ImageFile localhost/heredoc:1 /a.txt, /b.txt | Should -Be @('first', 'tabs stripped')
    }

    It 'copies heredocs as files named after them, expanding variables unless the delimiter is quoted' {
        Read-ImageFile localhost/heredoc:1 /etc/EOF, /etc/RAW, /etc/motd | Should -Be @('hello builder', 'kept $WHO', 'motd for builder')
        $tree = Get-Tree $image
        $tree | Where-Object { $_ -match '\|etc/motd\|' } | Should -Match '^f\|etc/motd\|600\|0:0\|'
        $tree | Where-Object { $_ -match '\|etc/EOF\|' } | Should -Match '^f\|etc/EOF\|644\|0:0\|'
        $tree | Where-Object { $_ -match 'pscontainers-heredoc' } | Should -BeNullOrEmpty
    }

    It 'takes every step from the cache when nothing changed, and runs again when a body changed' {
        $steps = New-ContainerImage -Path "$ctx/Containerfile" -Name localhost/heredoc:1 -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match '^STEP \d+/\d+: (RUN|COPY)' }
        @($steps).Count | Should -Be 5
        $steps.Message | Where-Object { $_ -notmatch '\(cached\)$' } | Should -BeNullOrEmpty
        (Get-Content "$ctx/Containerfile" -Raw).Replace('second line', 'changed line') | Set-Content "$ctx/Containerfile2" -NoNewline
        $changed = New-ContainerImage -Path "$ctx/Containerfile2" -Context $ctx -Name localhost/heredoc:2
        Read-ImageFile localhost/heredoc:2 /shell.txt | Should -Be @('shell body ran as 0', 'changed line')
        $changed.Id | Should -Not -Be $image.Id
    }
}

Describe 'RUN --mount' -Skip:(-not $canRun) {
    BeforeAll {
        $script:mctx = New-Context mounts @'
FROM localhost/busybox:latest AS tools
RUN mkdir -p /opt/tool && echo from-stage > /opt/tool/version

FROM localhost/busybox:latest
RUN --mount=type=bind,target=/ctx cat /ctx/data/a.txt > /from-context && ls /ctx > /context-listing
RUN --mount=type=bind,from=tools,source=/opt/tool,target=/tool cat /tool/version > /from-stage
RUN --mount=type=bind,source=data,target=/rw,rw echo scratch > /rw/new && cat /rw/new > /rw-result
RUN --mount=type=cache,target=/var/cache/demo,id=demo echo run >> /var/cache/demo/runs && wc -l < /var/cache/demo/runs > /cache-runs
RUN --mount=type=tmpfs,target=/scratch echo gone > /scratch/x && ls /scratch > /tmpfs-listing
RUN --mount=type=secret,id=tok,mode=0440,uid=65534 cat /run/secrets/tok | wc -c > /secret-length && stat -c %a:%u /run/secrets/tok > /secret-meta
'@ -Files @{ 'data/a.txt' = 'context file'; 'ignored.key' = 'private'; '.containerignore' = '*.key' }
        Set-Content "$root/token" 's3cret-value' -NoNewline
        $script:built = New-ContainerImage -Path "$mctx/Containerfile" -Name localhost/mounts:1 -Secret @{ tok = "$root/token" }
    }

    It 'binds the context read-only, without what the ignore file excludes' {
        Read-ImageFile localhost/mounts:1 /from-context | Should -Be 'context file'
        Read-ImageFile localhost/mounts:1 /context-listing | Should -Not -Contain 'ignored.key'
        Read-ImageFile localhost/mounts:1 /context-listing | Should -Contain 'data'
        { New-ContainerImage -Path (Join-Path (New-Context rwfail "FROM localhost/busybox:latest`nRUN --mount=type=bind,target=/ctx touch /ctx/x" -Files @{ 'f' = '1' }) Containerfile) -ErrorAction Stop } |
            Should -Throw -ErrorId 'BuildStepFailed*'
    }

    It 'binds an earlier stage, and throws away what a rw bind wrote' {
        Read-ImageFile localhost/mounts:1 /from-stage, /rw-result | Should -Be @('from-stage', 'scratch')
        Test-Path "$mctx/data/new" | Should -BeFalse
    }

    It 'keeps a cache mount between builds, outside the image' {
        Read-ImageFile localhost/mounts:1 /cache-runs | Should -Be '1'
        $again = New-ContainerImage -Path "$mctx/Containerfile" -Name localhost/mounts:2 -Secret @{ tok = "$root/token" } -NoCache
        Read-ImageFile localhost/mounts:2 /cache-runs | Should -Be '2'
        $usage = Get-ContainerStorageUsage | Where-Object Type -eq BuildCache
        $usage.Size | Should -BeGreaterThan 0
    }

    It 'mounts a tmpfs and a secret only for the step' {
        Read-ImageFile localhost/mounts:1 /tmpfs-listing | Should -Be 'x'
        Read-ImageFile localhost/mounts:1 /secret-length, /secret-meta | Should -Be @('12', '440:65534')
    }

    It 'leaves mount points, the secret and the tmpfs out of the layers' {
        $tree = Get-Tree $built
        $tree | Where-Object { $_ -match '\|(ctx|tool|rw|scratch|var/cache/demo|run/secrets)(/|\|)' } | Should -BeNullOrEmpty
        foreach ($dir in $built.Layers.Directory) {
            Get-ChildItem $dir -Recurse -File -Force -ErrorAction Ignore | Select-String -SimpleMatch 's3cret-value' -List | Should -BeNullOrEmpty
        }
        Test-Path "$mctx/data/new" | Should -BeFalse
    }

    It 'reruns a step whose bound context files changed, and only that step' {
        Set-Content "$mctx/data/a.txt" 'edited' -NoNewline
        try {
            $steps = New-ContainerImage -Path "$mctx/Containerfile" -Name localhost/mounts:3 -Secret @{ tok = "$root/token" } -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match '^STEP \d+/\d+: RUN' }
            ($steps.Message | Where-Object { $_ -notmatch '\(cached\)$' })[0] | Should -BeLike '*--mount=type=bind,target=/ctx*'
            Read-ImageFile localhost/mounts:3 /from-context | Should -Be 'edited'
        }
        finally { Set-Content "$mctx/data/a.txt" 'context file' -NoNewline }
    }

    It 'gives the same files as buildah bud on the same context' -Skip:(-not (Get-Command buildah -ErrorAction SilentlyContinue)) {
        $theirs = Invoke-BuildahBuild -Root $root -Containerfile "$mctx/Containerfile" -Context $mctx -Tag localhost/mounts:buildah -ExtraArguments @('--secret', "id=tok,src=$root/token")
        foreach ($f in '/from-context', '/from-stage', '/rw-result', '/tmpfs-listing', '/secret-length', '/secret-meta') {
            Read-ImageFile localhost/mounts:buildah $f | Should -Be (Read-ImageFile localhost/mounts:1 $f) -Because $f
        }
        # One deliberate difference: buildah 1.28 binds the raw context, ignored files included; BuildKit and this
        # module bind the context as the ignore file leaves it (a secret excluded from COPY stays out of RUN too).
        (Read-ImageFile localhost/mounts:buildah /context-listing | Where-Object { $_ -ne 'ignored.key' }) -join ',' |
            Should -Be ((Read-ImageFile localhost/mounts:1 /context-listing) -join ',')
    }
}

Describe 'The network of RUN steps' -Skip:(-not $canRun) {
    It '-Network host shows the host''s interfaces to RUN; none and RUN --network=none only loopback' {
        $nctx = New-Context network @'
FROM localhost/busybox:latest
RUN cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' | sort > /default-nets
RUN --network=none cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' | sort > /none-nets
'@
        $null = New-ContainerImage -Path "$nctx/Containerfile" -Name localhost/net:host -Network host
        $hostNets = @(Get-Content /proc/net/dev | Select-Object -Skip 2 | ForEach-Object { ($_ -split ':')[0].Trim() } | Sort-Object)
        Read-ImageFile localhost/net:host /default-nets | Should -Be $hostNets
        Read-ImageFile localhost/net:host /none-nets | Should -Be 'lo'
        $null = New-ContainerImage -Path "$nctx/Containerfile" -Name localhost/net:none -Network none
        Read-ImageFile localhost/net:none /default-nets | Should -Be 'lo'
    }
}

Describe 'Building for another platform (-Platform, FROM --platform)' -Skip:(-not $canRun) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/Registry.psm1') -Force
        $fx = Start-TestRegistry -ConfigDir $env:PSCONTAINERS_CONFIG_DIR
        # The fixture's index holds linux/amd64 and linux/arm64 images labelled with their architecture.
        $script:multi = $fx.Images['anon/multiarch:latest']
        $null = Install-ContainerImage $multi -Platform linux/arm64 -ProgressAction SilentlyContinue
        $null = Install-ContainerImage $multi -Platform linux/amd64 -ProgressAction SilentlyContinue
        $script:emulated = Test-Path /proc/sys/fs/binfmt_misc/qemu-aarch64
    }
    AfterAll { Stop-TestRegistry }

    It 'builds a COPY-only image for arm64 on the arm64 base, though the name points at amd64' {
        $pctx = New-Context platform "FROM $multi`nCOPY note.txt /note.txt`n" -Files @{ 'note.txt' = 'cross' }
        $arm = New-ContainerImage -Path "$pctx/Containerfile" -Name localhost/cross:arm64 -Platform linux/arm64
        $arm.Architecture | Should -Be 'arm64'
        $arm.Config.Config.Labels['org.example.arch'] | Should -Be 'arm64'
        $amd = New-ContainerImage -Path "$pctx/Containerfile" -Name localhost/cross:amd64
        $amd.Architecture | Should -Be 'amd64'
        $amd.Config.Config.Labels['org.example.arch'] | Should -Be 'amd64'
        $arm.Id | Should -Not -Be $amd.Id
    }

    It 'builds a FROM --platform=$BUILDPLATFORM stage for this host inside a cross build' {
        $pctx = New-Context platform2 @"
FROM --platform=`$BUILDPLATFORM localhost/busybox:latest AS tools
RUN echo made-on-host > /made
FROM $multi
COPY --from=tools /made /made
"@
        $img = New-ContainerImage -Path "$pctx/Containerfile" -Name localhost/cross:mixed -Platform linux/arm64
        $img.Architecture | Should -Be 'arm64'
        (Get-OverlayListing (@($img.Layers.Directory)[-1])) | Where-Object { $_ -match '\|made\|' } | Should -Not -BeNullOrEmpty
    }

    It 'refuses a RUN for arm64 without an emulator before anything runs, and a base missing that platform' -Skip:$emulated {
        $pctx = New-Context platform3 "FROM $multi`nRUN true`n"
        { New-ContainerImage -Path "$pctx/Containerfile" -Name localhost/cross:run -Platform linux/arm64 -ErrorAction Stop } |
            Should -Throw -ErrorId 'BuildPlatformCannotRun*' -ExpectedMessage '*Containerfile:2: RUN for linux/arm64 cannot run on this linux/amd64 host*'
        $bctx = New-Context platform4 "FROM localhost/busybox:latest`nCOPY x /x`n" -Files @{ x = '1' }
        { New-ContainerImage -Path "$bctx/Containerfile" -Name localhost/cross:none -Platform linux/arm64 -ErrorAction Stop } |
            Should -Throw -ErrorId 'BuildBasePlatformNotFound*' -ExpectedMessage '*FROM localhost/busybox:latest is linux/amd64 in the store, not linux/arm64*'
        Get-ContainerImage localhost/cross:run, localhost/cross:none -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}
