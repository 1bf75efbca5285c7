function Copy-ContainerRecord {
    <#
    .SYNOPSIS
        Copies a container's record and state under new ids, named "<Prefix>2" to "<Prefix><Count>", without starting
        anything: listing benchmarks need many records, not many containers.
    #>
    param([Parameter(Mandatory)] $Container, [Parameter(Mandatory)] [int] $Count, [string] $Prefix = 'bench')
    $dir = Join-Path $env:PSCONTAINERS_DATA_DIR 'containers'
    # The store's name index (.names/<name> -> ../<id>), as New-Container keeps it; a store without it gets it built on first use.
    $names = Join-Path $dir '.names'
    $linkNames = Test-Path $names
    $json = Get-Content "$dir/$($Container.Id)/container.json" -Raw
    $state = Get-Content "$dir/$($Container.Id)/state.json" -Raw
    foreach ($i in 2..$Count) {
        $id = [Convert]::ToHexString([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32)).ToLowerInvariant()
        [void][IO.Directory]::CreateDirectory("$dir/$id")
        [IO.File]::WriteAllText("$dir/$id/container.json", $json.Replace($Container.Id, $id).Replace("`"$($Container.Name)`"", "`"$Prefix$i`""))
        [IO.File]::WriteAllText("$dir/$id/state.json", $state.Replace($Container.Id, $id))
        if ($linkNames) { [void][IO.File]::CreateSymbolicLink("$names/$Prefix$i", "../$id") }
    }
}

Export-ModuleMember -Function Copy-ContainerRecord
