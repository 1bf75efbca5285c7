# Merge-ContainerImage (squash): merged layers give the same file system as the layers they replace,
# judged by umoci unpack of the original and by the kernel's overlay merge; images of 500 layers run.
BeforeDiscovery { $script:isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name merge
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/LayerTrees.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/Registry.psm1') -Force

    function script:Get-UmociListing([string] $Layout, [string] $Name) {
        # The reference: umoci's own unpack of the original image.
        $bundle = Join-Path $root "umoci-$Name"
        $out = & umoci unpack --image "${Layout}:latest" $bundle 2>&1
        if ($LASTEXITCODE -ne 0) { throw "umoci unpack failed: $out" }
        Get-LayerListing (Join-Path $bundle 'rootfs')
    }

    function script:New-DeepLayout([string] $Dir, [int] $Count) {
        # An OCI layout of busybox plus Count-1 tiny uncompressed layers written with System.Formats.Tar:
        # layer n adds /deep/layer-n and rewrites /deep/top.txt to n.
        $busybox = Get-BusyboxLayout
        $index = Get-Content (Join-Path $busybox 'index.json') | ConvertFrom-Json
        $manifest = Get-Content (Join-Path $busybox "blobs/sha256/$($index.manifests[0].digest.Split(':')[1])") | ConvertFrom-Json
        $baseConfig = Get-Content (Join-Path $busybox "blobs/sha256/$($manifest.config.digest.Split(':')[1])") | ConvertFrom-Json
        $blobs = Join-Path $Dir 'blobs/sha256'
        New-Item -ItemType Directory $blobs -Force | Out-Null
        Copy-Item (Join-Path $busybox "blobs/sha256/$($manifest.layers[0].digest.Split(':')[1])") $blobs
        $layers = [System.Collections.Generic.List[object]]::new(); $layers.Add($manifest.layers[0])
        $diffIds = [System.Collections.Generic.List[string]]::new(); $diffIds.Add($baseConfig.rootfs.diff_ids[0])
        $write = {
            param([byte[]] $Bytes)
            $hex = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($Bytes)).ToLowerInvariant()
            [IO.File]::WriteAllBytes((Join-Path $blobs $hex), $Bytes)
            "sha256:$hex"
        }
        foreach ($n in 2..$Count) {
            $ms = [IO.MemoryStream]::new()
            $tar = [System.Formats.Tar.TarWriter]::new($ms, [System.Formats.Tar.TarEntryFormat]::Pax, $true)
            $tar.WriteEntry([System.Formats.Tar.PaxTarEntry]::new('Directory', 'deep/'))
            foreach ($name in "deep/layer-$n", 'deep/top.txt') {
                $e = [System.Formats.Tar.PaxTarEntry]::new('RegularFile', $name)
                $e.DataStream = [IO.MemoryStream]::new([Text.Encoding]::ASCII.GetBytes("$n`n"))
                $tar.WriteEntry($e)
            }
            $tar.Dispose()
            $digest = & $write $ms.ToArray()
            $layers.Add([ordered]@{ mediaType = 'application/vnd.oci.image.layer.v1.tar'; digest = $digest; size = $ms.Length })
            $diffIds.Add($digest)
        }
        $config = [ordered]@{ architecture = $baseConfig.architecture; os = 'linux'; config = $baseConfig.config; rootfs = @{ type = 'layers'; diff_ids = $diffIds } }
        $configBytes = [Text.Encoding]::UTF8.GetBytes(($config | ConvertTo-Json -Depth 10 -Compress))
        $configDigest = & $write $configBytes
        $m = [ordered]@{ schemaVersion = 2; mediaType = 'application/vnd.oci.image.manifest.v1+json'
            config = @{ mediaType = 'application/vnd.oci.image.config.v1+json'; digest = $configDigest; size = $configBytes.Length }; layers = $layers }
        $manifestBytes = [Text.Encoding]::UTF8.GetBytes(($m | ConvertTo-Json -Depth 10 -Compress))
        $manifestDigest = & $write $manifestBytes
        Set-Content (Join-Path $Dir 'oci-layout') '{"imageLayoutVersion":"1.0.0"}'
        Set-Content (Join-Path $Dir 'index.json') (@{ schemaVersion = 2; manifests = @(@{ mediaType = 'application/vnd.oci.image.manifest.v1+json'
            digest = $manifestDigest; size = $manifestBytes.Length; annotations = @{ 'org.opencontainers.image.ref.name' = 'latest' } }) } | ConvertTo-Json -Depth 10 -Compress)
    }
}

