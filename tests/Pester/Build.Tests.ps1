# New-ContainerImage -Path (build): a Containerfile with every instruction and two stages, built here
# and by buildah bud (Debian's buildah 1.28, storage in the test's temp dir) from the same context.
BeforeDiscovery { $script:canRun = (id -u) -eq '0' -and [bool](Get-Command buildah -ErrorAction SilentlyContinue) }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name build
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/LayerTrees.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/Buildah.psm1') -Force
    $null = Import-BusyboxImage
    $script:containers = Join-Path $env:PSCONTAINERS_DATA_DIR 'containers'

    # The context: files, a subdirectory, an ignored secret, a gzip tar for ADD.
    $script:ctx = Join-Path $root 'context'
    New-Item -ItemType Directory "$ctx/src/sub" -Force | Out-Null
    Set-Content "$ctx/src/a.txt" 'hello'
    Set-Content "$ctx/src/sub/b.txt" 'sub'
    Set-Content "$ctx/secret.key" 'secret'
    Set-Content "$ctx/.containerignore" "*.key`n"
    & tar --owner=0 --group=0 --numeric-owner -czf "$ctx/files.tar.gz" -C "$ctx/src" .
    Set-Content "$ctx/Containerfile" @'
# escape=\
ARG BASE=localhost/busybox:latest
FROM $BASE AS builder
ARG GREETING=hi
# a comment inside the stage
RUN echo "$GREETING from the build stage" && \
    mkdir -p /out && echo built > /out/artifact

FROM localhost/busybox:latest
LABEL org.example.name="demo app" version=1
ENV APP_HOME=/app PATH=/usr/bin:/bin
WORKDIR $APP_HOME
COPY src/ ./src/
COPY --chown=1000:1000 --chmod=640 src/a.txt /app/owned.txt
COPY --from=builder /out/artifact /app/
ADD files.tar.gz /app/unpacked/
RUN ["/bin/sh", "-c", "rm /etc/group; echo ran > /app/ran"]
USER nobody
EXPOSE 8080/tcp
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --retries=2 CMD ["/bin/true"]
SHELL ["/bin/sh", "-c"]
ONBUILD RUN echo child
ENTRYPOINT ["/bin/cat"]
CMD ["/app/src/a.txt"]
'@
    # Mount points the runtimes make for a RUN; not part of the comparison.
    $script:runtimeMade = '^(dev|proc|sys|run|etc/hosts|etc/hostname|etc/resolv\.conf)$'

    function script:New-BadContext([string] $Name, [string] $Containerfile) {
        $dir = Join-Path $root $Name
        New-Item -ItemType Directory $dir -Force | Out-Null
        Set-Content "$dir/Containerfile" $Containerfile
        Set-Content "$dir/ok.txt" 'ok'
        Set-Content "$dir/.dockerignore" 'ignored.txt'
        Set-Content "$dir/ignored.txt" 'no'
        return "$dir/Containerfile"
    }
}

