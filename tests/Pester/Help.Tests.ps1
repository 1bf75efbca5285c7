# Every Get-Help example names commands and parameters that exist, and the examples of the
# read-only Get-* cmdlets run as written in a throw-away root that holds what the examples name:
# the busybox image and a running container called web. Examples that wait forever (-Follow)
# are only checked, not run.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $manifest = Import-PowerShellDataFile (Get-TestModulePath)
    Import-Module (Get-TestModulePath) -Force
    $script:examples = foreach ($name in $manifest.CmdletsToExport) {
        $i = 0
        foreach ($example in (Get-Help $name -Full).Examples.Example) {
            $i++
            @{ Cmdlet = $name; Number = $i; Code = ($example.Code -join "`n") }
        }
    }
    $script:runnable = @($examples | Where-Object { $_.Cmdlet -like 'Get-*' -and $_.Code -notmatch '-Follow\b' })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name help
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $null = Import-BusyboxImage
    $script:web = New-Container -Image localhost/busybox -Name web -Command sh, '-c', 'echo hello from web; sleep 300'
    Start-Container -Name web
}
AfterAll {
    Get-Container -ErrorAction Ignore | Remove-Container -Force -Confirm:$false -ErrorAction Continue
    Remove-TestRoot $script:root
}

Describe '<Cmdlet> example <Number>' -ForEach $examples {
    It 'parses and uses only parameters its commands have' {
        $tokens = $null; $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref]$tokens, [ref]$errors)
        $errors | Should -BeNullOrEmpty
        $calls = $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true)
        foreach ($call in $calls) {
            $commandName = $call.GetCommandName()
            if (-not $commandName -or $commandName -notlike '*-Container*' -and $commandName -notlike '*-Registry*') { continue }
            $command = Get-Command $commandName -ErrorAction SilentlyContinue
            $command | Should -Not -BeNullOrEmpty -Because "the example calls $commandName"
            $known = @($command.Parameters.Keys) + @($command.Parameters.Values.Aliases)
            foreach ($p in $call.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] }) {
                $matched = @($known | Where-Object { $_ -like "$($p.ParameterName)*" })
                $matched.Count | Should -BeGreaterThan 0 -Because "$commandName has no parameter -$($p.ParameterName)"
            }
        }
    }
}

Describe '<Cmdlet> example <Number>, run as written' -ForEach $runnable {
    It 'runs without an error' {
        $errorsBefore = $Error.Count
        $null = & ([scriptblock]::Create($Code)) 3>$null
        $Error.Count | Should -Be $errorsBefore
    }
}

Describe 'Help as a reader sees it' {
    It 'shows parameter types as Get-Command does, never Nullable`1' {
        $text = Get-Help New-Container -Full | Out-String -Width 400
        $text | Should -Not -Match 'Nullable'
        $text | Should -Match '-Cpus <double>'
        $text | Should -Match '-Environment <hashtable>'
    }

    It 'does not offer -Online help it does not have' {
        $text = Get-Help New-Container | Out-String -Width 400
        $text | Should -Not -Match 'Get-Help New-Container -Online'
        Get-Help New-Container -Full | Out-String -Width 400 | Should -Match 'Related: about_Containers'
    }

    It 'has how-to topics in about_Containers' {
        $about = Get-Help about_Containers | Out-String
        foreach ($topic in 'YOUR FIRST CONTAINER', 'REGISTRIES AND TRUST', 'ROOTLESS', 'TROUBLESHOOTING') { $about | Should -Match $topic }
    }
}
