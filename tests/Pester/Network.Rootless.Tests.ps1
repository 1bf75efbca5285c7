# Rootless networking for real: an unprivileged user made by the test runs containers whose network namespace is served
# by pasta or slirp4netns (started and stopped by the container's monitor). Only loopback traffic: a server the test runs
# on the host's 127.0.0.1, and published ports the test reaches with curl on 127.0.0.1.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }

Describe 'Rootless networking (pasta, slirp4netns)' -Skip:(-not $isRoot) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $script:pwshDll = Get-TestPwshForUsers
        $script:modulePath = Get-TestModulePathForUsers

        # A user namespace may open /dev/net/tun only when the node lets the user (udev makes it 0666 on Debian;
        # this host has no udev). Restored afterwards.
        $script:tunMode = (& stat -c %a /dev/net/tun)
        if ($tunMode -ne '666') { & chmod 0666 /dev/net/tun }

        Import-Module (Join-Path $PSScriptRoot 'Fixtures/TestUsers.psm1') -Force
        $script:fixtureUser = New-FixtureUser
        $script:user = $fixtureUser.Name
        $script:userHome = $fixtureUser.Home

        # A server on the host's loopback only, with a canary the containers must fetch.
        $script:www = Join-Path $userHome 'www'
        New-Item -ItemType Directory $www | Out-Null
        $script:canary = 'canary-' + [guid]::NewGuid().ToString('N')
        Set-Content (Join-Path $www 'canary.txt') $canary
        $script:hostPort = Get-FreePort
        $script:server = Start-Process /bin/busybox -ArgumentList 'httpd', '-f', '-p', "127.0.0.1:$hostPort", '-h', $www -PassThru

        function script:Invoke-AsUser([string] $Script, [hashtable] $Environment = @{}) {
            Invoke-AsFixtureUser $fixtureUser $Script -ModulePath $modulePath -PwshDll $pwshDll -Environment $Environment
        }
        function script:Get-State([string] $Id) {
            Get-Content (Join-Path $userHome "pscontainers/data/containers/$Id/state.json") -Raw | ConvertFrom-Json
        }
        function script:Get-Fetch([string] $Address) {
            # sh that prints the canary's line fetched from $Address:$hostPort, or "refused" (busybox-static's wget crashes here;
            # nc does not end when the server closes through pasta, so timeout ends it once the answer is in).
            "{ printf 'GET /canary.txt HTTP/1.0\r\n\r\n' | busybox timeout 5 busybox nc $Address $hostPort | busybox tail -n 1; } 2>/dev/null | busybox grep . || echo refused"
        }
        function script:Get-Url([string] $Url) {
            # curl from the host, retried while the container's server comes up.
            $body = $null
            $null = Wait-TestCondition { $script:body = & curl -s --max-time 2 $Url; $LASTEXITCODE -eq 0 -and $script:body } 15
            return $script:body
        }
    }
    AfterAll {
        if ($server) { Stop-Process -Id $server.Id -Force -ErrorAction SilentlyContinue }
        if ($fixtureUser) {
            # A test that failed half-way left its containers: the module removes them (and their helpers) as the user.
            try { $null = Invoke-AsUser 'Get-Container | Remove-Container -Force -Confirm:$false; "{}"' } catch { Write-Warning "$_" }
            Remove-FixtureUser $fixtureUser
        }
        if ($tunMode -and $tunMode -ne '666') { & chmod $tunMode /dev/net/tun }
    }

    It 'gives a rootless container pasta by default: outbound to a host loopback server through the gateway (--map-gw), a published port reached by curl, and the helper ends with the container' {
        $published = Get-FreePort
        # The container fetches the canary from the host's loopback through pasta's gateway address, then serves a token.
        $probe = "gw=`$(busybox ip route | busybox awk '/default/ {print `$3}'); $(Get-Fetch '$gw'); " +
            'mkdir /www && echo served-by-container > /www/index.html && exec busybox httpd -f -p 8080 -h /www'
        $r = Invoke-AsUser @"
`$default = New-Container -Image busybox -Command true
`$c = New-Container -Image busybox -Network 'pasta:--map-gw' -Publish "127.0.0.1:${published}:8080" -Command sh,-c,'$($probe -replace "'", "''")' | Start-Container -PassThru
[pscustomobject]@{ Default = `$default.Network; Id = `$c.Id; Name = `$c.Name; Network = `$c.Network; Ports = @(`$c.Ports) } | ConvertTo-Json -Compress
"@
        $r.Default | Should -Be 'pasta'
        $r.Network | Should -Be 'pasta:--map-gw'
        $r.Ports | Should -Be @("127.0.0.1:$published->8080/tcp")
        Get-Url "http://127.0.0.1:$published/index.html" | Should -Be 'served-by-container'
        $state = Get-State $r.Id
        $helper = $state.networkHelperPid
        $helper | Should -BeGreaterThan 0
        (Get-Content "/proc/$helper/cmdline" -Raw) -split "`0" | Should -Contain '--config-net'
        (Get-Content "/proc/$helper/status" | Where-Object { $_ -like 'Uid:*' }) -split '\s+' | Select-Object -Index 1 | Should -Be (& id -u $user)

        $out = Invoke-AsUser @"
`$log = @((Get-ContainerLog $($r.Name)).Text)
Remove-Container $($r.Name) -Force -Confirm:`$false
Get-Container | Remove-Container -Force -Confirm:`$false
[pscustomobject]@{ Log = `$log } | ConvertTo-Json -Compress
"@
        $out.Log | Should -Contain $canary
        Wait-TestCondition { -not (Test-ProcessAlive $helper) } 10 | Should -BeTrue -Because 'the monitor stops pasta when the container ends'
        & curl -s --max-time 2 "http://127.0.0.1:$published/" | Out-Null
        $LASTEXITCODE | Should -Not -Be 0 -Because 'nothing listens on the published port any more'
    }

    It 'keeps the host loopback closed by default (pasta -T none, slirp4netns --disable-host-loopback) while the container has its interface' {
        # pasta: its default would forward the host's listening ports to the container's own loopback (-T auto);
        # slirp4netns: 10.0.2.2 is the host's loopback unless disabled. Only loopback traffic is tried.
        $script_ = "busybox ip -o addr show | busybox grep -v ' lo ' | busybox wc -l; $(Get-Fetch 127.0.0.1)"
        $slirp = "busybox ip -o addr show | busybox grep -v ' lo ' | busybox wc -l; $(Get-Fetch 127.0.0.1); $(Get-Fetch 10.0.2.2)"
        $r = Invoke-AsUser @"
`$p = Invoke-ContainerImage busybox -Remove -Command sh,-c,'$($script_ -replace "'", "''")'
`$s = Invoke-ContainerImage busybox -Remove -Network slirp4netns -Command sh,-c,'$($slirp -replace "'", "''")'
[pscustomobject]@{ Pasta = @(`$p); Slirp = @(`$s) } | ConvertTo-Json -Compress
"@
        # An interface besides lo (the tap), but no way to the host's 127.0.0.1.
        [int]$r.Pasta[0] | Should -BeGreaterThan 0
        $r.Pasta[-1] | Should -Be 'refused'
        [int]$r.Slirp[0] | Should -BeGreaterThan 0
        $r.Slirp[1] | Should -Be 'refused'
        $r.Slirp[2] | Should -Be 'refused'
    }

    It 'serves slirp4netns with allow_host_loopback: the host loopback server through 10.0.2.2 and a published port through its API' {
        $published = Get-FreePort
        $probe = "$(Get-Fetch 10.0.2.2); mkdir /www && echo slirp-served > /www/index.html && exec busybox httpd -f -p 8080 -h /www"
        $r = Invoke-AsUser @"
`$c = New-Container -Image busybox -Network 'slirp4netns:allow_host_loopback=true' -Publish "${published}:8080" -Command sh,-c,'$($probe -replace "'", "''")' | Start-Container -PassThru
[pscustomobject]@{ Id = `$c.Id; Name = `$c.Name; Ports = @(`$c.Ports) } | ConvertTo-Json -Compress
"@
        $r.Ports | Should -Be @("0.0.0.0:$published->8080/tcp")
        Get-Url "http://127.0.0.1:$published/index.html" | Should -Be 'slirp-served'
        $helper = (Get-State $r.Id).networkHelperPid
        (Get-Content "/proc/$helper/comm" -Raw).Trim() | Should -Be 'slirp4netns'
        $out = Invoke-AsUser @"
