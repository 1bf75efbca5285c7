BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $manifest = Import-PowerShellDataFile (Get-TestModulePath)
    $script:cmdletNames = @($manifest.CmdletsToExport)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name module
    $script:module = Import-Module (Get-TestModulePath) -PassThru -Force
}
AfterAll { Remove-TestRoot $script:root }

Describe 'The built module' {
    It 'imports in a fresh session in under a second' {
        $pwsh = Get-TestPwsh
        # Warm the disk cache once, then measure a cold import in a new process.
        & $pwsh -NoProfile -NonInteractive -Command "Import-Module '$(Get-TestModulePath)'" | Out-Null
        $ms = & $pwsh -NoProfile -NonInteractive -Command "(Measure-Command { Import-Module '$(Get-TestModulePath)' }).TotalMilliseconds"
        [double]$ms | Should -BeLessThan 1000
    }

    It 'exports exactly the cmdlets its manifest lists' {
        $exported = (Get-Command -Module Containers).Name | Sort-Object
        $exported | Should -Be ($cmdletNames | Sort-Object)
    }

    It 'declares PowerShell 7.4+, Core edition' {
        $module.PowerShellVersion | Should -Be ([version]'7.4')
        $module.CompatiblePSEditions | Should -Be @('Core')
    }

    It 'uses only approved verbs' {
        $approved = (Get-Verb).Verb
        foreach ($c in Get-Command -Module Containers) { $approved | Should -Contain $c.Verb -Because $c.Name }
    }

    It 'ships the init binary, executable' {
        $init = Join-Path $module.ModuleBase 'pscontainers-init'
        $init | Should -Exist
        & $init --version | Should -Match '^pscontainers-init \d+\.\d+\.\d+'
    }
}

Describe 'Help for <_>' -ForEach $cmdletNames {
    BeforeAll { $script:help = Get-Help $_ -Full; $script:command = Get-Command $_ }

    It 'has a synopsis' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        # Without a help file PowerShell shows the syntax as the synopsis.
        $help.Synopsis.Trim() | Should -Not -Match ('^' + [regex]::Escape($_) + '\b')
    }

    It 'has at least one example' {
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
        $help.Examples.Example[0].Code | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        foreach ($p in $command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $doc = $help.Parameters.Parameter | Where-Object Name -EQ $p
            $doc | Should -Not -BeNullOrEmpty -Because "-$p needs help"
            ($doc.Description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$p needs a description"
        }
    }
}
