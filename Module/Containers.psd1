@{
    RootModule           = 'Containers.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5d0f3c64-6a0e-4f53-9a39-3c1d2b8e7a41'
    Author               = 'The Containers developers'
    CompanyName          = 'Containers'
    Copyright            = '(c) The Containers developers. MIT License.'
    Description          = 'Daemonless Linux containers from PowerShell: pull, verify, store, run and inspect OCI containers in-process, root and rootless.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('Containers.format.ps1xml', 'Images.format.ps1xml', 'Runtime.format.ps1xml', 'Registry.format.ps1xml', 'Policy.format.ps1xml', 'Storage.format.ps1xml', 'Network.format.ps1xml')
    TypesToProcess       = @('Containers.types.ps1xml')
    # Every exported cmdlet is listed here by name; a test compares this list with the binary.
    CmdletsToExport      = @(
        'Get-ContainerSystemInfo'
        'New-ContainerNetwork'
        'Get-ContainerNetwork'
        'Remove-ContainerNetwork'
        'Connect-ContainerNetwork'
        'Disconnect-ContainerNetwork'
        'Get-Container'
        'New-Container'
        'Start-Container'
        'Stop-Container'
        'Restart-Container'
        'Wait-Container'
        'Remove-Container'
        'Suspend-Container'
        'Resume-Container'
        'Get-ContainerLog'
        'Get-ContainerStatistic'
        'Get-ContainerProcess'
        'Invoke-ContainerImage'
        'Invoke-ContainerCommand'
        'Enter-Container'
        'Export-Container'
        'Get-ContainerImage'
        'Remove-ContainerImage'
        'Add-ContainerImageTag'
        'Import-ContainerImage'
        'Save-ContainerImage'
        'New-ContainerImage'
        'Merge-ContainerImage'
        'Get-ContainerStorageUsage'
        'Clear-ContainerStorage'
        'Install-ContainerImage'
        'Find-ContainerImage'
        'Publish-ContainerImage'
        'Get-RegistryPolicy'
        'Set-RegistryPolicy'
        'Remove-RegistryPolicy'
        'Connect-ContainerRegistry'
        'Disconnect-ContainerRegistry'
        'Get-ContainerRegistryLogin'
        'New-ContainerSigningKey'
        'Test-ContainerImage'
        'Add-ContainerImageSignature'
        'Get-ContainerTrustPolicy'
        'Set-ContainerTrustPolicy'
        'Remove-ContainerTrustPolicy'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Linux', 'Containers', 'OCI', 'Rootless', 'PSEdition_Core')
            ReleaseNotes = ''
        }
    }
}
