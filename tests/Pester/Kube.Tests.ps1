# Kubernetes YAML out and in, with podman 4.3 as the peer (configured only in this test's temp dir, on a CNI network of
# this test's own CNI directory): the hand-written pod of Fixtures/kube-shop.yaml played here, exported and played by
# podman; podman's own kube generate played here; a lone container written field by field as podman writes an
# equivalent one; -Down leaving nothing behind; bad input leaving nothing half made. Every check is about what this
# file made.
BeforeDiscovery {
    $isRoot = (id -u) -eq '0'
    $hasPodman = [bool](Get-Command podman -ErrorAction SilentlyContinue) -and [bool](Get-Command catatonit -ErrorAction SilentlyContinue)
}
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name kube
    $env:PSCONTAINERS_CNI_CONFIG_DIR = Join-Path $root 'cni'
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    # The YAML parser the module ships, to compare documents as data rather than text.
    Add-Type -Path (Join-Path (Split-Path (Get-TestModulePath)) 'YamlDotNet.dll')
    $script:suffix = [guid]::NewGuid().ToString('N').Substring(0, 6)
    $script:shopFixture = Join-Path $PSScriptRoot 'Fixtures/kube-shop.yaml'

    function script:Get-Over([string] $Url) {
        # curl from the host; the server may need a moment to listen.
        for ($i = 0; $i -lt 50; $i++) {
            $out = & curl -s -f -m 2 $Url
            if ($LASTEXITCODE -eq 0) { return $out }
            Start-Sleep -Milliseconds 100
        }
        throw "curl $Url failed ($LASTEXITCODE)"
    }
    function script:New-ShopYaml([int] $Port, [string] $Name = 'shop') {
        # The fixture with a free host port, and a pod and claim name of this run.
        $path = Join-Path $root "$Name-$Port.yaml"
        (Get-Content -Raw $shopFixture).Replace('18080', "$Port").Replace('name: shop', "name: $Name").Replace('shop-www', "$Name-www") |
            Set-Content -NoNewline $path
        return $path
    }
    function script:ConvertFrom-TestYaml([string] $Text) {
        # Every document as nested hashtables and arrays (scalars stay strings).
        function Convert($node) {
            if ($node -is [YamlDotNet.RepresentationModel.YamlMappingNode]) {
                $h = [ordered]@{}
                foreach ($p in $node.Children.GetEnumerator()) { $h[$p.Key.Value] = Convert $p.Value }
                return $h
            }
            if ($node -is [YamlDotNet.RepresentationModel.YamlSequenceNode]) { return , @($node.Children | ForEach-Object { Convert $_ }) }
            return $node.Value
        }
        $stream = [YamlDotNet.RepresentationModel.YamlStream]::new()
        $stream.Load([System.IO.StringReader]::new($Text))
        foreach ($d in $stream.Documents) { if ($d.RootNode -is [YamlDotNet.RepresentationModel.YamlMappingNode]) { Convert $d.RootNode } }
    }
    function script:ConvertTo-Canonical($Value) {
        # Sorted JSON: two values compare equal when they hold the same data (an empty mapping is no mapping).
        function Sort-Value($v) {
            if ($v -is [System.Collections.IDictionary] -and $v.Count -eq 0) { return $null }
            if ($v -is [System.Collections.IDictionary]) {
                $o = [ordered]@{}
                foreach ($k in @($v.Keys | Sort-Object)) { $o[$k] = Sort-Value $v[$k] }
                return $o
            }
            if ($v -is [array]) { return , @($v | ForEach-Object { Sort-Value $_ }) }
            return $v
        }
        return (Sort-Value $Value | ConvertTo-Json -Depth 20 -Compress)
    }
    function script:Get-PodCgroupDirs([string] $PodId) {
        foreach ($controller in 'memory', 'cpu', 'pids') { Join-Path "/sys/fs/cgroup/$controller/pscontainers" "pod-$PodId" }
    }
}

AfterAll {
    Get-ContainerPod -ErrorAction SilentlyContinue | Remove-ContainerPod -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-ContainerVolume -ErrorAction SilentlyContinue | Remove-ContainerVolume -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-ContainerNetwork -ErrorAction SilentlyContinue | Remove-ContainerNetwork -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
    Remove-Item env:PSCONTAINERS_CNI_CONFIG_DIR -ErrorAction SilentlyContinue
}

