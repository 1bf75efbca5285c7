# CNI networking for root with the real plugins (Debian's containernetworking-plugins) in this test's own CNI
# configuration directory, on subnets chosen at random per run: names between containers, published ports from the
# host, two networks, container:NAME, podman on the same network, clean-up (veths, iptables, IPAM leases, netns files).
# Every leak check is about what this file made: its networks' bridges, its containers' ids, its networks' leases.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name network
    $env:PSCONTAINERS_CNI_CONFIG_DIR = Join-Path $root 'cni'
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    # Two /24s in 10.200-249.x: unlikely to meet a real network or another run.
    $script:o2 = Get-Random -Minimum 200 -Maximum 250
    $script:o3 = Get-Random -Minimum 0 -Maximum 250
    $script:suffix = [guid]::NewGuid().ToString('N').Substring(0, 6)

    function script:New-TestNetwork([int] $Offset = 0, [string] $Name = "t$suffix-$Offset") {
        New-ContainerNetwork -Name $Name -Subnet "10.$o2.$($o3 + $Offset).0/24" -ErrorAction Stop
    }
    function script:Set-TestDefaultNetwork([string] $Name, [string] $Subnet) {
        # This session's containers.conf (New-TestRoot's says private).
        $text = "[network]`ndefault_network = `"$Name`"`n" + $(if ($Subnet) { "default_subnet = `"$Subnet`"`n" })
        Set-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'containers.conf') $text
    }
    function script:Start-Web([string] $Name, [string[]] $Network, [hashtable] $More = @{}) {
        # busybox httpd serving /etc: GET /hostname answers the container's hostname.
        $c = New-Container -Image localhost/busybox -Name $Name -Network $Network -Command busybox, httpd, -f, -p, 80, -h, /etc @More -ErrorAction Stop
        Start-Container $c.Name -ErrorAction Stop
        return Get-Container $c.Name
    }
    function script:Get-Over([string] $Url) {
        # curl from the host; the server may need a moment after exec to listen.
        for ($i = 0; $i -lt 40; $i++) {
            $out = & curl -s -m 2 $Url
            if ($LASTEXITCODE -eq 0) { return $out }
            Start-Sleep -Milliseconds 100
        }
        throw "curl $Url failed ($LASTEXITCODE)"
    }
    function script:Invoke-In([string] $Name, [string[]] $Command) {
        Invoke-ContainerCommand -Name $Name -Command (@('busybox') + $Command)
    }
    function script:Get-Leaks($Network, [string[]] $Ids) {
        # What CNI would leave behind for these containers on this network, as readable strings (empty: nothing).
        @(
            if ($Network.Bridge -and (Test-Path "/sys/class/net/$($Network.Bridge)/brif")) {
                Get-ChildItem "/sys/class/net/$($Network.Bridge)/brif" | ForEach-Object { "veth $($_.Name) on $($Network.Bridge)" }
            }
            $rules = (& iptables-save) -join "`n"
            foreach ($id in $Ids) { if ($rules.Contains($id)) { "iptables rule for $id" } }
            $leases = "/var/lib/cni/networks/$($Network.Name)"
            if (Test-Path $leases) {
                Get-ChildItem $leases -File | Where-Object { $_.Name -match '^\d+\.\d+\.\d+\.\d+$' } | ForEach-Object { "lease $($_.Name): $(Get-Content $_.FullName -TotalCount 1)" }
            }
            foreach ($id in $Ids) {
                $ns = Join-Path $env:PSCONTAINERS_STATE_DIR "netns/$id"
                if (Test-Path $ns) { "netns file $ns" }
                if ((Get-Content /proc/self/mountinfo) -match [regex]::Escape($ns)) { "netns mount $ns" }
            }
        )
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-ContainerNetwork -ErrorAction SilentlyContinue | Remove-ContainerNetwork -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
    Remove-Item env:PSCONTAINERS_CNI_CONFIG_DIR -ErrorAction SilentlyContinue
}

