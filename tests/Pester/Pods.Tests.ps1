# Pods with real containers from the busybox fixture: an infra container holding the shared network, IPC and UTS
# namespaces, checked from the host (/proc/<pid>/ns links, cgroup paths); localhost between a pod's containers; a
# published port on a pod reached with curl on a CNI bridge in this test's own CNI directory; the lifecycle and podman
# status rules; bad input that leaves nothing half made. Every check is about the pods and containers this file made.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name pods
    $env:PSCONTAINERS_CNI_CONFIG_DIR = Join-Path $root 'cni'
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:suffix = [guid]::NewGuid().ToString('N').Substring(0, 6)

    function script:New-Member([string] $Pod, [string] $Name, [string[]] $Command = @('sleep', '300'), [hashtable] $More = @{}) {
        New-Container -Pod $Pod -Name $Name -Image localhost/busybox -Command $Command @More -ErrorAction Stop
    }
    function script:Get-Ns([int] $ProcessId, [string] $Kind) { (Get-Item "/proc/$ProcessId/ns/$Kind").Target }
    function script:Get-CgroupDir([string] $Controller, [string] $Relative) { Join-Path "/sys/fs/cgroup/$Controller/pscontainers" $Relative }
}

AfterAll {
    Get-ContainerPod -ErrorAction SilentlyContinue | Remove-ContainerPod -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-ContainerNetwork -ErrorAction SilentlyContinue | Remove-ContainerNetwork -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
    Remove-Item env:PSCONTAINERS_CNI_CONFIG_DIR -ErrorAction SilentlyContinue
}

