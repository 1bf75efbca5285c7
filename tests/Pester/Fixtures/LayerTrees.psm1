# Listings of file trees for comparing layers and root file systems made by the module and by peers.
#
#   Get-LayerListing $dir [-Exclude $regex]    one line per entry (sorted)
#   Get-OverlayListing $dirsTopFirst           the same of the kernel's read-only overlay merge of the directories

function Get-LayerListing {
    # type|path|mode|owner|links of files|symlink target|content digest|rdev of devices|opaque xattr.
    # A directory's link count is the file system's business (overlay says 1), so only files show theirs.
    param([Parameter(Mandatory)] [string] $Dir, [string] $Exclude = '^$')
    @(& find $Dir -mindepth 1 -printf '%y|%P|%m|%U:%G|%n|%l\n' | ForEach-Object {
        $f = $_.Split('|')
        if ($f[1] -match $Exclude) { return }
        if ($f[0] -ne 'f') { $f[4] = '-' }
        $full = Join-Path $Dir $f[1]
        $hash = if ($f[0] -eq 'f') { (Get-FileHash -Algorithm SHA256 -LiteralPath $full).Hash } else { '-' }
        $rdev = if ($f[0] -in 'c', 'b') { & stat -c '%t:%T' -- $full } else { '-' }
        $opaque = if ($f[0] -eq 'd') { (& getfattr --absolute-names --only-values -n trusted.overlay.opaque -- $full 2>$null) -join '' } else { '' }
        ($f + $hash + $rdev + $opaque) -join '|'
    } | Sort-Object -CaseSensitive)
}

function Get-OverlayListing {
    # Mounts the directories (top first) as a read-only overlay under a temp dir, lists it, unmounts.
    param([Parameter(Mandatory)] [string[]] $DirsTopFirst, [string] $Exclude = '^$')
    if ($DirsTopFirst.Count -eq 1) { return Get-LayerListing $DirsTopFirst[0] -Exclude $Exclude }
    $mnt = Join-Path ([IO.Path]::GetTempPath()) ('pscontainers-overlay-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory $mnt | Out-Null
    try {
        & mount -t overlay overlay -o "ro,lowerdir=$($DirsTopFirst -join ':')" $mnt
        if ($LASTEXITCODE -ne 0) { throw "overlay mount of $($DirsTopFirst.Count) directories failed" }
        try { Get-LayerListing $mnt -Exclude $Exclude }
        finally { & umount $mnt }
    }
    finally { Remove-Item $mnt -Force }
}

Export-ModuleMember -Function Get-LayerListing, Get-OverlayListing