AfterAll {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Merge-ContainerImage' -Skip:(-not $isRoot) {
    It 'merges the 200 layers of the deep fixture into one with the same file tree' {
        $layout = Join-Path (Get-FixtureImageCache) 'deep'
        $deep = Import-ContainerImage -Path $layout -Name localhost/deep:200
        $deep.Layers.Count | Should -Be 200
        $flat = Merge-ContainerImage -Name localhost/deep:200 -Destination localhost/deep:flat
        $flat.Layers.Count | Should -Be 1
        $ours = Get-LayerListing $flat.Layers[0].Directory
        $ours.Count | Should -BeGreaterThan 200
        $ours | Where-Object { $_ -like 'c|*' } | Should -BeNullOrEmpty -Because 'a merge from the first layer has nothing to white out'
        Compare-Object $ours (Get-UmociListing $layout deep) -CaseSensitive | ForEach-Object { "$($_.SideIndicator) $($_.InputObject)" } | Should -BeNullOrEmpty
        # History: every entry kept, all but the last layer's marked empty, one entry for the merge.
        $flat.Config.History.Count | Should -Be ($deep.Config.History.Count + 1)
        @($flat.Config.History | Where-Object { -not $_.EmptyLayer }).Count | Should -Be 1
        $flat.Config.History[-1].CreatedBy | Should -Be 'Merge-ContainerImage -From 1 -To 200'
        Invoke-ContainerImage localhost/deep:flat -Remove -Command cat, /deep/top.txt | Should -Be '200'
    }

    It 'merges a range above the base, keeping the whiteouts that hide the layers below it' {
        $fx = Join-Path ([IO.Path]::GetTempPath()) "pscontainers-fixture-images-$((Get-FileHash -Algorithm SHA256 (Join-Path $PSScriptRoot '../fixtures/images.sh')).Hash.Substring(0, 12).ToLowerInvariant())"
        $log = & bash (Join-Path $PSScriptRoot '../fixtures/images.sh') $fx 2>&1
        if ($LASTEXITCODE -ne 0) { throw "images.sh failed: $log" }
        $layered = Import-ContainerImage -Path (Join-Path $fx 'umoci-layers') -Name localhost/layered:4
        $layered.Layers.Count | Should -Be 4
        $merged = Get-ContainerImage localhost/layered:4 | Merge-ContainerImage -From 2 -To 4 -Destination localhost/layered:2
        $merged.Layers.Count | Should -Be 2
        $merged.Layers[0].DiffId | Should -Be $layered.Layers[0].DiffId
        $lower = @($merged.Layers.Directory); [array]::Reverse($lower)
        Compare-Object (Get-OverlayListing $lower) (Get-LayerListing (Join-Path $fx 'umoci-layers.rootfs')) -CaseSensitive |
            ForEach-Object { "$($_.SideIndicator) $($_.InputObject)" } | Should -BeNullOrEmpty
        @($merged.Config.History | Where-Object { $_.EmptyLayer }).Count | Should -Be (@($layered.Config.History | Where-Object { $_.EmptyLayer }).Count + 3)
    }

    It 'refuses a range the image does not have, storing nothing' {
        $before = @(Get-ContainerImage).Count
        { Merge-ContainerImage localhost/deep:200 -From 150 -To 201 -Destination localhost/deep:bad -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidLayerRange*'
        { Merge-ContainerImage localhost/deep:200 -From 10 -To 9 -Destination localhost/deep:bad -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidLayerRange*'
        { Merge-ContainerImage localhost/none:1 -Destination localhost/deep:bad -ErrorAction Stop } | Should -Throw -ErrorId 'ImageNotFound*'
        @(Get-ContainerImage).Count | Should -Be $before
    }
}

Describe 'An image of 500 layers' -Skip:(-not $isRoot) {
    It 'runs as it is (overlay lowerdir+), and merged' {
        $layout = Join-Path $root 'deep500'
        New-DeepLayout $layout 500
        $image = Import-ContainerImage -Path $layout -Name localhost/deep:500
        $image.Layers.Count | Should -Be 500
        Invoke-ContainerImage localhost/deep:500 -Remove -Command sh, -c, 'cat /deep/top.txt; ls /deep | busybox wc -l' | Should -Be @('500', '500')
        $LASTEXITCODE | Should -Be 0
        $merged = Merge-ContainerImage localhost/deep:500 -From 2 -Destination localhost/deep:2
        $merged.Layers.Count | Should -Be 2
        Invoke-ContainerImage localhost/deep:2 -Remove -Command sh, -c, 'cat /deep/top.txt; ls /deep | busybox wc -l' | Should -Be @('500', '500')
    }
}