Describe 'Pods' -Skip:(-not $isRoot) {
    AfterEach {
        Get-ContainerPod | Remove-ContainerPod -Force -Confirm:$false -ErrorAction Continue
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction Continue
    }

    It 'lets its containers reach each other on localhost and gives them the pod''s hostname' {
        $pod = New-ContainerPod -Name "web$suffix"
        $pod.Status | Should -Be Created
        $null = New-Member $pod.Name srv @('busybox', 'httpd', '-f', '-p', '127.0.0.1:8080', '-h', '/etc')
        $null = New-Member $pod.Name cli
        Start-ContainerPod $pod.Name
        # The server listens on the loopback of the pod's namespace only: the client reaches it there.
        Get-FromInside cli 'http://127.0.0.1:8080/hostname' | Should -Be "web$suffix"
        Invoke-ContainerCommand -Name cli -Command hostname | Should -Be "web$suffix"
        (Get-Container srv).Hostname | Should -Be "web$suffix"
        (Get-Container cli).Pod | Should -Be "web$suffix"
    }

    It 'shares the network, IPC and UTS namespaces of its infra and keeps pid and mount namespaces apart' {
        $pod = New-ContainerPod -Name "ns$suffix" -Hostname shared-host
        $null = New-Member $pod.Name a
        $null = New-Member $pod.Name b
        $null = New-Container -Name "alone$suffix" -Image localhost/busybox -Command sleep, 300
        Start-ContainerPod $pod.Name
        Start-Container "alone$suffix"
        $infra = Get-Container -Id $pod.InfraId
        $infra.PodInfra | Should -BeTrue
        $a = Get-Container a; $b = Get-Container b; $alone = Get-Container "alone$suffix"
        foreach ($kind in 'net', 'ipc', 'uts') {
            Get-Ns $a.Pid $kind | Should -Be (Get-Ns $infra.Pid $kind) -Because "$kind is shared"
            Get-Ns $b.Pid $kind | Should -Be (Get-Ns $infra.Pid $kind) -Because "$kind is shared"
            Get-Ns $alone.Pid $kind | Should -Not -Be (Get-Ns $infra.Pid $kind) -Because "a container outside the pod has its own $kind"
            Get-Ns $a.Pid $kind | Should -Not -Be (Get-Ns $PID $kind) -Because "the pod's $kind is not the host's"
        }
        foreach ($kind in 'pid', 'mnt') { Get-Ns $a.Pid $kind | Should -Not -Be (Get-Ns $b.Pid $kind) -Because "$kind is not shared" }
        Invoke-ContainerCommand -Name b -Command hostname | Should -Be shared-host
    }

    It 'confines the infra''s pause process as any container''s process: capabilities, seccomp, no_new_privs, no monitor descriptors' {
        # It is a copy of the root monitor that never execs: checked from the host that it kept nothing of the monitor's.
        $pod = New-ContainerPod -Name "pause$suffix"
        $null = New-Container -Name "plain$suffix" -Image localhost/busybox -Command sleep, 300
        Start-ContainerPod $pod.Name
        Start-Container "plain$suffix"
        $infra = Get-Container -Id $pod.InfraId
        function Get-Status([int] $ProcessId, [string] $Field) { ((Get-Content "/proc/$ProcessId/status") -match "^${Field}:")[0] -replace "^${Field}:\s*", '' }
        foreach ($field in 'CapEff', 'CapPrm', 'CapBnd', 'CapInh', 'CapAmb', 'NoNewPrivs', 'Seccomp', 'Uid', 'Gid') {
            Get-Status $infra.Pid $field | Should -Be (Get-Status (Get-Container "plain$suffix").Pid $field) -Because "$field is a container's"
        }
        Get-Status $infra.Pid Seccomp | Should -Be '2'
        Get-Status $infra.Pid NoNewPrivs | Should -Be '1'
        (Get-ChildItem "/proc/$($infra.Pid)/fd").Name | Sort-Object | Should -Be @('0', '1', '2')
        (Get-Item "/proc/$($infra.Pid)/root").Target | Should -Be '/' -Because 'it lives in its own root (pivot_root), as any container'
        Get-Ns $infra.Pid mnt | Should -Not -Be (Get-Ns $PID mnt)
    }

    It 'shares only what -Share names' {
        $pod = New-ContainerPod -Name "net$suffix" -Share net
        $pod.Share | Should -Be @('net')
        $null = New-Member $pod.Name a -More @{ Hostname = 'own-name' }
        Start-ContainerPod $pod.Name
        $a = Get-Container a; $infra = Get-Container -Id $pod.InfraId
        Get-Ns $a.Pid net | Should -Be (Get-Ns $infra.Pid net)
        Get-Ns $a.Pid uts | Should -Not -Be (Get-Ns $infra.Pid uts)
        Get-Ns $a.Pid ipc | Should -Not -Be (Get-Ns $infra.Pid ipc)
        Invoke-ContainerCommand -Name a -Command hostname | Should -Be own-name
    }

    It 'puts its containers'' cgroups under the pod''s cgroup parent, which Remove-ContainerPod removes' {
        $pod = New-ContainerPod -Name "cg$suffix"
        $a = New-Member $pod.Name a
        Start-ContainerPod $pod.Name
        $parent = "pod-$($pod.Id)"
        foreach ($c in (Get-Container a), (Get-Container -Id $pod.InfraId)) {
            (Get-Content "/proc/$($c.Pid)/cgroup") -match ":memory:/pscontainers/$parent/$($c.Id)$" | Should -Not -BeNullOrEmpty
            Get-Content (Join-Path (Get-CgroupDir memory "$parent/$($c.Id)") 'cgroup.procs') | Should -Contain "$($c.Pid)"
        }
        Test-Path (Get-CgroupDir memory $parent) | Should -BeTrue
        Remove-ContainerPod $pod.Name -Force -Confirm:$false
        foreach ($controller in 'memory', 'pids', 'cpu', 'devices', 'freezer') {
            Test-Path (Get-CgroupDir $controller $parent) | Should -BeFalse -Because "the $controller cgroup parent goes with the pod"
        }
        Get-Container -Id $a.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'starts the infra first, stops it last, and reports its status as podman pod ps does' {
        $pod = New-ContainerPod -Name "life$suffix"
        $null = New-Member $pod.Name a
        $null = New-Member $pod.Name b
        (Get-ContainerPod $pod.Name).Status | Should -Be Created
        (Get-ContainerPod $pod.Name).NumberOfContainers | Should -Be 3
        (Get-ContainerPod $pod.Name).Containers | Should -Be @('a', 'b')

        # Start-Container on a member starts the infra it needs first.
        Start-Container a
        (Get-Container -Id $pod.InfraId).State | Should -Be Running
        (Get-ContainerPod $pod.Name).Status | Should -Be Degraded
        Start-ContainerPod $pod.Name -PassThru | ForEach-Object Status | Should -Be Running

        Stop-Container b -Timeout 1
        (Get-ContainerPod $pod.Name).Status | Should -Be Degraded
        $stopped = Get-ContainerPod $pod.Name | Stop-ContainerPod -Timeout 1 -PassThru
        $stopped.Status | Should -Be Exited
        Get-Container -Pod $pod.Name | ForEach-Object State | Should -Be @('Exited', 'Exited', 'Exited')
        # The infra was stopped last: it exited after every member.
        $infra = Get-Container -Id $pod.InfraId
        $infra.FinishedAt | Should -BeGreaterOrEqual (Get-Container a).FinishedAt
        $infra.ExitCode | Should -Be 0 -Because 'the pause process ends on SIGTERM'

        Start-ContainerPod -Id $pod.Id
        (Get-ContainerPod $pod.Name).Status | Should -Be Running
        Get-Container -Pod $pod.Name | ForEach-Object State | Should -Be @('Running', 'Running', 'Running')
        Start-ContainerPod $pod.Name -PassThru | ForEach-Object Status | Should -Be Running -Because 'starting a running pod is not an error'
        (Get-ContainerEvent -Type Pod | Where-Object Id -eq $pod.Id).Action | Should -Be @('create', 'start', 'stop', 'start', 'start')
    }

    It 'refuses to remove a running pod without -Force and leaves it whole' {
        $pod = New-ContainerPod -Name "busy$suffix"
        $null = New-Member $pod.Name a
        Start-ContainerPod $pod.Name
        { Remove-ContainerPod $pod.Name -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'PodRunning,Containers.Cmdlets.Commands.Pod.RemoveContainerPodCommand'
        (Get-ContainerPod $pod.Name).Status | Should -Be Running
        (Get-Container -Pod $pod.Name).Count | Should -Be 2

        Stop-ContainerPod $pod.Name -Timeout 1
        Remove-ContainerPod $pod.Name -Confirm:$false
        Get-ContainerPod -Name "busy$suffix*" | Should -BeNullOrEmpty
        Get-Container -Pod "busy$suffix" | Should -BeNullOrEmpty
        Test-Path (Join-Path $env:PSCONTAINERS_DATA_DIR "pods/$($pod.Id)") | Should -BeFalse
    }

    It 'refuses to remove its infra container alone, and follows a removed member' {
        $pod = New-ContainerPod -Name "infra$suffix"
        $null = New-Member $pod.Name a
        $null = New-Member $pod.Name b
        { Remove-Container -Id $pod.InfraId -Force -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'PodInfraContainer,Containers.Cmdlets.Commands.Container.RemoveContainerCommand'
        Get-Container -Id $pod.InfraId | Should -Not -BeNullOrEmpty
        Remove-Container a -Confirm:$false
        (Get-ContainerPod $pod.Name).Containers | Should -Be @('b')
        (Get-ContainerPod $pod.Name).NumberOfContainers | Should -Be 2
        # Pruning takes the pod's stopped containers but leaves its infra to Remove-ContainerPod, as podman's prune does.
        Clear-ContainerStorage -Confirm:$false -ErrorAction Stop
        (Get-ContainerPod $pod.Name).Containers | Should -BeNullOrEmpty
        Get-Container -Id $pod.InfraId | Should -Not -BeNullOrEmpty
        Start-ContainerPod $pod.Name -PassThru | ForEach-Object Status | Should -Be Running
    }

    It 'refuses bad input with typed errors and makes nothing' {
        $pod = New-ContainerPod -Name "bad$suffix"
        $before = @(Get-Container).Count
        { New-Container -Pod nosuchpod -Image localhost/busybox -ErrorAction Stop } | Should -Throw -ErrorId 'PodNotFound,Containers.Cmdlets.Commands.Container.NewContainerCommand'
        { New-ContainerPod -Name "bad$suffix" -ErrorAction Stop } | Should -Throw -ErrorId 'PodNameInUse,Containers.Cmdlets.Commands.Pod.NewContainerPodCommand'
        { New-Member $pod.Name x -More @{ Network = 'host' } } | Should -Throw -ErrorId 'PodNetworkConflict,Containers.Cmdlets.Commands.Container.NewContainerCommand'
        { New-Member $pod.Name x -More @{ Publish = '8080:80' } } | Should -Throw -ErrorId 'PodNetworkConflict,Containers.Cmdlets.Commands.Container.NewContainerCommand'
        { New-Member $pod.Name x -More @{ Hostname = 'mine' } } | Should -Throw -ErrorId 'PodHostnameConflict,Containers.Cmdlets.Commands.Container.NewContainerCommand'
        # A create that fails inside (an unknown user) leaves the pod as it was.
        { New-Member $pod.Name x -More @{ User = 'nosuchuser' } } | Should -Throw -ErrorId 'UserNotFound,Containers.Cmdlets.Commands.Container.NewContainerCommand'
        { Start-ContainerPod nosuchpod -ErrorAction Stop } | Should -Throw -ErrorId 'PodNotFound,Containers.Cmdlets.Commands.Pod.StartContainerPodCommand'
        { New-ContainerPod -Name 'bad name' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPodName,Containers.Cmdlets.Commands.Pod.NewContainerPodCommand'
        # The infra's network is checked as New-Container checks it; a refused one leaves no pod and no infra.
        { New-ContainerPod -Name "badnet$suffix" -Network 'no such!' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidNetworkMode,Containers.Cmdlets.Commands.Pod.NewContainerPodCommand'
        { New-ContainerPod -Name "badnet$suffix" -Publish '8080:80' -ErrorAction Stop } | Should -Throw -ErrorId 'PublishNeedsNetwork,Containers.Cmdlets.Commands.Pod.NewContainerPodCommand'
        @(Get-Container).Count | Should -Be $before
        @(Get-ContainerPod).Count | Should -Be 1
        (Get-ContainerPod $pod.Name).NumberOfContainers | Should -Be 1
        Get-ChildItem (Join-Path $env:PSCONTAINERS_DATA_DIR 'containers') -Directory | Should -HaveCount $before
        Get-ContainerPod -Name 'nosuch*' | Should -BeNullOrEmpty -Because 'a wildcard that matches nothing returns nothing'
    }

    It 'changes nothing with -WhatIf' {
        New-ContainerPod -Name "what$suffix" -WhatIf
        Get-ContainerPod | Should -BeNullOrEmpty
        Get-Container | Should -BeNullOrEmpty
        $pod = New-ContainerPod -Name "what$suffix"
        $null = New-Member $pod.Name a
        Start-ContainerPod $pod.Name -WhatIf
        (Get-ContainerPod $pod.Name).Status | Should -Be Created
        Start-ContainerPod $pod.Name
        Stop-ContainerPod $pod.Name -WhatIf
        Remove-ContainerPod $pod.Name -Force -WhatIf
        (Get-ContainerPod $pod.Name).Status | Should -Be Running
        (Get-Container -Pod $pod.Name).Count | Should -Be 2
    }

    It 'binds pods from the pipeline and completes their names' {
        $pod = New-ContainerPod -Name "pipe$suffix"
        # A pod object given to -Pod binds as its name; a piped container binds its Pod property.
        $a = New-Container -Pod $pod -Name a -Image localhost/busybox -Command sleep, 300
        $b = $a | New-Container -Name b -Command sleep, 300
        $b.Pod | Should -Be $pod.Name
        $pod | Start-ContainerPod
        [pscustomobject]@{ Name = $pod.Name } | Stop-ContainerPod -Timeout 1 -PassThru | ForEach-Object Status | Should -Be Exited
        $line = "Get-ContainerPod -Name pipe$($suffix.Substring(0, 2))"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain $pod.Name
        $line = "New-Container -Pod pipe"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain $pod.Name
        Get-ContainerPod -Name "pipe$suffix" | Remove-ContainerPod -Confirm:$false
        Get-ContainerPod | Should -BeNullOrEmpty
    }
}

Describe 'A pod''s published port on a CNI bridge' -Skip:(-not $isRoot) {
    BeforeAll {
        $script:o2 = Get-Random -Minimum 200 -Maximum 250
        $script:o3 = Get-Random -Minimum 0 -Maximum 250
        $script:net = New-ContainerNetwork -Name "pod$suffix" -Subnet "10.$o2.$o3.0/24" -ErrorAction Stop
    }
    AfterAll {
        Get-ContainerPod | Remove-ContainerPod -Force -Confirm:$false -ErrorAction Continue
        Remove-ContainerNetwork -Name "pod$suffix" -Force -Confirm:$false -ErrorAction Continue
    }

    It 'serves a container of the pod on the port published to the pod, and leaves no rule behind' {
        $port = Get-FreePort
        $pod = New-ContainerPod -Name "pub$suffix" -Network $net.Name -Publish "${port}:80"
        $null = New-Member $pod.Name web @('busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')
        Start-ContainerPod $pod.Name
        (Get-ContainerPod $pod.Name).Ports | Should -Be @("0.0.0.0:${port}->80/tcp")
        $answer = $null
        for ($i = 0; $i -lt 50 -and -not $answer; $i++) { $answer = & curl -s -m 2 "http://127.0.0.1:${port}/hostname"; if (-not $answer) { Start-Sleep -Milliseconds 100 } }
        $answer | Should -Be "pub$suffix"
        (& iptables-save) -join "`n" | Should -Match $pod.InfraId
        Remove-ContainerPod $pod.Name -Force -Confirm:$false
        (& iptables-save) -join "`n" | Should -Not -Match $pod.InfraId
        & curl -s -m 2 "http://127.0.0.1:${port}/hostname" | Should -BeNullOrEmpty
    }
}

Describe 'Pods compared with podman''s' -Skip:(-not $isRoot -or -not (Get-Command podman -ErrorAction SilentlyContinue)) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/Podman.psm1') -Force
        $script:podman = Initialize-TestPodman -Root $root
        # podman's own pause image needs catatonit, which is not here: its infra runs sleep from our busybox instead.
        $script:podmanImage = Import-PodmanImage -Podman $podman -Image localhost/busybox
        function script:Get-Shared([int] $Member, [int] $Infra) {
            # Not cgroup: podman on cgroup v1 leaves every container in the host's cgroup namespace, pods or not.
            @('ipc', 'mnt', 'net', 'pid', 'uts') | Where-Object { (Get-Ns $Member $_) -eq (Get-Ns $Infra $_) }
        }
        function script:Get-PodmanPid([string] $Name) { [int](Invoke-Podman inspect -f '{{.State.Pid}}' $Name | Select-Object -Last 1).Trim() }
        function script:Get-PodmanStatus([string] $Pod) { (Invoke-Podman pod ps --filter "name=^$Pod$" --format '{{.Status}}' | Select-Object -Last 1).Trim() }
    }
    AfterAll {
        & podman pod rm -f -a 2>$null | Out-Null
        Remove-TestPodman $podman
        Get-ContainerPod | Remove-ContainerPod -Force -Confirm:$false -ErrorAction Continue
    }

    It 'shares the same namespaces, names the hostname alike, nests the cgroups alike and reports the same status at each step' {
        $theirs = "pm$suffix"; $ours = "ours$suffix"
        Invoke-Podman pod create --infra-image $podmanImage --infra-command 'sleep 1000' $theirs | Out-Null
        $pod = New-ContainerPod -Name $ours
        foreach ($m in 'a', 'b') {
            Invoke-Podman create --pod $theirs --name "$theirs-$m" $podmanImage sleep 1000 | Out-Null
            $null = New-Member $ours "$ours-$m"
        }
        (Get-ContainerPod $ours).Status | Should -Be (Get-PodmanStatus $theirs)
        Invoke-Podman pod start $theirs | Out-Null
        Start-ContainerPod $ours
        (Get-ContainerPod $ours).Status | Should -Be (Get-PodmanStatus $theirs)
        (Get-ContainerPod $ours).NumberOfContainers | Should -Be ([int](Invoke-Podman pod ps --filter "name=^$theirs$" --format '{{.NumberOfContainers}}' | Select-Object -Last 1).Trim())

        $theirInfra = Get-PodmanPid (Invoke-Podman pod inspect -f '{{.InfraContainerID}}' $theirs | Select-Object -Last 1).Trim()
        $ourInfra = (Get-Container -Id $pod.InfraId).Pid
        Get-Shared (Get-Container "$ours-a").Pid $ourInfra | Should -Be @(Get-Shared (Get-PodmanPid "$theirs-a") $theirInfra)
        (Invoke-Podman exec "$theirs-a" hostname | Select-Object -Last 1) | Should -Be $theirs
        Invoke-ContainerCommand -Name "$ours-a" -Command hostname | Should -Be $ours
        # Both put the infra's and the members' cgroups side by side under one pod cgroup.
        foreach ($p in @($theirInfra, (Get-PodmanPid "$theirs-a")), @($ourInfra, (Get-Container "$ours-a").Pid)) {
            $dirs = $p | ForEach-Object { ((Get-Content "/proc/$_/cgroup") -match ':memory:')[0] -replace '^\d+:memory:', '' }
            Split-Path $dirs[0] -Parent | Should -Be (Split-Path $dirs[1] -Parent)
        }

        Invoke-Podman stop -t 1 "$theirs-b" | Out-Null
        Stop-Container "$ours-b" -Timeout 1
        (Get-ContainerPod $ours).Status | Should -Be (Get-PodmanStatus $theirs)
        Invoke-Podman pod stop -t 1 $theirs | Out-Null
        Stop-ContainerPod $ours -Timeout 1
        (Get-ContainerPod $ours).Status | Should -Be (Get-PodmanStatus $theirs)
    }
}
