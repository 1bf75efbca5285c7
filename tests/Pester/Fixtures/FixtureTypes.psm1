# Compiles the loopback servers of the registry tests (FixtureServers.cs, HostileServers.cs) once per
# session. tests/Core.Tests compiles the same files (linked in its project): one copy for both suites.

function Initialize-FixtureTypes {
    if ('PSContainersFixture.FaultProxy' -as [type]) { return }
    $files = 'AddTypeUsings.cs', 'FixtureServers.cs', 'HostileServers.cs' | ForEach-Object { Join-Path $PSScriptRoot $_ }
    Add-Type -Path $files -ReferencedAssemblies System.Net.Primitives, System.Net.Sockets, System.Net.Http, System.Security.Cryptography,
        System.Text.Json, System.Collections.Concurrent, System.Linq, System.Collections, System.Memory, System.Runtime, System.Threading,
        System.Net.Security, System.Private.Uri, System.Console, netstandard
}

Export-ModuleMember -Function Initialize-FixtureTypes
