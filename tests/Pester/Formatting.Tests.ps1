# Default views as a user sees them in an 80-column console: the columns that matter are there, and
# units say what they are (MB = 10^6 bytes, as podman shows them).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name formatting
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    $script:image = Import-BusyboxImage

    function script:Render($InputObject) {
        # What an 80-column console shows: no line wider, nothing wrapped into a second header line.
        @($InputObject | Out-String -Width 80 -Stream | Where-Object { $_ })
    }
}

AfterAll {
    Get-Container | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'Tables in 80 columns' {
    It 'shows the container id, name, image and status' {
        $c = New-Container -Image busybox -Name formatting-target -Command sh, -c, 'sleep 60'
        try {
            $lines = Render (Get-Container formatting-target)
            $lines[0] | Should -Match '^ContainerId\s+Name\s+Image\s+Status\s+Command$'
            $lines[2] | Should -Match "^$($c.Id.Substring(0, 12))\s+formatting-target\s+busybox\s+Created\b"
        }
        finally { $c | Remove-Container -Force -Confirm:$false }
    }

    It 'shows the store in Get-ContainerSystemInfo' {
        $lines = Render (Get-ContainerSystemInfo)
        $lines[0] | Should -Match '^Module\s+Package\s+PowerShell\s+Kernel\s+Cgroups\s+Rootless\s+Store$'
    }
}

Describe 'Units' {
    It 'shows image sizes in MB of 10^6 bytes' {
        $lines = Render (Get-ContainerImage busybox)
        $lines[2] -match '(?<n>[\d.]+) (?<u>kB|MB|GB)$' | Should -BeTrue
        $factor = @{ kB = 1e3; MB = 1e6; GB = 1e9 }[$Matches.u]
        # three significant digits, as podman prints them
        [math]::Abs([double]$Matches.n * $factor - $image.Size) / $image.Size | Should -BeLessOrEqual 0.005
    }
}