AfterAll {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'New-ContainerImage -Path' -Skip:(-not $canRun) {
    BeforeAll {
        $script:built = New-ContainerImage -Path "$ctx/Containerfile" -Name localhost/app:1 -InformationVariable runOutput
        $script:runOutput = $runOutput
    }

    It 'builds the same config and file tree as buildah bud' {
        $theirs = Invoke-BuildahBuild -Root $root -Containerfile "$ctx/Containerfile" -Context $ctx -Tag localhost/app:buildah

        $ours = $built.Config.Config
        $ref = $theirs.Config.Config
        foreach ($field in 'Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'StopSignal', 'OnBuild') {
            ($ours.$field -join '|') | Should -Be ($ref.$field -join '|') -Because $field
        }
        @($ours.ExposedPorts.Keys) | Should -Be @($ref.ExposedPorts.Keys)
        @($ours.Volumes.Keys) | Should -Be @($ref.Volumes.Keys)
        $ours.Healthcheck | ConvertTo-Json -Compress | Should -Be ($ref.Healthcheck | ConvertTo-Json -Compress)
        $refLabels = @{}; foreach ($k in $ref.Labels.Keys) { if ($k -ne 'io.buildah.version') { $refLabels[$k] = $ref.Labels[$k] } }
        ($ours.Labels.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ';' |
            Should -Be (($refLabels.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ';')

        $lowerOurs = @($built.Layers.Directory); [array]::Reverse($lowerOurs)
        $lowerTheirs = @($theirs.Layers.Directory); [array]::Reverse($lowerTheirs)
        $tree = Get-OverlayListing $lowerOurs -Exclude $runtimeMade
        $tree | Should -Contain 'f|app/owned.txt|640|1000:1000|1||5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03|-|'
        $tree | Where-Object { $_ -match '\|(secret\.key|etc/group)\|' } | Should -BeNullOrEmpty
        Compare-Object $tree (Get-OverlayListing $lowerTheirs -Exclude $runtimeMade) -CaseSensitive |
            ForEach-Object { "$($_.SideIndicator) $($_.InputObject)" } | Should -BeNullOrEmpty
    }

    It 'runs the built image' {
        Invoke-ContainerImage localhost/app:1 -Remove | Should -Be 'hello'
        Invoke-ContainerImage localhost/app:1 -Remove -Command /app/artifact, /app/ran, /app/unpacked/sub/b.txt | Should -Be @('built', 'ran', 'sub')
    }

    It 'writes RUN output to the Information stream' {
        $runOutput.MessageData | Should -Contain 'hi from the build stage'
        $runOutput[0].Tags | Should -Contain 'RUN'
    }

    It 'rebuilds an unchanged Containerfile from the cache, running no RUN step' {
        $steps = New-ContainerImage -Path "$ctx/Containerfile" -Name localhost/app:1 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $steps.Message | Where-Object { $_ -match '^Created container' } | Should -BeNullOrEmpty
        @($steps.Message | Where-Object { $_ -match '^STEP \d+/\d+: (RUN|COPY|ADD|ENV|LABEL|CMD)' -and $_ -notmatch '\(cached\)$' }) | Should -BeNullOrEmpty
        (Get-ContainerImage localhost/app:1).Id | Should -Be $built.Id
        # A changed input misses from that step on.
        Set-Content "$ctx/src/a.txt" 'changed'
        try {
            $again = New-ContainerImage -Path "$ctx/Containerfile" -Name localhost/app:2
            $again.Id | Should -Not -Be $built.Id
            Invoke-ContainerImage localhost/app:2 -Remove | Should -Be 'changed'
        }
        finally { Set-Content "$ctx/src/a.txt" 'hello' }
    }

    It '-Target builds up to a stage; -Squash makes one layer' {
        $stage = New-ContainerImage -Path "$ctx/Containerfile" -Name localhost/app:builder -Target builder
        Invoke-ContainerImage localhost/app:builder -Remove -Command cat, /out/artifact | Should -Be 'built'
        $flat = New-ContainerImage -Path "$ctx/Containerfile" -Name localhost/app:flat -Squash
        $flat.Layers.Count | Should -Be 1
        Invoke-ContainerImage localhost/app:flat -Remove | Should -Be 'hello'
    }
}

Describe 'New-ContainerImage -Path with bad input' -Skip:(-not $canRun) {
    It 'reports <Case> as <Id>' -ForEach @(
        @{ Case = 'a syntax error'; Id = 'InvalidContainerfileSyntax'; Message = 'Containerfile:2: COPY expects one or more sources and a destination*'; File = "FROM localhost/busybox:latest`nCOPY ok.txt" }
        @{ Case = 'an unknown instruction'; Id = 'InvalidContainerfileSyntax'; Message = "Containerfile:3: 'RUNN' is not an instruction*"; File = "FROM localhost/busybox:latest`n# c`nRUNN true" }
        @{ Case = 'a heredoc with no end'; Id = 'InvalidContainerfileSyntax'; Message = 'Containerfile:2: the heredoc <<EOF is not terminated*'; File = "FROM localhost/busybox:latest`nRUN <<EOF`necho" }
        @{ Case = 'a RUN flag'; Id = 'UnsupportedContainerfileFeature'; Message = 'Containerfile:2: RUN --security=insecure is not supported*'; File = "FROM localhost/busybox:latest`nRUN --security=insecure true" }
        @{ Case = 'an ssh mount'; Id = 'InvalidContainerfileSyntax'; Message = 'Containerfile:2: RUN --mount=type=ssh is not valid: expected type=bind, cache, tmpfs or secret (ssh*'; File = "FROM localhost/busybox:latest`nRUN --mount=type=ssh true" }
        @{ Case = 'a mount with no target'; Id = 'InvalidContainerfileSyntax'; Message = '*expected target=/path in the container*'; File = "FROM localhost/busybox:latest`nRUN --mount=type=cache true" }
        @{ Case = 'a required secret not given'; Id = 'BuildSecretNotFound'; Message = "Containerfile:2: the secret 'tok' is required*"; File = "FROM localhost/busybox:latest`nRUN --mount=type=secret,id=tok,required true" }
        @{ Case = 'an excluded source'; Id = 'BuildSourceExcluded'; Message = "Containerfile:2: COPY source 'ignored.txt' is excluded by .dockerignore*"; File = "FROM localhost/busybox:latest`nCOPY ignored.txt /x" }
        @{ Case = 'a source outside the context'; Id = 'BuildSourceOutsideContext'; Message = '*outside the build context*'; File = "FROM localhost/busybox:latest`nCOPY ../context/src/a.txt /x" }
        @{ Case = 'a source through a symlink out of the context'; Id = 'BuildSourceOutsideContext'; Message = '*outside the build context*'; File = "FROM localhost/busybox:latest`nCOPY hostetc/passwd /x"; Link = $true }
        @{ Case = 'a missing stage'; Id = 'BuildStageNotFound'; Message = '*--from=nope*'; File = "FROM localhost/busybox:latest`nCOPY --from=nope /x /x" }
    ) {
        $file = New-BadContext ('bad-' + [guid]::NewGuid().ToString('N').Substring(0, 6)) $File
        if ($Link) { New-Item -ItemType SymbolicLink -Path (Join-Path (Split-Path $file) 'hostetc') -Target /etc | Out-Null }
        $before = @(Get-ContainerImage).Count
        { New-ContainerImage -Path $file -Name localhost/bad:1 -ErrorAction Stop } | Should -Throw -ErrorId "$Id*" -ExpectedMessage $Message
        Get-ContainerImage localhost/bad:1 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        @(Get-ContainerImage).Count | Should -Be $before
    }

    It 'reports a failing RUN with its exit code, step and last lines, leaving no container and no name' {
        $file = New-BadContext 'failing' "FROM localhost/busybox:latest`nRUN echo one && echo two && exit 3"
        $before = @(Get-ChildItem $containers -ErrorAction SilentlyContinue).Count
        $err = $null
        try { New-ContainerImage -Path $file -Name localhost/failed:1 -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'BuildStepFailed*'
        $err.Exception.Message | Should -BeLike 'Containerfile:2: RUN echo one && echo two && exit 3 exited with code 3.*one*two*'
        @(Get-ChildItem $containers -ErrorAction SilentlyContinue).Count | Should -Be $before
        Get-ContainerImage localhost/failed:1 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}
