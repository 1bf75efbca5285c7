# Isolation of the store: what a hostile image or a local user gets from it (nothing), checked as an attacker
# would, from outside (another host user, the host's files) and from inside a container. Beside the other
# hardening areas' Isolation.*.Tests.ps1 files.
BeforeDiscovery { $isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name isolation-store
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
}

AfterAll {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Isolation: store' -Skip:(-not $isRoot) {
    BeforeAll {
        $script:data = $env:PSCONTAINERS_DATA_DIR
        $null = Import-BusyboxImage
        # An unprivileged local user: the attacker on the host.
        $script:user = 'psiso' + (Get-Random -Maximum 999999)
        & useradd --no-create-home --shell /usr/sbin/nologin --user-group $user
        if ($LASTEXITCODE) { throw "useradd $user failed" }

        function script:Invoke-AsUser([string[]] $Command) {
            # Runs a host command as the test user; returns its output and sets $LASTEXITCODE. Through sh: setpriv
            # itself found and ran a binary below a 0700 root directory here, as if still root for that one lookup.
            & setpriv --reuid $user --regid $user --clear-groups -- /bin/sh -c 'exec "$@"' sh @Command 2>&1
        }

        function script:New-Tar([string] $Name, [scriptblock] $Fill) {
            # A layer tar of the tree $Fill makes in a fresh directory (owners 0:0, names as "./...").
            $dir = Join-Path $root "tree-$Name"
            New-Item -ItemType Directory $dir | Out-Null
            $null = & $Fill $dir
            $tar = Join-Path $root "$Name.tar"
            & tar --numeric-owner --owner=0 --group=0 --xattrs -C $dir -cf $tar .
            if ($LASTEXITCODE) { throw "tar $Name failed" }
            return $tar
        }

        function script:Write-Blob([string] $Layout, [byte[]] $Bytes) {
            $hex = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($Bytes)).ToLowerInvariant()
            [IO.File]::WriteAllBytes((Join-Path $Layout "blobs/sha256/$hex"), $Bytes)
            return [ordered]@{ digest = "sha256:$hex"; size = $Bytes.Length }
        }

        function script:New-Layout([string] $Name, [string[]] $Tars = @(), [hashtable[]] $Layers = @(), [scriptblock] $EditManifest) {
            # The busybox layout with layers added on top, written by hand (an uncompressed layer's diff id is its digest).
            $layout = Join-Path $root "layout-$Name"
            Copy-Item -Recurse (Get-BusyboxLayout) $layout
            $index = Get-Content -Raw (Join-Path $layout 'index.json') | ConvertFrom-Json
            $mdesc = $index.manifests[0]
            $manifest = Get-Content -Raw (Join-Path $layout "blobs/sha256/$($mdesc.digest.Substring(7))") | ConvertFrom-Json
            $config = Get-Content -Raw (Join-Path $layout "blobs/sha256/$($manifest.config.digest.Substring(7))") | ConvertFrom-Json
            $added = @(foreach ($t in $Tars) { @{ Bytes = [IO.File]::ReadAllBytes($t); MediaType = 'application/vnd.oci.image.layer.v1.tar' } }) + $Layers
            foreach ($l in $added) {
                $blob = Write-Blob $layout $l.Bytes
                $manifest.layers += [pscustomobject]@{ mediaType = $l.MediaType; digest = $blob.digest; size = $blob.size }
                $config.rootfs.diff_ids += $l.DiffId ?? $blob.digest
            }
            $config.PSObject.Properties.Remove('history')
            $c = Write-Blob $layout ([Text.Encoding]::UTF8.GetBytes(($config | ConvertTo-Json -Depth 20 -Compress)))
            $manifest.config.digest = $c.digest
            $manifest.config.size = $c.size
            if ($EditManifest) { & $EditManifest $manifest }
            $m = Write-Blob $layout ([Text.Encoding]::UTF8.GetBytes(($manifest | ConvertTo-Json -Depth 20 -Compress)))
            $mdesc.digest = $m.digest
            $mdesc.size = $m.size
            $index | ConvertTo-Json -Depth 20 -Compress | Set-Content -NoNewline (Join-Path $layout 'index.json')
            return $layout
        }

        # A copy of the host's id(1), setuid root, shipped in a layer: run straight from the layer directory it printed euid 0.
        $suidTar = New-Tar suid {
            param($d)
            New-Item -ItemType Directory (Join-Path $d 'usr/bin') -Force | Out-Null
            Copy-Item /usr/bin/id (Join-Path $d 'usr/bin/suid-id')
            & chmod 4755 (Join-Path $d 'usr/bin/suid-id')
        }
        $script:suidImage = Import-ContainerImage -Path (New-Layout suid -Tars $suidTar) -Name suid:1
        $script:suidBinary = Join-Path $suidImage.Layers[-1].Directory 'usr/bin/suid-id'
        $script:secret = 'hunter2-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $script:ctr = New-Container -Image busybox -Name "iso-secret-$(Get-Random)" -Environment @{ DB_PASSWORD = $secret } -Command sh, -c, 'echo password=$DB_PASSWORD'
        $ctr | Start-Container -Wait | Out-Null
        $script:ctrDir = Join-Path $data "containers/$($ctr.Id)"
    }
    AfterAll {
        & userdel $user 2>$null
    }

    It 'the fixture is sound: root sees the setuid binary, the password in the record and in the log' {
        (& stat -c '%a %U' $suidBinary) | Should -Be '4755 root'
        (& $suidBinary -u) | Should -Be '0'
        Get-Content -Raw (Join-Path $ctrDir 'container.json') | Should -BeLike "*$secret*"
        (Get-ContainerLog $ctr.Name).Text | Should -Be "password=$secret"
    }

    It 'keeps an unprivileged user out: no traversal, no setuid binary from a layer, no record, log or state' {
        $out = Invoke-AsUser $suidBinary, '-u'
        $LASTEXITCODE | Should -Not -Be 0
        $out | Should -Not -Be '0'
        $out -join "`n" | Should -BeLike '*Permission denied*'
        foreach ($path in $data, (Join-Path $data 'images'), (Join-Path $data 'containers')) {
            $null = Invoke-AsUser ls, $path
            $LASTEXITCODE | Should -Not -Be 0 -Because "$path must not be listable"
        }
        foreach ($file in 'container.json', 'ctr.log', 'state.json', 'bundle/config.json') {
            $null = Invoke-AsUser cat, (Join-Path $ctrDir $file)
            $LASTEXITCODE | Should -Not -Be 0 -Because "$file must not be readable"
        }
        # From the inside out: what is not the generated /etc files is the owner's only.
        $dirs = @($data, (Join-Path $data 'images'), (Join-Path $data 'containers'), $ctrDir, (Split-Path $suidImage.Layers[-1].Directory))
        (& stat -c '%a' $dirs) | Should -Be @('700', '700', '700', '700', '700')
        $files = @('container.json', 'ctr.log', 'state.json', 'bundle/config.json' | ForEach-Object { Join-Path $ctrDir $_ })
        (& stat -c '%a' $files) | Should -Be @('600', '600', '600', '600')
        (& stat -c '%a' $env:PSCONTAINERS_LOG_DIR) | Should -Be '700'
    }

    It 'makes a store left world-readable by an older version private when it is next opened' {
        # What the previous version left: every directory 0755, records and logs 0644, and no marker.
        & find $data -path '*/diff' -prune -o -type d -exec chmod 0755 '{}' +
        & find $data -path '*/diff' -prune -o -type f -exec chmod 0644 '{}' +
        Remove-Item -Force (Join-Path $data 'images/.private-v1'), (Join-Path $data 'containers/.private-v1') -ErrorAction SilentlyContinue
        $null = Invoke-AsUser cat, (Join-Path $ctrDir 'ctr.log')
        $LASTEXITCODE | Should -Be 0 -Because 'the old layout is readable, which is the point of this test'

        $null = Get-ContainerImage
        $null = Get-Container
        $null = Invoke-AsUser $suidBinary, '-u'
        $LASTEXITCODE | Should -Not -Be 0
        foreach ($file in (Join-Path $ctrDir 'ctr.log'), (Join-Path $ctrDir 'container.json')) {
            $null = Invoke-AsUser cat, $file
            $LASTEXITCODE | Should -Not -Be 0
        }
        # Below the top, too (a user who kept a descriptor or a path into the tree learns nothing more).
        $paths = @((Join-Path $ctrDir 'ctr.log'), (Split-Path $suidImage.Layers[-1].Directory))
        (& stat -c '%a' $paths) | Should -Be @('600', '700')
        (& stat -c '%a' (Join-Path $ctrDir 'hosts')) | Should -Be '644' -Because 'the container reads it through a bind mount as any user'
    }

    It 'runs a non-root container user in the private store (overlay and bind mounts need no traversal by others)' {
        $out = Invoke-ContainerImage -Image busybox -Remove -User nobody -Command sh, -c, 'id -u; cat /etc/hostname >/dev/null && ls /bin/sh'
        $LASTEXITCODE | Should -Be 0
        $out | Should -Be @('65534', '/bin/sh')
    }

    It 'keeps the layers of a container whose image was force-removed when another image sharing them goes' {
        # The container's image A and an unused image B share A's top layer: force-removing A, then removing B, deleted it.
        $shared = New-Tar shared { param($d) Set-Content (Join-Path $d 'shared.txt') 'shared' }
        $other = New-Tar other { param($d) Set-Content (Join-Path $d 'other.txt') 'other' }
        $null = Import-ContainerImage -Path (New-Layout a -Tars $shared) -Name gc-a:1
        $null = Import-ContainerImage -Path (New-Layout b -Tars $shared, $other) -Name gc-b:1
        $c = New-Container -Image gc-a:1 -Name "iso-gc-$(Get-Random)" -Command cat, /shared.txt
        Remove-ContainerImage -Name gc-a:1 -Force -Confirm:$false
        Remove-ContainerImage -Name gc-b:1 -Confirm:$false
        $c | Start-Container -Wait | Out-Null
        (Get-Container $c.Name).ExitCode | Should -Be 0
        (Get-ContainerLog $c.Name).Text | Should -Be 'shared'
        Remove-Container $c.Name -Force -Confirm:$false
    }

    It 'refuses a manifest that is also an index (CVE-2021-41190), storing nothing' {
        $layout = New-Layout ambiguous -EditManifest {
            param($m)
            $m | Add-Member manifests @([pscustomobject]@{ mediaType = 'application/vnd.oci.image.manifest.v1+json'; digest = $m.config.digest; size = $m.config.size })
        }
        $before = @(Get-ContainerImage).Count
        { Import-ContainerImage -Path $layout -Name ambiguous:1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'AmbiguousManifest,Containers.Cmdlets.Commands.Image.ImportContainerImageCommand'
        @(Get-ContainerImage).Count | Should -Be $before
    }

    It 'hides every lower file under a layer whose root is opaque, in the running container' {
        $lower = New-Tar lower { param($d) Set-Content (Join-Path $d 'lower-canary') 'from below' }
        $top = New-Tar opaque {
            param($d)
            New-Item -ItemType Directory (Join-Path $d 'bin') | Out-Null
            Copy-Item /bin/busybox (Join-Path $d 'bin/busybox')
            foreach ($a in 'sh', 'ls') { New-Item -ItemType SymbolicLink (Join-Path $d "bin/$a") -Target busybox | Out-Null }
            Set-Content (Join-Path $d 'top.txt') 'top'
            New-Item -ItemType File (Join-Path $d '.wh..wh..opq') | Out-Null
        }
        $null = Import-ContainerImage -Path (New-Layout opaque -Tars $lower, $top) -Name opaque:1
        $out = Invoke-ContainerImage -Image opaque:1 -Remove -Command /bin/ls, -a, /
        $LASTEXITCODE | Should -Be 0
        $out | Should -Contain 'top.txt'
        $out | Should -Not -Contain 'lower-canary'
        $out | Should -Not -Contain 'root' -Because 'busybox''s /root is below the opaque root too'
    }

    It 'refuses a run of PAX headers before one entry (a metadata bomb) with bounded memory' {
        # 400 PAX headers of 1 MiB each before one file: 400 MiB of metadata for one entry, written straight
        # into gzip (about 400 KiB) while the uncompressed digest (the diff id) is computed.
        $header = {
            param([string] $Name, [char] $Type, [long] $Size)
            $h = [byte[]]::new(512)
            [Text.Encoding]::ASCII.GetBytes($Name).CopyTo($h, 0)
            [Text.Encoding]::ASCII.GetBytes('0000644').CopyTo($h, 100)
            foreach ($at in 108, 116) { [Text.Encoding]::ASCII.GetBytes('0000000').CopyTo($h, $at) }
            [Text.Encoding]::ASCII.GetBytes([Convert]::ToString($Size, 8).PadLeft(11, '0')).CopyTo($h, 124)
            [Text.Encoding]::ASCII.GetBytes('14540000000').CopyTo($h, 136)
            $h[156] = [byte]$Type
            [Text.Encoding]::ASCII.GetBytes("ustar`0" + '00').CopyTo($h, 257)
            for ($i = 148; $i -lt 156; $i++) { $h[$i] = 32 }
            $sum = 0; foreach ($b in $h) { $sum += $b }
            [Text.Encoding]::ASCII.GetBytes([Convert]::ToString($sum, 8).PadLeft(6, '0') + "`0 ").CopyTo($h, 148)
            return , $h
        }
        $record = [Text.Encoding]::ASCII.GetBytes(' SCHILY.xattr.user.pad=')
        $rest = $record.Length + (1MB - 64) + 1
        $len = $rest + 1
        while (([string]$len).Length + $rest -ne $len) { $len++ }
        $body = [IO.MemoryStream]::new()
        $body.Write([Text.Encoding]::ASCII.GetBytes([string]$len)); $body.Write($record); $body.Write([byte[]]::new(1MB - 64)); $body.WriteByte(10)
        $pax = $body.ToArray()
        $pax.Length | Should -Be $len
        $chunks = @((& $header 'PaxHeaders/x' 'x' $pax.Length), $pax, [byte[]]::new((512 - $pax.Length % 512) % 512))
        $gz = Join-Path $root 'paxbomb.tar.gz'
        $hash = [Security.Cryptography.IncrementalHash]::CreateHash('SHA256')
        $file = [IO.File]::Create($gz)
        $zip = [IO.Compression.GZipStream]::new($file, [IO.Compression.CompressionLevel]::Fastest)
        try {
            $put = { param([byte[]] $b) $zip.Write($b); $hash.AppendData($b) }
            for ($n = 0; $n -lt 400; $n++) { foreach ($c in $chunks) { & $put $c } }
            & $put (& $header 'victim' '0' 0)
            & $put ([byte[]]::new(1024))
        }
        finally { $zip.Dispose(); $file.Dispose() }
        $diffId = 'sha256:' + [Convert]::ToHexString($hash.GetHashAndReset()).ToLowerInvariant()
        $layout = New-Layout paxbomb -Layers @{ Bytes = [IO.File]::ReadAllBytes($gz); MediaType = 'application/vnd.oci.image.layer.v1.tar+gzip'; DiffId = $diffId }

        # In a child pwsh, so its peak resident size (VmHWM) is the import's alone.
        $script_ = Join-Path $root 'paxbomb.ps1'
        @"
Import-Module '$(Get-TestModulePath)'
try { Import-ContainerImage -Path '$layout' -Name paxbomb:1 -ErrorAction Stop | Out-Null; `$id = 'imported' }
catch { `$id = `$_.FullyQualifiedErrorId; `$msg = `$_.Exception.Message }
`$hwm = [long]((Get-Content /proc/self/status | Where-Object { `$_ -like 'VmHWM:*' }) -replace '\D', '') * 1KB
[pscustomobject]@{ Id = `$id; Message = `$msg; Peak = `$hwm } | ConvertTo-Json -Compress
"@ | Set-Content $script_
        $result = & (Get-TestPwsh) -NoProfile -NonInteractive -File $script_ | Select-Object -Last 1 | ConvertFrom-Json
        Write-Host "PAX bomb import: $($result.Id), peak resident $([math]::Round($result.Peak / 1MB)) MiB"
        $result.Id | Should -BeLike 'LayerMalformed,*'
        $result.Message | Should -BeLike '*metadata*'
        $result.Peak | Should -BeGreaterThan 0
        $result.Peak | Should -BeLessThan 350MB -Because 'the layer carries 400 MiB of metadata; a bounded reader never holds it'
        Get-ContainerImage -Name paxbomb:1 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}
