# Standard input from the pipeline: Invoke-ContainerCommand -InputData (alias -Stdin) binds piped strings and bytes,
# while piped containers still bind to -InputObject. Checked on the bytes the process received, from outside.
BeforeDiscovery { $script:isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name stdin
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:c = New-Container busybox -Name feed -Command sleep, 600 | Start-Container -PassThru
    $script:other = New-Container busybox -Name feed2 -Command sleep, 600 | Start-Container -PassThru
    # What the container wrote, read from its upper directory on the host.
    function script:Get-Written([string] $Path) {
        [System.IO.File]::ReadAllBytes((Join-Path $env:PSCONTAINERS_DATA_DIR "containers/$($c.Id)/upper/$Path"))
    }
}

AfterAll {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Invoke-ContainerCommand with piped input' -Skip:(-not $isRoot) {
    It 'feeds piped lines to the process, each with a newline, and runs it once' {
        'a', 'b', 'c' | Invoke-ContainerCommand feed -Command cat | Should -Be @('a', 'b', 'c')
        $count = 1..2000 | ForEach-Object { "line $_" } | Invoke-ContainerCommand feed -Command sh, -c, 'n=0; while read l; do n=$((n+1)); done; echo $n'
        $count | Should -Be '2000'
        'x' | Invoke-ContainerCommand feed -Command sh, -c, 'cat > /tmp/lines'
        Get-Written 'tmp/lines' | Should -Be @([byte][char]'x', 10)
    }

    It 'feeds a file read by Get-Content, and bytes exactly as they are' {
        $file = Join-Path $root 'dump.sql'
        Set-Content $file "create table t (x int);`ninsert into t values (1);"
        Get-Content $file | Invoke-ContainerCommand feed -Command sh, -c, 'cat > /tmp/dump.sql'
        [System.IO.File]::ReadAllBytes($file) | Should -Be (Get-Written 'tmp/dump.sql')

        $bytes = [byte[]](0..255 + 10, 0, 13)
        , $bytes | Invoke-ContainerCommand feed -Command sh, -c, 'cat > /tmp/raw'
        Get-Written 'tmp/raw' | Should -Be $bytes
        # Enumerated bytes (Get-Content -AsByteStream pipes them one by one) arrive the same.
        $bytes | Invoke-ContainerCommand feed -Command sh, -c, 'cat > /tmp/each'
        Get-Written 'tmp/each' | Should -Be $bytes
    }

    It 'keeps binding piped containers to -InputObject' {
        Get-Container feed | Invoke-ContainerCommand -Command hostname | Should -Be $c.Hostname
        @(Get-Container feed, feed2 | Invoke-ContainerCommand -Command hostname) | Should -Be @($c.Hostname, $other.Hostname)
        Invoke-ContainerCommand $c -Command cat | Should -BeNullOrEmpty -Because 'no input: stdin is at its end at once'
    }

    It 'reports the exit code, and a process that does not read its input is no error' {
        'x' | Invoke-ContainerCommand feed -Command sh, -c, 'read l; exit 3'
        $LASTEXITCODE | Should -Be 3
        $err = $null
        1..50000 | ForEach-Object { "$_" } | Invoke-ContainerCommand feed -Command true -ErrorVariable err
        $LASTEXITCODE | Should -Be 0
        $err | Should -BeNullOrEmpty
    }

    It 'starts the process with the first piece and feeds each as it arrives, not all at the end' {
        # The second line is only sent once the process has shown, in its file system, that it read the first: a command
        # that ran only after the last piece would never write it, and the wait would give up.
        $seen = Join-Path $env:PSCONTAINERS_DATA_DIR "containers/$($c.Id)/upper/tmp/seen"
        $out = & {
            'first'
            $null = Wait-TestCondition { Test-Path $seen } -Seconds 20
            "second $(Test-Path $seen)"
        } | Invoke-ContainerCommand feed -Command sh, -c, 'read a; echo "$a" > /tmp/seen; read b; echo "$a / $b"'
        $out | Should -Be 'first / second True'
    }

    It 'ends with the error of a container that cannot run the command, however much input follows' {
        $idle = New-Container busybox -Command sleep, 600
        $err = $null
        1..5000 | ForEach-Object { "$_" } | Invoke-ContainerCommand $idle.Name -Command cat -ErrorVariable err -ErrorAction SilentlyContinue
        $err.FullyQualifiedErrorId | Should -BeLike 'ContainerNotRunning,*'
        Remove-Container $idle.Name
    }

    It 'refuses piped input with -Interactive' {
        { 'x' | Invoke-ContainerCommand feed -Interactive -Command cat -ErrorAction Stop } | Should -Throw -ErrorId 'StdinWithInteractive,*'
    }
}