Describe 'CNI networks' -Skip:(-not $isRoot) {
    AfterEach {
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        Get-ContainerNetwork -ErrorAction SilentlyContinue | Remove-ContainerNetwork -Force -Confirm:$false -ErrorAction SilentlyContinue
    }

    It 'writes a podman-style conflist and lists it with its plugins and containers' {
        $n = New-TestNetwork -Name "list$suffix"
        $n.Plugins | Should -Be @('bridge', 'portmap', 'firewall', 'tuning')
        $n.Subnets | Should -Be @("10.$o2.$o3.0/24")
        $n.File | Should -Be (Join-Path $env:PSCONTAINERS_CNI_CONFIG_DIR "list$suffix.conflist")
        $conf = Get-Content $n.File -Raw | ConvertFrom-Json
        $conf.plugins[0].ipam.type | Should -Be 'host-local'
        $conf.plugins[1].capabilities.portMappings | Should -BeTrue
        $null = New-Container -Image localhost/busybox -Name "on$suffix" -Network $n.Name -Command true
        (Get-ContainerNetwork $n.Name).Containers | Should -Be @("on$suffix")
        (Get-ContainerNetwork $n.Name | Format-Table | Out-String -Width 200) | Should -Match "bridge,portmap,firewall,tuning"
    }

    It 'lets containers reach each other by name and alias, through their own hosts files' {
        $n = New-TestNetwork
        $a = Start-Web "alpha$suffix" $n.Name @{ NetworkAlias = 'db' }
        $b = Start-Web "beta$suffix" $n.Name
        $a.IPAddresses[0] | Should -BeLike "10.$o2.$o3.*"
        Invoke-In $b.Name wget, -qO-, "http://alpha$suffix/hostname" | Should -Be $a.Hostname
        Invoke-In $b.Name wget, -qO-, 'http://db/hostname' | Should -Be $a.Hostname
        # The peer that started first learnt of the later one too.
        Invoke-In $a.Name wget, -qO-, "http://beta$suffix/hostname" | Should -Be $b.Hostname
        # A peer that goes away is forgotten.
        Stop-Container $b.Name -Timeout 0
        Invoke-In $a.Name cat, /etc/hosts | Should -Not -Match "beta$suffix"
    }

    It 'publishes a port to the host on 127.0.0.1 and on every address, shown in Ports' {
        $n = New-TestNetwork
        $p1 = Get-FreePort; $p2 = Get-FreePort
        $c = Start-Web "pub$suffix" $n.Name @{ Publish = "127.0.0.1:${p1}:80", "${p2}:80/tcp" }
        Get-Over "http://127.0.0.1:$p1/hostname" | Should -Be $c.Hostname
        Get-Over "http://127.0.0.1:$p2/hostname" | Should -Be $c.Hostname
        $c.Ports | Should -Be @("127.0.0.1:$p1->80/tcp", "0.0.0.0:$p2->80/tcp")
        (Get-Container $c.Name | Format-Table -View Ports | Out-String -Width 200) | Should -Match ([regex]::Escape("127.0.0.1:$p1->80/tcp, 0.0.0.0:$p2->80/tcp"))
    }

    It 'shows published ports in the default Get-Container table from 120 columns, as podman ps does' {
        $n = New-TestNetwork
        $p = Get-FreePort
        $c = Start-Web "tbl$suffix" $n.Name @{ Publish = "${p}:80" }
        $lines = @(Get-Container $c.Name | Out-String -Width 120 -Stream | Where-Object { $_ })
        $lines[0] | Should -Match '^ContainerId\s+Name\s+Image\s+Status\s+Command\s+Ports$'
        $lines[2] | Should -Match ("^$($c.ShortId)\s+tbl$suffix\s.*\s" + [regex]::Escape("0.0.0.0:$p->80/tcp") + '$')
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 120 }
        # A narrower console drops the column rather than wrapping the row.
        @(Get-Container $c.Name | Out-String -Width 80 -Stream | Where-Object { $_ })[0] | Should -Match 'Command$'
    }

    It 'gives a random host port for a bare container port' {
        $n = New-TestNetwork
        $c = Start-Web "rnd$suffix" $n.Name @{ Publish = '80' }
        $c.Ports[0] | Should -Match '^0\.0\.0\.0:(\d+)->80/tcp$'
        $port = [int]($c.Ports[0] -replace '^0\.0\.0\.0:(\d+)->.*', '$1')
        $port | Should -BeGreaterThan 0
        Get-Over "http://127.0.0.1:$port/hostname" | Should -Be $c.Hostname
    }

    It 'publishes the image''s EXPOSE ports on random host ports with -PublishAll' {
        $n = New-TestNetwork
        $base = New-Container -Image localhost/busybox -Name "base$suffix" -Command true
        $null = Get-Container $base.Name | New-ContainerImage -Name "localhost/exposed$suffix" -Change 'EXPOSE 80/tcp'
        $c = New-Container -Image "localhost/exposed$suffix" -Name "all$suffix" -Network $n.Name -PublishAll -Command busybox, httpd, -f, -p, 80, -h, /etc
        Start-Container $c.Name
        $c = Get-Container $c.Name
        $c.Ports.Count | Should -Be 1
        $c.Ports[0] | Should -Match '^0\.0\.0\.0:(\d+)->80/tcp$'
        Get-Over "http://127.0.0.1:$($c.Ports[0] -replace '^0\.0\.0\.0:(\d+)->.*', '$1')/hostname" | Should -Be $c.Hostname
    }

    It 'puts one container on two networks, reachable from each' {
        $n1 = New-TestNetwork 0; $n2 = New-TestNetwork 1
        $both = Start-Web "both$suffix" $n1.Name, $n2.Name
        $both.IPAddresses.Count | Should -Be 2
        $both.IPAddresses[0] | Should -BeLike "10.$o2.$o3.*"
        $both.IPAddresses[1] | Should -BeLike "10.$o2.$($o3 + 1).*"
        $left = Start-Web "left$suffix" $n1.Name
        $right = Start-Web "right$suffix" $n2.Name
        Invoke-In $left.Name wget, -qO-, "http://both$suffix/hostname" | Should -Be $both.Hostname
        Invoke-In $right.Name wget, -qO-, "http://both$suffix/hostname" | Should -Be $both.Hostname
        # Not on a shared network: no name.
        Invoke-In $left.Name cat, /etc/hosts | Should -Not -Match "right$suffix"
    }

    It 'connects and disconnects a running container' {
        $n1 = New-TestNetwork 0; $n2 = New-TestNetwork 1
        $c = Start-Web "cd$suffix" $n1.Name
        $peer = Start-Web "peer$suffix" $n2.Name
        $c = Connect-ContainerNetwork -Name $c.Name -Network $n2.Name -Alias cache -PassThru
        $c.IPAddresses.Count | Should -Be 2
        Invoke-In $peer.Name wget, -qO-, 'http://cache/hostname' | Should -Be $c.Hostname
        $c = Disconnect-ContainerNetwork -Name $c.Name -Network $n2.Name -PassThru
        $c.IPAddresses.Count | Should -Be 1
        $c.Network | Should -Be $n1.Name
        Invoke-In $peer.Name cat, /etc/hosts | Should -Not -Match 'cache'
    }

    It 'shares another container''s network namespace with container:NAME' {
        $n = New-TestNetwork
        $web = Start-Web "pod$suffix" $n.Name
        $side = New-Container -Image localhost/busybox -Name "side$suffix" -Network "container:pod$suffix" -Command sleep, 300
        Start-Container $side.Name
        Invoke-In $side.Name wget, -qO-, 'http://127.0.0.1/hostname' | Should -Be $web.Hostname
    }

    It 'leaves no veth, iptables rule, lease or netns behind after remove' {
        $n = New-TestNetwork
        $c = Start-Web "gone$suffix" $n.Name @{ Publish = "$(Get-FreePort):80" }
        $during = Get-Leaks $n $c.Id
        $during | Should -Not -BeNullOrEmpty -Because 'the check must see what a running container has'
        Remove-Container $c.Name -Force
        Get-Leaks $n $c.Id | Should -BeNullOrEmpty
    }

    It 'attaches a foreground run (Invoke-ContainerImage) and detaches it when it ends' {
        $n = New-TestNetwork
        $out = Invoke-ContainerImage -Image localhost/busybox -Name "fg$suffix" -Network $n.Name -Command busybox, ip, -4, -o, addr, show, eth0
        "$out" | Should -Match "inet 10\.$o2\.$o3\.\d+/24"
        Get-Leaks $n (Get-Container "fg$suffix").Id | Should -BeNullOrEmpty
    }

    It 'cleans up after its monitor was SIGKILLed, on the next look, and starts again' {
        $n = New-TestNetwork
        $c = Start-Web "killed$suffix" $n.Name @{ Publish = "$(Get-FreePort):80" }
        kill -9 $c.MonitorPid
        kill -9 $c.Pid
        for ($i = 0; $i -lt 100 -and (Test-Path "/proc/$($c.Pid)/stat") -and (Get-Content "/proc/$($c.Pid)/stat" -ErrorAction SilentlyContinue) -notmatch '\) Z'; $i++) { Start-Sleep -Milliseconds 50 }
        (Get-Container $c.Name).State | Should -Be 'Exited'
        Get-Leaks $n $c.Id | Should -BeNullOrEmpty
        Start-Container $c.Name
        $again = Get-Container $c.Name
        Get-Over "http://$($again.IPAddresses[0])/hostname" | Should -Be $c.Hostname
    }
}

