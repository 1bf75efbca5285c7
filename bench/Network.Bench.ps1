<#
.SYNOPSIS
    Network benchmark, side by side in one run: create + start + wait + remove of busybox /bin/true on a CNI bridge
    network made by the module, against the same with -Network private, and against
    `podman run --rm --network <same network>` (podman 4.3, CNI backend, same image).
.DESCRIPTION
    All three are timed by Measure-Command from this warm session (podman as a child process), interleaved in
    -Rounds rounds so a loaded host is fair to each. The table gives median, mean, min and max; the ratios are of
    medians. Targets of issue 12: bridge / private <= 2 and podman / bridge >= 3.

    A fourth contender is the floor: the network's own CNI plugins, ADD through the chain then DEL in reverse, run
    straight from this session on a network namespace the bench makes. Every bridge start pays it (Debian's plugins
    1.1.1 run iptables about 36 times per container), so the bench prints the best ratios any runtime could reach with
    these plugins and the module's own cost above them.

    Then the throughput of a published port, side by side: an iperf3 server in a busybox container on the same network
    (the host's /usr/bin/iperf3 and its libraries bind-mounted read-only), published on 127.0.0.1, and iperf3 -c on the
    host for -Seconds, the module's container and podman's (-p) alternating for -ThroughputRounds rounds; the ratio is of
    median Gbit/s (target of issue 12: ours within 10 % of podman's, i.e. >= 0.9).
.EXAMPLE
    dotnet pwsh bench/Network.Bench.ps1 -Runs 30
.NOTES
    Root only. The network lives in the bench's own CNI directory on a random 10.x subnet and is removed at the end;
    podman is configured only by files in the bench's temp dir (tests/Pester/Fixtures/Podman.psm1).
#>
param(
    [int] $Runs = 20,
    [int] $Rounds = 4,
    [int] $ThroughputRounds = 3,
    [int] $Seconds = 3,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/Containers/Containers.psd1'),
    [switch] $SkipPodman,
    [switch] $PassThru
)
$ErrorActionPreference = 'Stop'
if ((id -u) -ne '0') { throw 'run as root' }
$ModulePath = (Resolve-Path $ModulePath).Path
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1')
$root = New-TestRoot -Name netbench
$env:PSCONTAINERS_CNI_CONFIG_DIR = Join-Path $root 'cni'
$podman = $null
$floorNs = $null
$network = 'bench' + [guid]::NewGuid().ToString('N').Substring(0, 6)
try {
    Import-Module $ModulePath
    Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/BusyboxImage.psm1')
    $null = Import-BusyboxImage
    $null = New-ContainerNetwork -Name $network -Subnet "10.$(Get-Random -Minimum 200 -Maximum 250).$(Get-Random -Maximum 250).0/24"
    $perRound = [math]::Max(1, [int][math]::Ceiling($Runs / $Rounds))
    $samples = [ordered]@{ 'module -Network bridge' = [System.Collections.Generic.List[double]]::new(); 'module -Network private' = [System.Collections.Generic.List[double]]::new() }

    $podmanImage = $null
    if (-not $SkipPodman -and (Get-Command podman -ErrorAction SilentlyContinue)) {
        Import-Module (Join-Path $PSScriptRoot '../tests/Pester/Fixtures/Podman.psm1')
        $podman = Initialize-TestPodman -Root $root
        (Get-Content $env:CONTAINERS_CONF -Raw) -replace '(?m)^network_config_dir = .*$', "network_backend = `"cni`"`nnetwork_config_dir = `"$env:PSCONTAINERS_CNI_CONFIG_DIR`"`ncni_plugin_dirs = [`"/usr/lib/cni`"]" | Set-Content $env:CONTAINERS_CONF
        $podmanImage = Import-PodmanImage -Podman $podman -Image busybox
        $samples['podman run --rm --network (same)'] = [System.Collections.Generic.List[double]]::new()
    }

    function Measure-Module([string] $Net) {
        (Measure-Command { New-Container -Image busybox -Network $Net -Command /bin/true | Start-Container -Wait | Remove-Container }).TotalMilliseconds
    }
    # The floor: the network's own plugins (bridge + host-local, portmap, firewall, tuning), ADD then DEL in reverse,
    # run straight from this session on a network namespace made once. No runtime can start a bridge container in less
    # than this, so it bounds both of issue 12's ratios whatever the runtime does.
    $conflist = Get-Content (Get-ContainerNetwork -Name $network).File -Raw | ConvertFrom-Json
    $pluginJson = @($conflist.plugins | ForEach-Object { $_ | ConvertTo-Json -Depth 20 -Compress })
    $floorNs = 'pscbench' + [guid]::NewGuid().ToString('N').Substring(0, 6)
    function Invoke-Plugin([string] $Command, [string] $Type, [string] $Plugin, [string] $PrevResult) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new("/usr/lib/cni/$Type")
        $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true; $psi.UseShellExecute = $false
        foreach ($kv in @{ CNI_COMMAND = $Command; CNI_CONTAINERID = $floorNs; CNI_NETNS = "/run/netns/$floorNs"; CNI_IFNAME = 'eth0'; CNI_PATH = '/usr/lib/cni' }.GetEnumerator()) {
            $psi.Environment[$kv.Key] = $kv.Value
        }
        # Spliced as text (the plugin's JSON was serialized once) so the driver adds next to nothing to the floor.
        $head = "{`"cniVersion`":`"$($conflist.cniVersion)`",`"name`":`"$($conflist.name)`","
        if ($PrevResult) { $head += "`"prevResult`":$PrevResult," }
        $p = [System.Diagnostics.Process]::Start($psi)
        $p.StandardInput.Write($head + $Plugin.Substring(1)); $p.StandardInput.Close()
        $out = $p.StandardOutput.ReadToEnd(); $p.WaitForExit()
        if ($p.ExitCode -ne 0) { throw "CNI $Command $($Plugin.type) failed: $out" }
        if ($out) { $out } else { $PrevResult }
    }
    function Measure-Plugin {
        (Measure-Command {
            $result = $null
            foreach ($i in 0..($pluginJson.Count - 1)) { $result = Invoke-Plugin ADD $conflist.plugins[$i].type $pluginJson[$i] $result }
            foreach ($i in ($pluginJson.Count - 1)..0) { $null = Invoke-Plugin DEL $conflist.plugins[$i].type $pluginJson[$i] $result }
        }).TotalMilliseconds
    }
    & ip netns add $floorNs
    $samples['CNI plugins alone (ADD + DEL)'] = [System.Collections.Generic.List[double]]::new()

    # Warm-up: JIT, the image's first use, podman's first run on the network.
    $null = Measure-Module $network; $null = Measure-Module private
    $null = Measure-Plugin
    if ($podmanImage) { & podman run --rm --network $network $podmanImage /bin/true }
    foreach ($round in 1..$Rounds) {
        foreach ($i in 1..$perRound) { $samples['module -Network bridge'].Add((Measure-Module $network)) }
        foreach ($i in 1..$perRound) { $samples['module -Network private'].Add((Measure-Module private)) }
        foreach ($i in 1..$perRound) { $samples['CNI plugins alone (ADD + DEL)'].Add((Measure-Plugin)) }
        if ($podmanImage) {
            foreach ($i in 1..$perRound) {
                $ms = (Measure-Command { & podman run --rm --network $network $podmanImage /bin/true }).TotalMilliseconds
                if ($LASTEXITCODE -ne 0) { throw "podman run failed ($LASTEXITCODE)" }
                $samples['podman run --rm --network (same)'].Add($ms)
            }
        }
    }

    function Get-Median([double[]] $Values) {
        $s = $Values | Sort-Object; $n = $s.Count
        if ($n % 2) { $s[[int][math]::Floor($n / 2)] } else { ($s[$n / 2 - 1] + $s[$n / 2]) / 2 }
    }
    $table = foreach ($name in $samples.Keys) {
        $v = $samples[$name]
        [pscustomobject]@{
            Contender = $name; Runs = $v.Count; MedianMs = [math]::Round((Get-Median $v), 1)
            MeanMs = [math]::Round(($v | Measure-Object -Average).Average, 1)
            MinMs = [math]::Round(($v | Measure-Object -Minimum).Minimum, 1); MaxMs = [math]::Round(($v | Measure-Object -Maximum).Maximum, 1)
        }
    }
    $table | Format-Table -AutoSize | Out-Host
    $bridge = ($table | Where-Object Contender -EQ 'module -Network bridge').MedianMs
    $private = ($table | Where-Object Contender -EQ 'module -Network private').MedianMs
    $ratios = [ordered]@{ 'bridge / private (target <= 2)' = [math]::Round($bridge / $private, 2) }
    if ($podmanImage) { $ratios['podman / bridge (target >= 3)'] = [math]::Round(($table | Where-Object Contender -Like 'podman*').MedianMs / $bridge, 2) }
    $floor = ($table | Where-Object Contender -Like 'CNI plugins alone*').MedianMs
    $ratios['bridge / private at best: (plugins alone + private) / private'] = [math]::Round(($floor + $private) / $private, 2)
    if ($podmanImage) { $ratios['podman / bridge at best: podman / (plugins alone + private)'] = [math]::Round(($table | Where-Object Contender -Like 'podman*').MedianMs / ($floor + $private), 2) }
    $ratios['module cost above the plugins, ms: bridge - plugins alone - private'] = [math]::Round($bridge - $floor - $private, 1)

    # Published-port throughput: the server is the host's iperf3 (busybox has none), the client iperf3 on the host.
    $iperfMounts = '/usr/bin/iperf3:/usr/bin/iperf3:ro', '/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro', '/usr/lib64:/lib64:ro'
    function Measure-Throughput([int] $Port) {
        # Gbit/s received by the server; retried while the server is not listening yet (podman holds the host port open
        # itself, so an early client can connect and receive nothing).
        for ($i = 0; $i -lt 100; $i++) {
            $out = & iperf3 -c 127.0.0.1 -p $Port -t $Seconds -J 2>$null
            $bits = if ($LASTEXITCODE -eq 0) { ($out | ConvertFrom-Json).end.sum_received.bits_per_second }
            if ($bits -gt 0) { return [math]::Round($bits / 1e9, 2) }
            Start-Sleep -Milliseconds 100
        }
        throw "iperf3 to 127.0.0.1:$Port failed ($LASTEXITCODE)"
    }
    $gbits = [ordered]@{ 'module -Publish' = [System.Collections.Generic.List[double]]::new() }
    if ($podmanImage) { $gbits['podman -p'] = [System.Collections.Generic.List[double]]::new() }
    foreach ($round in 1..$ThroughputRounds) {
        $port = Get-FreePort
        $c = New-Container -Image busybox -Network $network -Publish "127.0.0.1:${port}:5201" -Volume $iperfMounts -Command /usr/bin/iperf3, -s, -p, 5201 | Start-Container -PassThru
        try { $gbits['module -Publish'].Add((Measure-Throughput $port)) } finally { $c | Remove-Container -Force -Confirm:$false }
        if ($podmanImage) {
            $port = Get-FreePort
            $id = (& podman run -d --network $network -p "127.0.0.1:${port}:5201" @($iperfMounts | ForEach-Object { '-v', $_ }) $podmanImage /usr/bin/iperf3 -s -p 5201 | Select-Object -Last 1)
            if ($LASTEXITCODE -ne 0) { throw "podman run failed ($LASTEXITCODE)" }
            try { $gbits['podman -p'].Add((Measure-Throughput $port)) } finally { & podman rm -f -t 0 $id | Out-Null }
        }
    }
    $throughput = foreach ($name in $gbits.Keys) {
        $v = $gbits[$name]
        [pscustomobject]@{ Contender = $name; Runs = $v.Count; MedianGbits = Get-Median $v; MinGbits = ($v | Measure-Object -Minimum).Minimum; MaxGbits = ($v | Measure-Object -Maximum).Maximum }
    }
    $throughput | Format-Table -AutoSize | Out-Host
    if ($podmanImage) { $ratios['published port, module / podman (target >= 0.9)'] = [math]::Round($throughput[0].MedianGbits / $throughput[1].MedianGbits, 2) }
    $ratios.GetEnumerator() | ForEach-Object { [pscustomobject]@{ Ratio = $_.Key; Value = $_.Value } } | Format-Table -AutoSize | Out-Host
    if ($PassThru) { [pscustomobject]@{ Table = $table; Throughput = $throughput; Ratios = $ratios } }
}
finally {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    # Before podman's reset, which deletes the network files of its config dir (ours) and leaves host-local's dirs.
    Get-ContainerNetwork -ErrorAction SilentlyContinue | Remove-ContainerNetwork -Force -Confirm:$false -ErrorAction SilentlyContinue
    if ($floorNs) { & ip netns del $floorNs 2>$null }
    if ($podman) { Remove-TestPodman $podman }
    Remove-TestRoot $root
    Remove-Item env:PSCONTAINERS_CNI_CONFIG_DIR -ErrorAction SilentlyContinue
}
