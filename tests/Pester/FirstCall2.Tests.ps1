# What Import-Module does in a new session, checked in a fresh pwsh (never its timing: bench/FirstCall.Bench.ps1
# measures that).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name firstcall2
    $script:modulePath = Get-TestModulePath

    function script:Invoke-Fresh([string] $Command) {
        # $Command after Import-Module in a new pwsh; its output lines.
        $out = & (Get-TestPwsh) -NoProfile -NonInteractive -Command "Import-Module '$script:modulePath'; $Command" 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out | Out-String)
        return $out
    }
}

AfterAll {
    Remove-TestRoot $script:root
}

Describe 'Import-Module in a new session' {
    It 'processes no types file: the session''s type table gains nothing from the module' {
        # A types.ps1xml makes every import parse the file and compile its script blocks, for a member only
        # Get-ContainerSystemInfo's output used.
        $out = Invoke-Fresh "(Get-Module Containers).ExportedTypeFiles.Count; @(Get-TypeData 'Containers.*').Count"
        $out | Should -Be @('0', '0')
    }

    It 'still gives Get-ContainerSystemInfo a DataDirSize in MiB, from DataDirBytes' {
        $store = Join-Path $script:root 'data'
        New-Item -ItemType Directory -Path $store -Force | Out-Null
        # 3 MiB of data in the store: the size reads 3.0 MiB whatever else the probe finds.
        [IO.File]::WriteAllBytes((Join-Path $store 'blob'), [byte[]]::new(3MB))
        $out = Invoke-Fresh "`$env:PSCONTAINERS_DATA_DIR = '$store'; `$i = Get-ContainerSystemInfo; `$i.DataDirBytes; `$i.DataDirSize; (`$i | Get-Member DataDirSize).MemberType"
        [long]$out[0] | Should -BeGreaterOrEqual 3MB
        $out[1] | Should -Be ('{0:N1} MiB' -f ([long]$out[0] / 1MB))
        $out[2] | Should -Be 'Property'
    }
}
