# pscontainers-init reading a launch plan and a bundle that are not what Core writes: a corrupt or hostile plan.json
# or config.json is refused before anything is cloned, with a handshake and a stderr line that name the file, the
# property and where it is, and the start-failure exit code. Nothing is mounted or started.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:init = [System.IO.Path]::GetFullPath((Join-Path (Split-Path (Get-TestModulePath)) 'pscontainers-init'))
    $script:root = New-TestRoot -Name initplan

    function Invoke-Plan([string] $Plan, [string] $Config = '{"process":{"args":["/bin/true"]}}') {
        $dir = Join-Path $root ([guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory "$dir/bundle/rootfs" -Force | Out-Null
        [IO.File]::WriteAllText("$dir/bundle/config.json", $Config)
        [IO.File]::WriteAllText("$dir/plan.json", ($Plan -replace '@DIR@', $dir))
        $stdout = & $init run --plan "$dir/plan.json" 2> "$dir/stderr"
        [pscustomobject]@{
            ExitCode  = $LASTEXITCODE
            Handshake = $stdout | ConvertFrom-Json
            Stderr    = (Get-Content -Raw "$dir/stderr")
            Dir       = $dir
        }
    }
    $script:good = '{"version":1,"containerId":"c1","bundleDir":"@DIR@/bundle","stateDir":"@DIR@","logPath":"@DIR@/ctr.log","stdio":"log"}'
}

AfterAll {
    Remove-TestRoot $root
}

Describe 'A corrupt launch plan or bundle' {
    It 'refuses a plan whose <Case>, naming the file and the property' -ForEach @(
        @{ Case = 'version is a string'; Plan = '{"version":"1","bundleDir":"@DIR@/bundle","stateDir":"@DIR@"}'; Says = "'version' must be a 32-bit integer, not a string" }
        @{ Case = 'cgroup files are not a list'; Plan = '{"version":1,"bundleDir":"@DIR@/bundle","stateDir":"@DIR@","cgroupProcsFiles":"/sys/fs/cgroup/pids/tasks"}'; Says = "'cgroupProcsFiles' must be an array, not a string" }
        @{ Case = 'stdio mode is unknown'; Plan = '{"version":1,"bundleDir":"@DIR@/bundle","stateDir":"@DIR@","stdio":"tty"}'; Says = "'stdio' must be one of its known names" }
        @{ Case = 'text is cut off'; Plan = '{"version":1,"bundleDir":"@DIR@/bun'; Says = 'plan.json' }
    ) {
        $r = Invoke-Plan $Plan
        $r.ExitCode | Should -Be 125
        $r.Handshake.errorId | Should -Be 'BadPlan'
        $r.Handshake.pid | Should -Be 0
        $r.Handshake.error | Should -BeLike '*plan.json*'
        $r.Handshake.error | Should -BeLike "*$Says*"
        $r.Stderr | Should -BeLike "*$Says*"
        Test-Path (Join-Path $r.Dir 'ctr.log') | Should -BeFalse
    }

    It 'refuses a config.json whose <Case>, naming it' -ForEach @(
        @{ Case = 'uid is negative'; Config = '{"process":{"args":["/bin/true"],"user":{"uid":-1}}}'; Says = "'uid' must be an unsigned 32-bit integer" }
        @{ Case = 'mount is null'; Config = '{"process":{"args":["/bin/true"]},"mounts":[null]}'; Says = "'mounts' must be an object, not null" }
        @{ Case = 'sysctl value is a number'; Config = '{"process":{"args":["/bin/true"]},"linux":{"sysctl":{"net.ipv4.ip_forward":1}}}'; Says = "'sysctl' must be a string, not a number" }
    ) {
        $r = Invoke-Plan $good $Config
        $r.ExitCode | Should -Be 125
        $r.Handshake.errorId | Should -Be 'BadPlan'
        $r.Handshake.error | Should -BeLike '*bundle/config.json*'
        $r.Handshake.error | Should -BeLike "*$Says*"
        Test-Path (Join-Path $r.Dir 'ctr.log') | Should -BeFalse
    }
}