Describe 'Invoke-ContainerKube' -Skip:(-not $isRoot) {
    BeforeAll {
        $script:net = New-ContainerNetwork -Name "kube$suffix" -Subnet "10.$(Get-Random -Minimum 200 -Maximum 250).$(Get-Random -Minimum 0 -Maximum 250).0/24" -ErrorAction Stop
    }
    AfterEach {
        Get-ContainerPod | Remove-ContainerPod -Force -Confirm:$false -ErrorAction Continue
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction Continue
        Get-ContainerVolume | Remove-ContainerVolume -Force -Confirm:$false -ErrorAction Continue
    }

    It 'plays the hand-written web and sidecar pod: a pod whose containers share localhost, the volume, the published port, the probe and the limits' {
        $port = Get-FreePort
        $yaml = New-ShopYaml $port
        $pod = Invoke-ContainerKube $yaml -Network $net.Name -ErrorAction Stop -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty
        $pod.Name | Should -Be 'shop'
        $pod.Status | Should -Be Running
        $pod.Containers | Should -Be @('shop-web', 'shop-sidecar')
        (Get-ContainerVolume shop-www).Name | Should -Be 'shop-www'
        # The page the sidecar wrote into the shared volume, served on the published port and reached over localhost.
        Get-Over "http://127.0.0.1:$port/index.html" | Should -Be 'hello from the sidecar'
        Get-FromInside shop-sidecar 'http://localhost:8080/index.html' | Should -Be 'hello from the sidecar'
        $web = Get-Container shop-web
        $web.Resources.MemoryBytes | Should -Be 64MB
        $web.Resources.Cpus | Should -Be 0.5
        $web.RestartPolicy | Should -Be Always
        $web.Healthcheck.Command | Should -Be @('busybox', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/index.html')
        $web.Healthcheck.Interval | Should -Be ([timespan]::FromSeconds(5))
        (Test-ContainerHealth shop-web).Status | Should -Be Healthy
        $web.Labels['tier'] | Should -Be 'front'
        Invoke-ContainerCommand -Name shop-sidecar -Command hostname | Should -Be 'shop'
    }

    It '-WhatIf lists what it would create and creates nothing' {
        $yaml = New-ShopYaml (Get-FreePort)
        Invoke-ContainerKube $yaml -Network $net.Name -WhatIf
        Get-ContainerPod | Should -BeNullOrEmpty
        Get-ContainerVolume | Should -BeNullOrEmpty
        Get-Container | Should -BeNullOrEmpty
    }

    It '-Down leaves no container, pod, cgroup or network namespace; the claim''s volume only with -RemoveVolume' {
        $yaml = New-ShopYaml (Get-FreePort)
        $pod = Invoke-ContainerKube $yaml -Network $net.Name -ErrorAction Stop
        $ids = @((Get-Container | Where-Object { $_.Name -like 'shop-*' -or $_.Id -eq $pod.InfraId }).Id)
        $ids.Count | Should -Be 3
        Get-PodCgroupDirs $pod.Id | Where-Object { Test-Path $_ } | Should -Not -BeNullOrEmpty
        Invoke-ContainerKube $yaml -Down -ErrorAction Stop
        Get-ContainerPod | Should -BeNullOrEmpty
        foreach ($id in $ids) {
            Get-Container -Id $id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            Test-Path (Join-Path $env:PSCONTAINERS_STATE_DIR "netns/$id") | Should -BeFalse
        }
        Get-PodCgroupDirs $pod.Id | Where-Object { Test-Path $_ } | Should -BeNullOrEmpty
        (Get-ContainerVolume shop-www).Name | Should -Be 'shop-www' -Because "podman's --down keeps volumes"
        Invoke-ContainerKube $yaml -Down -RemoveVolume -ErrorAction Stop
        Get-ContainerVolume shop-www -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'plays a Deployment of one replica as podman names it, ConfigMaps as files and environment' {
        $maps = Join-Path $root "maps$suffix.yaml"
        Set-Content $maps "apiVersion: v1`nkind: ConfigMap`nmetadata: {name: extra}`ndata: {colour: blue}`n"
        $yaml = Join-Path $root "deploy$suffix.yaml"
        Set-Content $yaml @'
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data:
  mode: fast
  app.conf: |
    port=80
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: c
        image: localhost/busybox:latest
        command: [sleep, "600"]
        envFrom: [{configMapRef: {name: settings}}]
        env:
        - name: COLOUR
          valueFrom: {configMapKeyRef: {name: extra, key: colour}}
        volumeMounts: [{name: conf, mountPath: /etc/app}]
      volumes:
      - name: conf
        configMap: {name: settings}
'@
        $pod = Invoke-ContainerKube $yaml -ConfigMap $maps -ErrorAction Stop
        $pod.Name | Should -Be 'api-pod-0'
        $pod.Containers | Should -Be @('api-pod-0-c')
        Invoke-ContainerCommand -Name api-pod-0-c -Command cat, /etc/app/app.conf | Should -Be 'port=80'
        $env = Invoke-ContainerCommand -Name api-pod-0-c -Command env
        $env | Should -Contain 'mode=fast'
        $env | Should -Contain 'COLOUR=blue'
    }

    It 'reports what it does not play with the YAML path' {
        $yaml = Join-Path $root "warn$suffix.yaml"
        Set-Content $yaml @'
apiVersion: v1
kind: Pod
metadata: {name: warned}
spec:
  containers:
  - name: c
    image: localhost/busybox:latest
    command: [sleep, "600"]
    lifecycle: {preStop: {exec: {command: ["true"]}}}
    readinessProbe: {exec: {command: ["true"]}}
'@
        $null = Invoke-ContainerKube $yaml -ErrorAction Stop -WarningVariable warnings 3>$null
        ($warnings.Message -join "`n") | Should -Match 'spec\.containers\[0\]\.lifecycle'
        ($warnings.Message -join "`n") | Should -Match 'spec\.containers\[0\]\.readinessProbe'
    }

    Context 'bad input' {
        It 'YAML that does not parse names the file, line and column' {
            $yaml = Join-Path $root "broken$suffix.yaml"
            Set-Content $yaml "kind: Pod`nmetadata:`n  name: x`n   bad: indent`n"
            { Invoke-ContainerKube $yaml -ErrorAction Stop } | Should -Throw -ErrorId 'KubeYamlInvalid,Containers.Cmdlets.Commands.Kube.InvokeContainerKubeCommand'
            $Error[0].Exception.Message | Should -Match ([regex]::Escape("broken$suffix.yaml") + ':\d+:\d+: ')
        }

        It 'refuses a Deployment of three replicas and an unknown kind before making anything' {
            $yaml = Join-Path $root "three$suffix.yaml"
            Set-Content $yaml "apiVersion: v1`nkind: PersistentVolumeClaim`nmetadata: {name: three-data}`n---`napiVersion: apps/v1`nkind: Deployment`nmetadata: {name: three}`nspec:`n  replicas: 3`n  template:`n    spec:`n      containers: [{name: c, image: localhost/busybox}]`n"
            { Invoke-ContainerKube $yaml -ErrorAction Stop } | Should -Throw -ErrorId 'KubeReplicasNotSupported,Containers.Cmdlets.Commands.Kube.InvokeContainerKubeCommand'
            Set-Content $yaml "apiVersion: batch/v1`nkind: CronJob`nmetadata: {name: nightly}`n"
            { Invoke-ContainerKube $yaml -ErrorAction Stop } | Should -Throw -ErrorId 'KubeKindNotSupported,Containers.Cmdlets.Commands.Kube.InvokeContainerKubeCommand'
            Get-ContainerVolume three-data -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            Get-ContainerPod | Should -BeNullOrEmpty
        }

        It 'an image in neither the store nor a registry fails the play and removes what it made before' {
            $yaml = Join-Path $root "missing$suffix.yaml"
            # The first pod is made and its claim too; the second pod's image cannot be found anywhere.
            Set-Content $yaml @"
apiVersion: v1
kind: Pod
metadata: {name: first}
spec:
  containers:
  - {name: c, image: localhost/busybox:latest, command: [sleep, "600"], volumeMounts: [{name: d, mountPath: /d}]}
  volumes: [{name: d, persistentVolumeClaim: {claimName: first-data}}]
---
apiVersion: v1
kind: Pod
metadata: {name: second}
spec:
  containers:
  - {name: c, image: "127.0.0.1:$(Get-FreePort)/nothing/here:1"}
"@
            { Invoke-ContainerKube $yaml -ErrorAction Stop } | Should -Throw -ErrorId 'KubeImageUnavailable,Containers.Cmdlets.Commands.Kube.InvokeContainerKubeCommand'
            Get-ContainerPod | Should -BeNullOrEmpty
            Get-Container | Should -BeNullOrEmpty
            Get-ContainerVolume first-data -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'refuses a volume type it cannot play, naming its path' {
            $yaml = Join-Path $root "secret$suffix.yaml"
            Set-Content $yaml "kind: Pod`nmetadata: {name: s}`nspec:`n  containers: [{name: c, image: localhost/busybox}]`n  volumes: [{name: k, secret: {secretName: key}}]`n"
            { Invoke-ContainerKube $yaml -ErrorAction Stop } | Should -Throw -ErrorId 'KubeVolumeTypeNotSupported,Containers.Cmdlets.Commands.Kube.InvokeContainerKubeCommand'
            $Error[0].Exception.Message | Should -Match 'spec\.volumes\[0\]'
        }
    }
}

Describe 'Export-ContainerKube' -Skip:(-not $isRoot) {
    BeforeAll {
        $script:lone = New-Container -Image localhost/busybox -Name "lone$suffix" -Command sleep, 600 -Environment @{ GREETING = 'hi' } -ErrorAction Stop
    }
    AfterAll { Remove-Container $lone.Name -Force -Confirm:$false -ErrorAction SilentlyContinue }

    It 'writes the file, -NoClobber keeps it, -WhatIf writes nothing, -Force overwrites a read-only one' {
        $path = Join-Path $root "lone$suffix.yaml"
        Export-ContainerKube -Name $lone.Name -Path $path -WhatIf
        Test-Path $path | Should -BeFalse
        Export-ContainerKube -Name $lone.Name -Path $path -ErrorAction Stop
        $doc = ConvertFrom-TestYaml (Get-Content -Raw $path)
        $doc.kind | Should -Be 'Pod'
        $doc.metadata.name | Should -Be "lone$suffix-pod"
        $doc.spec.containers[0].env[0].value | Should -Be 'hi'
        Set-Content $path 'kept'
        { Export-ContainerKube -Name $lone.Name -Path $path -NoClobber -ErrorAction Stop } | Should -Throw -ErrorId 'KubeFileExists,Containers.Cmdlets.Commands.Kube.ExportContainerKubeCommand'
        Get-Content $path | Should -Be 'kept'
        Set-ItemProperty $path IsReadOnly $true
        { Export-ContainerKube -Name $lone.Name -Path $path -ErrorAction Stop } | Should -Throw -ErrorId 'KubeFileReadOnly,Containers.Cmdlets.Commands.Kube.ExportContainerKubeCommand'
        (Export-ContainerKube -Name $lone.Name -Path $path -Force -PassThru).Name | Should -Be "lone$suffix.yaml"
        (Get-Content -Raw $path) | Should -Match 'kind: Pod'
    }

    It 'writes several containers and pods in one stream, separated by ---' {
        $pod = New-ContainerPod -Name "exp$suffix"
        $null = New-Container -Pod $pod.Name -Name "exp$suffix-a" -Image localhost/busybox -Command sleep, 600
        $yaml = @($lone, $pod) | ConvertTo-ContainerKube
        $docs = @(ConvertFrom-TestYaml $yaml)
        $docs.metadata.name | Should -Be @("lone$suffix-pod", "exp$suffix")
        ($yaml -split "`n" | Where-Object { $_ -eq '---' }).Count | Should -Be 2
        $docs[1].spec.containers.name | Should -Be @('a')
        Remove-ContainerPod $pod.Name -Force -Confirm:$false
    }
}

Describe 'podman as the peer' -Skip:(-not $isRoot -or -not $hasPodman) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/Podman.psm1') -Force
        $script:net = New-ContainerNetwork -Name "kpm$suffix" -Subnet "10.$(Get-Random -Minimum 200 -Maximum 250).$(Get-Random -Minimum 0 -Maximum 250).0/24" -ErrorAction Stop
        $script:podman = Initialize-TestPodman -Root $root
        # Podman on the same CNI directory, so both play on the same bridge.
        (Get-Content $env:CONTAINERS_CONF -Raw) -replace '(?m)^network_config_dir = .*$', "network_backend = `"cni`"`nnetwork_config_dir = `"$env:PSCONTAINERS_CNI_CONFIG_DIR`"`ncni_plugin_dirs = [`"/usr/lib/cni`"]" | Set-Content $env:CONTAINERS_CONF
        $id = Import-PodmanImage -Podman $podman -Image localhost/busybox
        Invoke-Podman tag $id localhost/busybox:latest | Out-Null
    }
    AfterAll {
        & podman pod rm -a -f 2>$null | Out-Null
        & podman rm -a -f -t 0 2>$null | Out-Null
        Get-ContainerPod -ErrorAction SilentlyContinue | Remove-ContainerPod -Force -Confirm:$false -ErrorAction SilentlyContinue
        Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
        Get-ContainerNetwork -ErrorAction SilentlyContinue | Remove-ContainerNetwork -Force -Confirm:$false -ErrorAction SilentlyContinue
        Remove-TestPodman $podman
    }
    AfterEach {
        & podman pod rm -a -f 2>$null | Out-Null
        & podman volume rm -a -f 2>$null | Out-Null
        Get-ContainerPod | Remove-ContainerPod -Force -Confirm:$false -ErrorAction Continue
        Get-ContainerVolume | Remove-ContainerVolume -Force -Confirm:$false -ErrorAction Continue
    }

    It 'the hand-written pod, played here and exported, is played by podman and answers the same' {
        $port = Get-FreePort
        $null = Invoke-ContainerKube (New-ShopYaml $port) -Network $net.Name -ErrorAction Stop
        $ours = Get-Over "http://127.0.0.1:$port/index.html"
        $oursEnv = Invoke-ContainerCommand -Name shop-sidecar -Command env
        $exported = Join-Path $root "shop-export$suffix.yaml"
        Get-ContainerPod shop | Export-ContainerKube -Path $exported -Service -ErrorAction Stop
        Invoke-ContainerKube (New-ShopYaml $port) -Down -RemoveVolume -ErrorAction Stop

        Invoke-Podman kube play --network $net.Name $exported | Out-Null
        Get-Over "http://127.0.0.1:$port/index.html" | Should -Be $ours
        Invoke-Podman exec shop-sidecar busybox wget -qO- http://localhost:8080/index.html | Should -Be $ours
        $theirsEnv = Invoke-Podman exec shop-sidecar env
        ($theirsEnv | Where-Object { $_ -like 'GREETING=*' }) | Should -Be ($oursEnv | Where-Object { $_ -like 'GREETING=*' })
        Invoke-Podman volume ls --format '{{.Name}}' | Should -Contain 'shop-www'
        Invoke-Podman inspect shop-web --format '{{.HostConfig.Memory}} {{.HostConfig.CpuQuota}}' | Should -Be '67108864 50000'

        # What podman generates back from what it played has the same containers as what we wrote (podman 4.3 writes
        # no livenessProbe and names the containers pod-name: those are compared apart).
        $back = @(ConvertFrom-TestYaml ((Invoke-Podman kube generate shop) -join "`n")) | Where-Object { $_.kind -eq 'Pod' }
        $mine = @(ConvertFrom-TestYaml (Get-Content -Raw $exported)) | Where-Object { $_.kind -eq 'Pod' }
        foreach ($i in 0, 1) {
            $a = $mine.spec.containers[$i]; $b = $back.spec.containers[$i]
            $b.name | Should -Be "shop-$($a.name)"
            foreach ($field in 'image', 'command', 'args', 'env', 'ports', 'resources', 'volumeMounts', 'workingDir') {
                ConvertTo-Canonical $b[$field] | Should -Be (ConvertTo-Canonical $a[$field]) -Because "podman writes $field back the same"
            }
        }
        ConvertTo-Canonical $back.spec.volumes | Should -Be (ConvertTo-Canonical $mine.spec.volumes)
        $back.spec.restartPolicy | Should -Be $mine.spec.restartPolicy
        $back.spec.hostname | Should -Be $mine.spec.hostname
    }

    It 'plays what podman kube generate writes from a podman pod, and its containers run' {
        $port = Get-FreePort
        Invoke-Podman kube play --network $net.Name (New-ShopYaml $port 'pshop') | Out-Null
        $generated = Join-Path $root "pshop-generated$suffix.yaml"
        (Invoke-Podman kube generate pshop) -join "`n" | Set-Content $generated
        Invoke-Podman kube play --down $generated | Out-Null
        & podman volume rm -f pshop-www 2>$null | Out-Null

        $pod = Invoke-ContainerKube $generated -Network $net.Name -ErrorAction Stop -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty -Because 'podman''s own fields and annotations are understood'
        $pod.Status | Should -Be Running
        # podman writes its containers' full names, so here they are pod-pod-name.
        $pod.Containers | Should -Be @('pshop-pshop-web', 'pshop-pshop-sidecar')
        Get-Over "http://127.0.0.1:$port/index.html" | Should -Be 'hello from the sidecar'
        Get-FromInside pshop-pshop-sidecar 'http://localhost:8080/index.html' | Should -Be 'hello from the sidecar'
    }

    It 'writes a lone container field by field as podman writes the same container' {
        $hostDir = Join-Path $root "hostdir$suffix"
        New-Item -ItemType Directory $hostDir | Out-Null
        $port = Get-FreePort
        $common = @{
            Environment = @{ FOO = 'bar' }; WorkingDirectory = '/tmp'; User = '1000:1000'; CapAdd = 'NET_ADMIN'; CapDrop = 'CHOWN'
            Memory = '64m'; Cpus = 0.5; Hostname = 'webhost'
        }
        $null = New-Container -Image localhost/busybox -Name "solo$suffix" -Network $net.Name -Publish "127.0.0.1:${port}:80/tcp" `
            -Volume "${hostDir}:/host:ro", "solodata${suffix}:/data" -Entrypoint /bin/busybox -Command httpd, -f, -p, 80, -h, /etc @common -ErrorAction Stop
        Invoke-Podman create --name "solo$suffix" --network $net.Name -p "127.0.0.1:${port}:80/tcp" -v "${hostDir}:/host:ro" -v "solodata${suffix}:/data" `
            -e FOO=bar -w /tmp --user 1000:1000 --cap-add NET_ADMIN --cap-drop CHOWN --memory 64m --cpus 0.5 --hostname webhost `
            --entrypoint /bin/busybox localhost/busybox:latest httpd -f -p 80 -h /etc | Out-Null

        $mine = @(ConvertFrom-TestYaml (ConvertTo-ContainerKube "solo$suffix")) | Where-Object { $_.kind -eq 'Pod' }
        $theirs = @(ConvertFrom-TestYaml ((Invoke-Podman kube generate "solo$suffix") -join "`n")) | Where-Object { $_.kind -eq 'Pod' }
        $a = $mine.spec.containers[0]; $b = $theirs.spec.containers[0]
        foreach ($field in 'name', 'image', 'command', 'args', 'workingDir', 'ports', 'resources', 'securityContext', 'volumeMounts') {
            ConvertTo-Canonical $a[$field] | Should -Be (ConvertTo-Canonical $b[$field]) -Because "$field is written as podman writes it"
        }
        # podman also lists HOSTNAME, which it sets from --hostname; the pod's hostname carries it here (docs/Kube.md).
        ConvertTo-Canonical $a.env | Should -Be (ConvertTo-Canonical @($b.env | Where-Object { $_.name -ne 'HOSTNAME' }))
        foreach ($field in 'hostname', 'volumes', 'automountServiceAccountToken', 'enableServiceLinks') {
            ConvertTo-Canonical $mine.spec[$field] | Should -Be (ConvertTo-Canonical $theirs.spec[$field]) -Because "spec.$field is written as podman writes it"
        }
        foreach ($field in 'name', 'labels', 'annotations') {
            ConvertTo-Canonical $mine.metadata[$field] | Should -Be (ConvertTo-Canonical $theirs.metadata[$field]) -Because "metadata.$field is written as podman writes it"
        }
        Invoke-Podman rm -f "solo$suffix" | Out-Null
        Remove-Container "solo$suffix" -Force -Confirm:$false
    }
}
