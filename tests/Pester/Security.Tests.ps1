# Seccomp that follows capabilities, -SecurityOpt (profile, unconfined, no-new-privileges) and -Privileged, checked in
# real busybox containers and against crun running the same bundle.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }

Describe 'Security: seccomp follows capabilities and can be replaced' -Skip:(-not $isRoot) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $script:root = New-TestRoot -Name security
        Import-Module (Get-TestModulePath) -Force
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
        Import-BusyboxImage | Out-Null

        # busybox has no strace or gdb: a static probe does what they do (ptrace, process_vm_readv), bind-mounted at /probe.
        $probeDir = Join-Path $root 'probe'
        New-Item -ItemType Directory -Force $probeDir | Out-Null
        $out = & gcc -static -O2 -o (Join-Path $probeDir 'security-probe') (Join-Path $PSScriptRoot 'Fixtures/security-probe.c') 2>&1
        if ($LASTEXITCODE) { throw "gcc -static failed: $out" }
        $script:probe = @{ Image = 'busybox'; Volume = "${probeDir}:/probe:ro" }

        # Docker's format: deny mkdir with ENOSPC (an errno nothing else gives), everything else allowed.
        $script:noMkdir = Join-Path $root 'no-mkdir.json'
        @'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [
    { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28 }
  ]
}
'@ | Set-Content $noMkdir

        function script:Invoke-Busybox([string] $Script, [hashtable] $Options = @{}) {
            # Exit 0 whatever the script's last command gave: the output says what was refused.
            Invoke-ContainerImage @probe @Options -Remove -Command sh, -c, "{ $Script; } 2>&1; exit 0"
        }
    }

    AfterAll {
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-TestRoot $script:root
    }

    It 'lets a container with CAP_SYS_PTRACE trace (ptrace, process_vm_readv) and refuses it without' {
        Invoke-Busybox '/probe/security-probe ptrace' | Should -Be @('ptrace-traceme=EPERM', 'ptrace-attach=EPERM', 'process_vm_readv=EPERM')
        Invoke-Busybox '/probe/security-probe ptrace' @{ CapAdd = 'SYS_PTRACE' } |
            Should -Be @('ptrace-traceme=ok', 'ptrace-attach=ok', 'process_vm_readv=ok')
    }

    It 'lets a container with CAP_SYS_ADMIN mount a tmpfs and refuses it without' {
        $script = 'mkdir -p /m && mount -t tmpfs none /m && touch /m/f && echo mounted; grep " /m " /proc/mounts'
        $denied = Invoke-Busybox $script
        $denied | Should -Not -Contain 'mounted'
        "$denied" | Should -Match 'permission denied'
        $admin = Invoke-Busybox $script @{ CapAdd = 'SYS_ADMIN' }
        $admin | Should -Contain 'mounted'
        "$admin" | Should -Match 'none /m tmpfs'
    }

    It 'honours a profile in Docker''s format (mkdir answers its errno) where the same container without it can mkdir' {
        Invoke-Busybox 'mkdir /made && echo made' | Should -Be 'made'
        $denied = Invoke-Busybox 'mkdir /made && echo made' @{ SecurityOpt = "seccomp=$noMkdir" }
        "$denied" | Should -Match 'No space left on device'
        $denied | Should -Not -Contain 'made'
    }

    It 'writes the profile into the bundle so that crun running it refuses mkdir the same way' {
        $c = New-Container @probe -SecurityOpt "seccomp=$noMkdir" -Command sh, -c, 'mkdir /made 2>&1; echo rc=$?'
        $ours = @((Start-Container $c.Name -Wait | Get-ContainerLog).Text)
        $theirs = @(Invoke-BundleUnderCrun (Join-Path $env:PSCONTAINERS_DATA_DIR "containers/$($c.Id)"))
        $LASTEXITCODE | Should -Be 0 -Because "$theirs"
        Remove-Container $c.Name
        "$ours" | Should -Match 'No space left on device'
        $theirs | Should -Be $ours
    }

    It 'runs without a filter under seccomp=unconfined, with a warning' {
        $out = Invoke-ContainerImage @probe -Remove -SecurityOpt seccomp=unconfined -Command /probe/security-probe, ptrace -WarningVariable warned -WarningAction SilentlyContinue
        # Attaching to one's own child needs no capability: only the filter refused it.
        $out | Should -Contain 'ptrace-attach=ok'
        "$warned" | Should -Match 'unconfined'
        Invoke-Busybox 'grep Seccomp: /proc/self/status' @{ SecurityOpt = 'seccomp=unconfined'; WarningAction = 'SilentlyContinue' } |
            Should -Match 'Seccomp:\s+0'
        Invoke-Busybox 'grep Seccomp: /proc/self/status' | Should -Match 'Seccomp:\s+2'
    }

    It 'sets no_new_privs unless no-new-privileges=false' {
        Invoke-Busybox 'grep NoNewPrivs /proc/self/status' | Should -Match 'NoNewPrivs:\s+1'
        Invoke-Busybox 'grep NoNewPrivs /proc/self/status' @{ SecurityOpt = 'no-new-privileges=false' } | Should -Match 'NoNewPrivs:\s+0'
    }

    It 'gives -Privileged every capability and device (a loop-control node opens), with a warning' {
        $script = 'mknod /dev/lc c 10 237 && exec 3</dev/lc && echo opened'
        # MKNOD alone makes the node, but the device rules refuse to open it.
        $denied = Invoke-Busybox $script @{ CapAdd = 'MKNOD' }
        $denied | Should -Not -Contain 'opened'
        "$denied" | Should -Match 'Operation not permitted'
        Invoke-ContainerImage @probe -Remove -Privileged -Command sh, -c, $script -WarningVariable warned -WarningAction SilentlyContinue |
            Should -Contain 'opened'
        "$warned" | Should -Match 'Privileged'
        Invoke-Busybox 'grep -E "CapEff|Seccomp:" /proc/self/status' @{ Privileged = $true; WarningAction = 'SilentlyContinue' } |
            Should -Be @("CapEff:	$(((Get-Content /proc/self/status) -match '^CapEff' -split '\s+')[1])", 'Seccomp:	0') -Because 'every capability of the host, no filter'
    }

    It 'refuses a profile that does not parse, naming the file and line, and creates nothing' {
        $bad = Join-Path $root 'bad.json'
        "{`n  `"defaultAction`": `"SCMP_ACT_ALLOW`",`n  `"syscalls`": [ { `"names`": [`"mkdir`"] `"action`": 1 } ]`n}" | Set-Content $bad
        $before = @(Get-Container).Count
        New-Container busybox -SecurityOpt "seccomp=$bad" -Command true -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidSeccompProfile*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].Exception.Message | Should -Match ([regex]::Escape($bad))
        $err[0].Exception.Message | Should -Match 'line 3'
        @(Get-Container).Count | Should -Be $before
    }

    It 'refuses a profile with an action the filter cannot apply, naming the file' {
        $notify = Join-Path $root 'notify.json'
        '{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ["mkdir"], "action": "SCMP_ACT_NOTIFY" } ] }' | Set-Content $notify
        New-Container busybox -SecurityOpt "seccomp=$notify" -Command true -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'UnsupportedSeccompProfile*'
        $err[0].Exception.Message | Should -Match ([regex]::Escape($notify))
    }

    It 'refuses an unknown -SecurityOpt key, listing the known ones, and creates nothing' {
        $before = @(Get-Container).Count
        New-Container busybox -SecurityOpt 'apparmor=unconfined' -Command true -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'UnknownSecurityOption*'
        $err[0].Exception.Message | Should -Match 'seccomp, no-new-privileges'
        @(Get-Container).Count | Should -Be $before
    }
}