`$log = @((Get-ContainerLog $($r.Name)).Text)
Stop-Container $($r.Name) -Timeout 0
`$socket = @(Get-ChildItem "`$HOME/pscontainers/state/net" -Filter '*.sock' -ErrorAction SilentlyContinue).Count
Remove-Container $($r.Name)
[pscustomobject]@{ Log = `$log; Sockets = `$socket } | ConvertTo-Json -Compress
"@
        $out.Log | Should -Contain $canary
        $out.Sockets | Should -Be 0
        Wait-TestCondition { -not (Test-ProcessAlive $helper) } 10 | Should -BeTrue
    }

    It 'ends the helper of a container whose monitor was SIGKILLed once the container is gone (<Network>)' -TestCases @(
        @{ Network = 'pasta' }
        @{ Network = 'slirp4netns' }
    ) {
        $published = Get-FreePort
        $r = Invoke-AsUser @"
`$c = New-Container -Image busybox -Network $Network -Publish "127.0.0.1:${published}:8080" -Command sleep,300 | Start-Container -PassThru
[pscustomobject]@{ Id = `$c.Id; Name = `$c.Name } | ConvertTo-Json -Compress
"@
        $state = Get-State $r.Id
        $helper = $state.networkHelperPid
        Test-ProcessAlive $helper | Should -BeTrue
        & kill -KILL $state.monitorPid
        Start-Sleep -Milliseconds 300
        Test-ProcessAlive $helper | Should -BeTrue -Because 'the container still runs and keeps its network'
        & kill -KILL $state.pid
        $null = Wait-TestCondition { -not (Test-ProcessAlive $state.pid) } 10
        $out = Invoke-AsUser @"
`$c = Get-Container $($r.Name)
`$s = `$c.State.ToString()
Remove-Container $($r.Name)
[pscustomobject]@{ State = `$s } | ConvertTo-Json -Compress
"@
        $out.State | Should -Be 'Exited'
        Wait-TestCondition { -not (Test-ProcessAlive $helper) } 10 | Should -BeTrue -Because 'Get-Container ended the helper the killed monitor left'
        & curl -s --max-time 2 "http://127.0.0.1:$published/" | Out-Null
        $LASTEXITCODE | Should -Be 7 -Because 'the published port is closed (connection refused)'
    }

    It 'refuses bad input with typed errors and leaves nothing running' {
        $busy = Get-FreePort
        $r = Invoke-AsUser @"
function Id([scriptblock] `$s) { try { & `$s; 'none' } catch { `$_.FullyQualifiedErrorId.Split(',')[0] + '|' + `$_.Exception.Message + '|' + `$_.ErrorDetails.RecommendedAction } }
`$first = New-Container -Image busybox -Network pasta -Publish "127.0.0.1:${busy}:80" -Command sleep,300 | Start-Container -PassThru
`$second = New-Container -Image busybox -Network pasta -Publish "127.0.0.1:${busy}:80" -Command sleep,300
`$inUse = Id { Start-Container `$second.Name -ErrorAction Stop }
`$secondState = (Get-Container `$second.Name).State.ToString()
`$none = Id { New-Container -Image busybox -Network none -Publish 8080:80 -Command true -ErrorAction Stop }
`$option = Id { New-Container -Image busybox -Network 'slirp4netns:mtu=9' -Command true -ErrorAction Stop }
`$reserved = Id { New-Container -Image busybox -Network 'pasta:-t,22' -Command true -ErrorAction Stop }
`$env:PATH = '/nonexistent'
`$missing = Id { New-Container -Image busybox -Network slirp4netns -Command true -ErrorAction Stop }
`$env:PATH = '/usr/bin:/bin'
Remove-Container `$first.Name, `$second.Name -Force -Confirm:`$false
`$helpers = @(& pgrep -u (id -u) -r R,S,D,T -f 'pasta|slirp4netns').Count
[pscustomobject]@{ First = `$first.Name; InUse = `$inUse; SecondState = `$secondState; None = `$none; Option = `$option; Reserved = `$reserved; Missing = `$missing; Left = @(Get-Container).Count; Helpers = `$helpers } | ConvertTo-Json -Compress
"@
        $r.InUse | Should -BeLike "HostPortInUse|*$busy/tcp*by container $($r.First)*"
        $r.SecondState | Should -Be 'Created'
        $r.None | Should -BeLike 'PublishNeedsNetwork|*'
        $r.Option | Should -BeLike 'InvalidNetworkOption|*'
        $r.Reserved | Should -BeLike 'InvalidNetworkOption|*'
        $r.Missing | Should -BeLike 'NetworkHelperNotFound|*slirp4netns*apt-get install slirp4netns*'
        $r.Left | Should -Be 0
        # The first container's monitor ends its pasta as the container exits; Remove-Container waits for that.
        $r.Helpers | Should -Be 0 -Because 'no helper outlives Remove-Container'
        # Live ones only: a helper the SIGKILL tests above ended is reparented to the host's init and may still wait
        # there as a zombie for a moment (not ours to reap).
        @(& pgrep -u $user -r R,S,D,T -f 'pasta|slirp4netns') | Should -BeNullOrEmpty
    }

    It 'honours containers.conf default_rootless_network_cmd and shows both helpers in Get-ContainerSystemInfo' {
        $r = Invoke-AsUser @"
Set-Content "`$root/config/containers.conf" "[network]``ndefault_rootless_network_cmd = 'slirp4netns'"
`$c = New-Container -Image busybox -Command true
`$i = Get-ContainerSystemInfo
Remove-Container `$c.Name
[pscustomobject]@{ Network = `$c.Network; Pasta = `$i.PastaPath; PastaVersion = `$i.PastaVersion; Slirp = `$i.Slirp4netnsPath; SlirpVersion = `$i.Slirp4netnsVersion; Default = `$i.DefaultRootlessNetwork } | ConvertTo-Json -Compress
"@
        $r.Network | Should -Be 'slirp4netns'
        $r.Default | Should -Be 'slirp4netns'
        $r.Pasta | Should -Be '/usr/bin/pasta'
        $r.PastaVersion | Should -Be (& dpkg-query -W -f '${Version}' passt)
        $r.Slirp | Should -Be '/usr/bin/slirp4netns'
        $r.SlirpVersion | Should -Be ((& slirp4netns --version)[0] -split ' ')[-1]
    }
}