Describe 'Bad network input' -Skip:(-not $isRoot) {
    AfterEach {
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        Get-ContainerNetwork -ErrorAction SilentlyContinue | Remove-ContainerNetwork -Force -Confirm:$false -ErrorAction SilentlyContinue
        Get-ChildItem $env:PSCONTAINERS_CNI_CONFIG_DIR -File -ErrorAction SilentlyContinue | Remove-Item
    }

    It 'refuses an unknown network' {
        { New-Container -Image localhost/busybox -Network "nosuch$suffix" -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'NetworkNotFound*'
        Get-Container | Should -BeNullOrEmpty
    }

    It 'refuses an overlapping subnet and writes nothing' {
        $n = New-TestNetwork
        { New-ContainerNetwork -Name "over$suffix" -Subnet "10.$o2.$o3.128/25" -ErrorAction Stop } | Should -Throw -ErrorId 'SubnetOverlap*'
        Test-Path (Join-Path $env:PSCONTAINERS_CNI_CONFIG_DIR "over$suffix.conflist") | Should -BeFalse
        $err = $null; New-ContainerNetwork -Name "over$suffix" -Subnet "10.$o2.0.0/16" -ErrorVariable err -ErrorAction SilentlyContinue
        "$err" | Should -Match $n.Name
    }

    It 'refuses a host port in use, names its holder, and leaves nothing configured' {
        $n = New-TestNetwork
        $l = [System.Net.Sockets.TcpListener]::new([ipaddress]::Any, 0); $l.Start()
        try {
            $port = $l.LocalEndpoint.Port
            $c = New-Container -Image localhost/busybox -Name "busy$suffix" -Network $n.Name -Publish "${port}:80" -Command sleep, 300
            $err = $null
            Start-Container $c.Name -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'HostPortInUse*'
            "$($err[0])" | Should -Match "$port/tcp"
            "$($err[0])" | Should -Match "pid $PID"
            Get-Leaks $n $c.Id | Should -BeNullOrEmpty
        }
        finally { $l.Stop() }
    }

    It 'refuses a host port another container publishes' {
        $n = New-TestNetwork
        $port = Get-FreePort
        $first = Start-Web "first$suffix" $n.Name @{ Publish = "${port}:80" }
        $second = New-Container -Image localhost/busybox -Name "second$suffix" -Network $n.Name -Publish "${port}:80" -Command sleep, 300
        $err = $null
        Start-Container $second.Name -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'HostPortInUse*'
        "$($err[0])" | Should -Match "container first$suffix"
    }

    It 'names a missing plugin and its Debian package' {
        $file = Join-Path $env:PSCONTAINERS_CNI_CONFIG_DIR "np$suffix.conflist"
        Set-Content $file "{ `"cniVersion`": `"0.4.0`", `"name`": `"np$suffix`", `"plugins`": [ { `"type`": `"nosuchplugin$suffix`" } ] }"
        $err = $null
        New-Container -Image localhost/busybox -Network "np$suffix" -Command true -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CniPluginNotFound*'
        "$($err[0])" | Should -Match "nosuchplugin$suffix"
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'containernetworking-plugins'
        Get-Container | Should -BeNullOrEmpty
    }

    It 'reports a malformed conflist with its file and line' {
        $file = Join-Path $env:PSCONTAINERS_CNI_CONFIG_DIR "bad$suffix.conflist"
        Set-Content $file "{`n  `"name`": `"bad$suffix`",`n  `"plugins`": [ oops ]`n}"
        $err = $null
        New-Container -Image localhost/busybox -Network "bad$suffix" -Command true -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CniConfigInvalid*'
        "$($err[0])" | Should -Match ([regex]::Escape($file))
        "$($err[0])" | Should -Match 'line 3'
        $err = $null
        $null = Get-ContainerNetwork -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CniConfigInvalid*'
    }

    It 'refuses -Publish without a CNI network' {
        { New-Container -Image localhost/busybox -Network none -Publish 8080:80 -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'PublishNeedsNetwork*'
        { New-Container -Image localhost/busybox -Publish 'x:80' -Command true -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPortMapping*'
        Get-Container | Should -BeNullOrEmpty
    }

    It 'refuses to remove a network in use unless -Force, and -WhatIf changes nothing' {
        $n = New-TestNetwork
        $c = Start-Web "use$suffix" $n.Name
        { Remove-ContainerNetwork $n.Name -ErrorAction Stop } | Should -Throw -ErrorId 'NetworkInUse*'
        Remove-ContainerNetwork $n.Name -Force -WhatIf
        Test-Path $n.File | Should -BeTrue
        Remove-ContainerNetwork $n.Name -Force -Confirm:$false
        Test-Path $n.File | Should -BeFalse
        (Get-Container $c.Name).State | Should -Be 'Exited'
        Get-Leaks $n $c.Id | Should -BeNullOrEmpty
    }
}

Describe 'Configuration and discovery' -Skip:(-not $isRoot) {
    AfterEach {
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        Get-ContainerNetwork -ErrorAction SilentlyContinue | Remove-ContainerNetwork -Force -Confirm:$false -ErrorAction SilentlyContinue
        Set-TestDefaultNetwork private
    }

    It 'joins containers.conf''s default_network when -Network is not given' {
        $n = New-TestNetwork
        Set-Content (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'containers.conf') "[network]`ndefault_network = `"$($n.Name)`" # ours`n"
        (New-Container -Image localhost/busybox -Command true).Network | Should -Be $n.Name
        Set-TestDefaultNetwork private
        (New-Container -Image localhost/busybox -Command true).Network | Should -Be 'private'
    }

    It 'shows the CNI directories and plugins in Get-ContainerSystemInfo' {
        $info = Get-ContainerSystemInfo
        $info.CniConfigDir | Should -Be $env:PSCONTAINERS_CNI_CONFIG_DIR
        $info.CniPlugins | Should -Contain 'bridge'
        $info.CniPlugins | Should -Contain 'portmap'
    }

    It 'completes network names' {
        $n = New-TestNetwork -Name "compl$suffix"
        $r = TabExpansion2 -inputScript "Get-ContainerNetwork compl$suffix" -cursorColumn ("Get-ContainerNetwork compl$suffix".Length)
        $r.CompletionMatches.CompletionText | Should -Contain "compl$suffix"
        $r = TabExpansion2 -inputScript 'New-Container -Network pri' -cursorColumn 'New-Container -Network pri'.Length
        $r.CompletionMatches.CompletionText | Should -Contain 'private'
    }
}

Describe 'Default network' -Skip:(-not $isRoot) {
    AfterEach {
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        Get-ContainerNetwork -ErrorAction SilentlyContinue | Remove-ContainerNetwork -Force -Confirm:$false -ErrorAction SilentlyContinue
        Set-TestDefaultNetwork private
    }

    It 'makes pscontainers on first use when nothing is configured, and Get-ContainerSystemInfo shows it' {
        Remove-Item (Join-Path $env:PSCONTAINERS_CONFIG_DIR 'containers.conf')
        (Get-ContainerSystemInfo).DefaultNetwork | Should -Be 'pscontainers'
        (Get-ContainerSystemInfo).DefaultNetworkFile | Should -BeNullOrEmpty
        Get-ContainerNetwork pscontainers -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        (New-Container -Image localhost/busybox -Command true).Network | Should -Be 'pscontainers'
        $n = Get-ContainerNetwork pscontainers
        $n.File | Should -Be (Join-Path $env:PSCONTAINERS_CNI_CONFIG_DIR 'pscontainers.conflist')
        $n.Plugins | Should -Be @('bridge', 'portmap', 'firewall', 'tuning')
        $n.Subnets | Should -Match '^10\.9\d\.0\.0/16$'
        $n.Bridge | Should -BeLike 'pscontainers*'
        (Get-ContainerSystemInfo).DefaultNetworkFile | Should -Be $n.File
        (New-Container -Image localhost/busybox -Command true).Network | Should -Be 'pscontainers'
        @(Get-ChildItem $env:PSCONTAINERS_CNI_CONFIG_DIR -Filter *.conflist).Count | Should -Be 1
        (New-Container -Image localhost/busybox -Command true -Network private).Network | Should -Be 'private'
    }

    It 'runs containers on the configured default network, made once and reused, reachable by name, and leaves nothing after removal' {
        Set-TestDefaultNetwork "dflt$suffix" "10.$o2.$($o3 + 5).0/24"
        $c = foreach ($x in 'a', 'b') {
            New-Container -Image localhost/busybox -Name "d$x$suffix" -Command busybox, httpd, -f, -p, 80, -h, /etc -ErrorAction Stop | Start-Container -PassThru -ErrorAction Stop
        }
        $a = Get-Container $c[0].Name; $b = Get-Container $c[1].Name
        $n = Get-ContainerNetwork "dflt$suffix"
        $n.Subnets | Should -Be @("10.$o2.$($o3 + 5).0/24")
        $n.Containers | Sort-Object | Should -Be @($a.Name, $b.Name)
        @(Get-ChildItem $env:PSCONTAINERS_CNI_CONFIG_DIR -Filter *.conflist).Count | Should -Be 1
        $a.IPAddresses[0] | Should -BeLike "10.$o2.$($o3 + 5).*"
        Invoke-In $b.Name wget, -qO-, "http://$($a.Name)/hostname" | Should -Be $a.Hostname
        Get-Over "http://$($b.IPAddresses[0])/hostname" | Should -Be $b.Hostname
        $a, $b | Remove-Container -Force -Confirm:$false
        Get-Leaks $n @($a.Id, $b.Id) | Should -BeNullOrEmpty
        Remove-ContainerNetwork $n.Name -Confirm:$false
        Test-Path "/sys/class/net/$($n.Bridge)" | Should -BeFalse
        Test-Path "/var/lib/cni/networks/$($n.Name)" | Should -BeFalse
    }

    It 'makes one network when several sessions use the default for the first time at once' {
        Set-TestDefaultNetwork "conc$suffix" "10.$o2.$($o3 + 6).0/24"
        $go = Join-Path $root "go$suffix"
        $cmd = "Import-Module '$(Get-TestModulePath)'; while (-not (Test-Path '$go')) { Start-Sleep -Milliseconds 10 }; (New-Container -Image localhost/busybox -Command true -ErrorAction Stop).Network"
        $procs = foreach ($i in 1..3) {
            Start-Process (Get-TestPwsh) -ArgumentList '-NoProfile', '-Command', $cmd -PassThru -RedirectStandardOutput (Join-Path $root "conc$i.out") -RedirectStandardError (Join-Path $root "conc$i.err")
        }
        Start-Sleep -Seconds 2
        Set-Content $go ''
        $procs | Wait-Process -Timeout 120
        foreach ($i in 1..3) { (Get-Content (Join-Path $root "conc$i.out")) + (Get-Content (Join-Path $root "conc$i.err")) | Should -Be "conc$suffix" }
        @(Get-ChildItem $env:PSCONTAINERS_CNI_CONFIG_DIR -Filter *.conflist).Name | Should -Be @("conc$suffix.conflist")
        @(Get-Container | Where-Object Network -EQ "conc$suffix").Count | Should -Be 3
    }
}

Describe 'podman on the same CNI network' -Skip:(-not $isRoot -or -not (Get-Command podman -ErrorAction SilentlyContinue)) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/Podman.psm1') -Force
        $script:podman = Initialize-TestPodman -Root $root
        (Get-Content $env:CONTAINERS_CONF -Raw) -replace '(?m)^network_config_dir = .*$', "network_backend = `"cni`"`nnetwork_config_dir = `"$env:PSCONTAINERS_CNI_CONFIG_DIR`"`ncni_plugin_dirs = [`"/usr/lib/cni`"]" | Set-Content $env:CONTAINERS_CONF
        $script:podmanImage = Import-PodmanImage -Podman $podman -Image localhost/busybox
    }
    AfterAll {
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        & podman rm -a -f -t 0 2>$null | Out-Null
        # Before podman's reset, which deletes the network files of its config dir (ours) and leaves host-local's dirs.
        Get-ContainerNetwork -ErrorAction SilentlyContinue | Remove-ContainerNetwork -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-TestPodman $podman
    }

    It 'reaches a podman container on a network made here, and podman reaches ours' {
        # Also proves podman reads the list New-ContainerNetwork writes (network ls, run --network).
        $n = New-TestNetwork -Name "pm$suffix"
        (Invoke-Podman network ls --format '{{.Name}}') | Should -Contain "pm$suffix"
        $ours = Start-Web "ours$suffix" $n.Name
        $podmanId = (Invoke-Podman run -d --network "pm$suffix" --name "theirs$suffix" $podmanImage busybox httpd -f -p 80 -h /etc | Select-Object -Last 1).Trim()
        $theirIp = (Invoke-Podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' $podmanId | Select-Object -Last 1).Trim()
        $theirIp | Should -BeLike "10.$o2.$o3.*"
        $theirIp | Should -Not -Be $ours.IPAddresses[0] -Because 'both tools lease from the same host-local state'
        Invoke-In $ours.Name wget, -qO-, "http://$theirIp/hostname" | Should -Be ($podmanId.Substring(0, 12))
        (Invoke-Podman exec $podmanId busybox wget -qO- "http://$($ours.IPAddresses[0])/hostname") | Should -Be $ours.Hostname
        Invoke-Podman rm -f -t 0 $podmanId | Out-Null
    }

    It 'joins the default network the module made, by name' {
        # Both tools read CONTAINERS_CONF: the module makes the default network on first use, podman finds it there.
        (Get-Content $env:CONTAINERS_CONF -Raw) -replace 'default_network = "private"', "default_network = `"pmd$suffix`"`ndefault_subnet = `"10.$o2.$($o3 + 7).0/24`"" | Set-Content $env:CONTAINERS_CONF
        try {
            $c = New-Container -Image localhost/busybox -Name "pmd$suffix" -Command busybox, httpd, -f, -p, 80, -h, /etc -ErrorAction Stop | Start-Container -PassThru -ErrorAction Stop
            $ours = Get-Container $c.Name
            $ours.Network | Should -Be "pmd$suffix"
            $out = Invoke-Podman run --rm --network "pmd$suffix" $podmanImage busybox wget -qO- "http://$($ours.IPAddresses[0])/hostname"
            $out | Select-Object -Last 1 | Should -Be $ours.Hostname
        }
        finally {
            (Get-Content $env:CONTAINERS_CONF -Raw) -replace '(?s)default_network = "pmd[^"]*"\ndefault_subnet = "[^"]*"', 'default_network = "private"' | Set-Content $env:CONTAINERS_CONF
        }
    }
}
