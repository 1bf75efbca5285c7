# What a bench states about the host beside its figures: the load, and what new page cache costs.

# A new file of MiB mebibytes of zeros, written through the page cache (no flush).
function Write-ZeroFile([string] $Path, [int] $MiB) {
    $buffer = [byte[]]::new(1MB)
    $stream = [IO.File]::Create($Path)
    try { for ($k = 0; $k -lt $MiB; $k++) { $stream.Write($buffer, 0, $buffer.Length) } }
    finally { $stream.Dispose() }
}

function Get-HostLoad {
    <# .SYNOPSIS The 1, 5 and 15 minute load averages, as one string. #>
    (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
}

function Measure-PageCacheWrite {
    <#
    .SYNOPSIS
        Median milliseconds to write 64 MiB into a new file (page cache only, no flush), of three new files it
        leaves in Directory (for the bench's clean-up at its end).
    .DESCRIPTION
        On bare metal this is a memory copy (~10 ms). On a virtual machine that hands free memory back to its hypervisor
        (virtio-balloon free page reporting), a page the guest has not used lately faults in the host on its first
        write: 150 ms for 64 MiB on the machine these benches were written on, once the memory freed lately is used up
        (it drains back to the host: of 1.5 GB just freed, 960 MB was still cheap after 5 s, and after a longer wait
        ~600 MB stays cheap). Every pull stores its layers in new page cache, so this figure says in which regime a run
        measured: in the slow one the six-layer pull cost this module 110 ms more CPU and podman 200 ms more
        (Pull.Bench.ps1 with and without -WarmPageCache). Which regime a run meets depends on what ran before it (a
        bench that just removed gigabytes leaves the next one a warm pool), so a bench measures it just before its
        rounds and after them. The files stay: removed, they would be such freed memory for the runs that follow.
    #>
    param([Parameter(Mandatory)] [string] $Directory)
    $samples = foreach ($i in 1..3) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Write-ZeroFile (Join-Path $Directory ('page-cache-probe-' + [guid]::NewGuid().ToString('N'))) 64
        $sw.Elapsed.TotalMilliseconds
    }
    ($samples | Sort-Object)[1]
}

function Initialize-PageCachePool {
    <#
    .SYNOPSIS
        Writes and removes a file of MiB mebibytes in Directory, so that the next run's new page cache, up to that
        size, is memory the guest has just used (see Measure-PageCacheWrite): the bare-metal regime on a VM that
        hands free memory back to its host.
    #>
    param([Parameter(Mandatory)] [string] $Directory, [int] $MiB = 384)
    $file = Join-Path $Directory 'page-cache-pool'
    Write-ZeroFile $file $MiB
    Remove-Item $file
}

Export-ModuleMember -Function Get-HostLoad, Measure-PageCacheWrite, Initialize-PageCachePool
