# Workloads as an admin runs them: a web server with a bind-mounted configuration reached from the host on a free
# loopback port, data on a named volume that outlives its containers, and input piped into a process's stdin. First on
# the busybox fixture (its httpd and sh), then on a Debian 12 image with PostgreSQL and nginx that the fixture builds
# with mmdebstrap from this host's apt mirror (Fixtures/DebianImage.psm1; cached outside the repository, a few minutes
# the first time).
BeforeDiscovery { $script:isRoot = (id -u) -eq '0' }
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:root = New-TestRoot -Name workloads
    Import-Module (Get-TestModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/BusyboxImage.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Fixtures/Registry.psm1') -Force
    $null = Import-BusyboxImage
    function script:Wait-Http([string] $Url, [string[]] $CurlArgs = @()) {
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while ([DateTime]::UtcNow -lt $deadline) {
            $code = & curl -s -o /dev/null -w '%{http_code}' @CurlArgs $Url
            if ($code -ne '000') { return $code }
            Start-Sleep -Milliseconds 100
        }
        return '000'
    }
}

AfterAll {
    Get-Container -ErrorAction SilentlyContinue | Remove-Container -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-ContainerVolume -ErrorAction SilentlyContinue | Remove-ContainerVolume -Force -Confirm:$false -ErrorAction SilentlyContinue
    Remove-TestRoot $script:root
}

Describe 'A web server with a bind-mounted configuration, data on a named volume, input from the pipeline' -Skip:(-not $isRoot) {
    It 'serves what a piped script wrote to a volume, with the host''s configuration, and keeps the data after removal' {
        # The configuration from the host: basic auth on /, so a served page proves the file was read.
        $conf = Join-Path $root 'conf'
        New-Item -ItemType Directory $conf | Out-Null
        Set-Content (Join-Path $conf 'httpd.conf') '/:admin:secret'
        # The data: written by a script piped into sh inside a first container, onto a new named volume.
        $loader = New-Container busybox -Name loader -Volume site:/www -Command sleep, 600 | Start-Container -PassThru
        "mkdir -p /www/data`necho 'rows: 3' > /www/data/db.txt`necho '<h1>ok</h1>' > /www/index.html" | Invoke-ContainerCommand loader -Command sh
        $LASTEXITCODE | Should -Be 0
        Remove-Container $loader.Name -Force -Confirm:$false
        (Get-ContainerVolume site).InUseBy | Should -BeNullOrEmpty

        $port = Get-FreePort
        $web = New-Container busybox -Name web -Network host -Volume site:/www:ro, "${conf}:/etc/httpd:ro" `
            -Command busybox, httpd, -f, -p, "127.0.0.1:$port", -h, /www, -c, /etc/httpd/httpd.conf | Start-Container -PassThru
        Wait-Http "http://127.0.0.1:$port/" | Should -Be '401'
        & curl -s -u admin:secret "http://127.0.0.1:$port/data/db.txt" | Should -Be 'rows: 3'
        & curl -s -u admin:secret "http://127.0.0.1:$port/" | Should -Be '<h1>ok</h1>'
        Remove-Container $web.Name -Force -Confirm:$false

        # The data outlived both containers; a new one reads it.
        Invoke-ContainerImage busybox -Remove -Volume site:/www -Command cat, /www/data/db.txt | Should -Be 'rows: 3'
    }
}

Describe 'Debian 12: PostgreSQL and nginx' -Skip:(-not $isRoot) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'Fixtures/DebianImage.psm1') -Force
        $script:debian = Import-DebianWorkloadImage
        $script:pg = '/usr/lib/postgresql/15/bin'
    }

    It 'runs PostgreSQL with its data on a named volume that outlives the container, fed a dump through the pipeline' {
        $port = Get-FreePort
        # The image's /var/lib/postgresql (owned by postgres) is copied up into the new volume; the cluster goes inside it.
        $start = "[ -f /var/lib/postgresql/data/PG_VERSION ] || $pg/initdb -D /var/lib/postgresql/data -A trust -U postgres >/dev/null; exec $pg/postgres -D /var/lib/postgresql/data -p $port -k /tmp -c listen_addresses=127.0.0.1"
        New-Container $debian -Name db -Network host -User postgres -Volume pglib:/var/lib/postgresql -Command sh, -c, $start | Start-Container | Out-Null
        $volume = (Get-ContainerVolume pglib).Mountpoint
        $postgresUid = Invoke-ContainerCommand db -Command id, -u
        & stat -c %u $volume | Should -Be $postgresUid -Because 'the copy-up kept the image''s owner of /var/lib/postgresql'
        $psql = 'psql', '-X', '-q', '-t', '-A', '-h', '127.0.0.1', '-p', "$port", '-U', 'postgres'
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        do { $ready = Invoke-ContainerImage $debian -Remove -Network host -Command @($psql + '-c', 'select 1') 2>$null } until ($ready -eq '1' -or [DateTime]::UtcNow -gt $deadline)
        $ready | Should -Be '1'

        "create table t (x int);`ninsert into t values (1), (2), (3);" | Invoke-ContainerCommand db -Command $psql
        $LASTEXITCODE | Should -Be 0
        # A client over the host's network (a second container with -Network host) sees the rows.
        Invoke-ContainerImage $debian -Remove -Network host -Command @($psql + '-c', 'select sum(x) from t') | Should -Be '6'

        Remove-Container db -Force -Confirm:$false
        New-Container $debian -Name db2 -Network host -User postgres -Volume pglib:/var/lib/postgresql -Command sh, -c, $start | Start-Container | Out-Null
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        do { $sum = Invoke-ContainerCommand db2 -Command @($psql + '-c', 'select sum(x) from t') 2>$null } until ($sum -eq '6' -or [DateTime]::UtcNow -gt $deadline)
        $sum | Should -Be '6'
        Remove-Container db2 -Force -Confirm:$false
    }

    It 'runs nginx with a bind-mounted configuration reached by curl on a free loopback port' {
        $port = Get-FreePort
        $conf = Join-Path $root 'nginx.conf'
        Set-Content $conf "daemon off; pid /tmp/nginx.pid; error_log stderr; events {} http { access_log off; server { listen 127.0.0.1:$port; location / { return 200 'from-bind-mounted-config'; } } }"
        New-Container $debian -Name web -Network host -Volume "${conf}:/etc/nginx/nginx.conf:ro" -Command nginx | Start-Container | Out-Null
        Wait-Http "http://127.0.0.1:$port/" | Should -Be '200'
        & curl -s "http://127.0.0.1:$port/" | Should -Be 'from-bind-mounted-config'
        Remove-Container web -Force -Confirm:$false
    }
}
