<#
.SYNOPSIS
    Builds the module's MAML help from docs/en-US/<Verb-Noun>.md and checks it against the cmdlets.
.DESCRIPTION
    platyPS is not in the package registry, so this converts the markdown itself. Syntax, parameter
    types, positions and pipeline binding come from the built module's metadata (they cannot drift);
    synopsis, description, examples and parameter descriptions come from the markdown. The build fails
    when a cmdlet has no page, a page has no synopsis or example, or a parameter is undocumented.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $DocsPath
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$module = Import-Module (Join-Path $ModulePath 'Containers.psd1') -PassThru -Force
$commonParameters = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

function ConvertFrom-HelpMarkdown([string] $Path) {
    # Splits a platyPS-style page into its "## SECTION" blocks and their "### sub" blocks.
    $page = @{ Sections = [ordered]@{} }
    $section = $null; $buffer = [System.Collections.Generic.List[string]]::new()
    $inFence = $false
    foreach ($line in (Get-Content $Path)) {
        if ($line -match '^```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^## (.+)$') {
            if ($section) { $page.Sections[$section] = $buffer.ToArray() }
            $section = $Matches[1].Trim().ToUpperInvariant(); $buffer.Clear(); continue
        }
        if ($section) { $buffer.Add($line) }
    }
    if ($section) { $page.Sections[$section] = $buffer.ToArray() }
    return $page
}

function Split-Subsections([string[]] $Lines) {
    $result = [ordered]@{}; $name = $null; $buffer = [System.Collections.Generic.List[string]]::new(); $inFence = $false
    foreach ($line in $Lines) {
        if ($line -match '^```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^### (.+)$') {
            if ($name) { $result[$name] = $buffer.ToArray() }
            $name = $Matches[1].Trim(); $buffer.Clear(); continue
        }
        if ($name) { $buffer.Add($line) }
    }
    if ($name) { $result[$name] = $buffer.ToArray() }
    return $result
}

function Get-Paragraphs([string[]] $Lines) {
    # Prose paragraphs, without fenced blocks.
    $paras = [System.Collections.Generic.List[string]]::new(); $current = @(); $inFence = $false
    foreach ($line in $Lines) {
        if ($line -match '^```') { $inFence = -not $inFence; continue }
        if ($inFence) { continue }
        if ($line.Trim() -eq '') { if ($current) { $paras.Add(($current -join ' ')); $current = @() } }
        else { $current += $line.Trim() }
    }
    if ($current) { $paras.Add(($current -join ' ')) }
    return , $paras.ToArray()
}

function Get-Fences([string[]] $Lines) {
    $fences = [System.Collections.Generic.List[string]]::new(); $current = $null
    foreach ($line in $Lines) {
        if ($line -match '^```') {
            if ($null -eq $current) { $current = [System.Collections.Generic.List[string]]::new() }
            else { $fences.Add(($current -join "`n")); $current = $null }
            continue
        }
        if ($null -ne $current) { $current.Add($line) }
    }
    return , $fences.ToArray()
}

$problems = [System.Collections.Generic.List[string]]::new()
$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
$helpDir = Join-Path $ModulePath 'en-US'
New-Item -ItemType Directory -Path $helpDir -Force | Out-Null
$helpFile = Join-Path $helpDir 'Containers.dll-Help.xml'
$w = [System.Xml.XmlWriter]::Create($helpFile, $settings)
$maml = 'http://schemas.microsoft.com/maml/2004/10'
$cmd = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$dev = 'http://schemas.microsoft.com/maml/dev/2004/10'

function Write-Para([string[]] $Paragraphs) {
    foreach ($p in $Paragraphs) { $w.WriteElementString('para', $maml, $p) }
}

# The type names Get-Command's syntax shows: <double> for a [Nullable[double]], <string[]>, <hashtable>.
$accelerators = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')::Get
function Get-TypeDisplayName([type] $Type) {
    if ($Type.IsArray) { return (Get-TypeDisplayName $Type.GetElementType()) + '[]' }
    $inner = [Nullable]::GetUnderlyingType($Type)
    if ($inner) { return Get-TypeDisplayName $inner }
    $alias = $accelerators.Keys | Where-Object { $_ -cmatch '^[a-z]+$' -and $accelerators[$_] -eq $Type } | Sort-Object Length | Select-Object -First 1
    if ($alias) { return $alias }
    return $Type.Name
}

function Write-Parameter($Parameter, $SetParameter, [string[]] $Description, [bool] $InSyntax) {
    $w.WriteStartElement('command', 'parameter', $cmd)
    $required = if ($SetParameter) { $SetParameter.IsMandatory } else { @($Parameter.ParameterSets.Values | Where-Object IsMandatory).Count -gt 0 }
    $positionValue = if ($SetParameter) { $SetParameter.Position } else { @($Parameter.ParameterSets.Values.Position | Sort-Object)[0] }
    $position = if ($positionValue -ge 0) { "$positionValue" } else { 'named' }
    $sets = if ($SetParameter) { @($SetParameter) } else { @($Parameter.ParameterSets.Values) }
    $byValue = @($sets | Where-Object ValueFromPipeline).Count -gt 0
    $byName = @($sets | Where-Object ValueFromPipelineByPropertyName).Count -gt 0
    $pipeline = if ($byValue -and $byName) { 'True (ByValue, ByPropertyName)' } elseif ($byValue) { 'True (ByValue)' } elseif ($byName) { 'True (ByPropertyName)' } else { 'False' }
    $globbing = @($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }).Count -gt 0
    $w.WriteAttributeString('required', "$required".ToLowerInvariant())
    $w.WriteAttributeString('variableLength', 'true')
    $w.WriteAttributeString('globbing', "$globbing".ToLowerInvariant())
    $w.WriteAttributeString('pipelineInput', $pipeline)
    $w.WriteAttributeString('position', $position)
    $w.WriteAttributeString('aliases', $(if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'none' }))
    $w.WriteElementString('name', $maml, $Parameter.Name)
    $w.WriteStartElement('maml', 'description', $maml); Write-Para $Description; $w.WriteEndElement()
    $typeName = Get-TypeDisplayName $Parameter.ParameterType
    if ($Parameter.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
        $w.WriteStartElement('command', 'parameterValue', $cmd)
        $w.WriteAttributeString('required', 'true'); $w.WriteAttributeString('variableLength', 'false')
        $w.WriteString($typeName); $w.WriteEndElement()
    }
    $w.WriteStartElement('dev', 'type', $dev); $w.WriteElementString('name', $maml, $typeName); $w.WriteEndElement()
    if (-not $InSyntax) { $w.WriteElementString('defaultValue', $dev, 'None') }
    $w.WriteEndElement()
}

$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')
foreach ($command in (Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name)) {
    $pagePath = Join-Path $DocsPath "$($command.Name).md"
    if (-not (Test-Path $pagePath)) { $problems.Add("$($command.Name): no help page $pagePath"); continue }
    $page = ConvertFrom-HelpMarkdown $pagePath
    $s = $page.Sections
    $synopsis = if ($s.Contains('SYNOPSIS')) { Get-Paragraphs $s['SYNOPSIS'] } else { @() }
    if (-not $synopsis) { $problems.Add("$($command.Name): no SYNOPSIS") }
    $examples = if ($s.Contains('EXAMPLES')) { Split-Subsections $s['EXAMPLES'] } else { [ordered]@{} }
    if ($examples.Count -eq 0) { $problems.Add("$($command.Name): no example") }
    $paramDocs = if ($s.Contains('PARAMETERS')) { Split-Subsections $s['PARAMETERS'] } else { [ordered]@{} }
    $ownParameters = @($command.Parameters.Values | Where-Object { $_.Name -notin $commonParameters })
    foreach ($p in $ownParameters) { if (-not $paramDocs.Contains("-$($p.Name)")) { $problems.Add("$($command.Name): parameter -$($p.Name) is not documented") } }
    foreach ($documented in $paramDocs.Keys) {
        if ($documented -ne 'CommonParameters' -and $documented.TrimStart('-') -notin $ownParameters.Name) { $problems.Add("$($command.Name): documents -$($documented.TrimStart('-')), which the cmdlet does not have") }
    }

    $w.WriteStartElement('command', 'command', $cmd)
    $w.WriteAttributeString('xmlns', 'maml', $null, $maml)
    $w.WriteAttributeString('xmlns', 'command', $null, $cmd)
    $w.WriteAttributeString('xmlns', 'dev', $null, $dev)
    $w.WriteStartElement('command', 'details', $cmd)
    $w.WriteElementString('name', $cmd, $command.Name)
    $w.WriteElementString('verb', $cmd, $command.Verb)
    $w.WriteElementString('noun', $cmd, $command.Noun)
    $w.WriteStartElement('maml', 'description', $maml); Write-Para $synopsis; $w.WriteEndElement()
    $w.WriteEndElement()
    $w.WriteStartElement('maml', 'description', $maml)
    Write-Para $(if ($s.Contains('DESCRIPTION')) { Get-Paragraphs $s['DESCRIPTION'] } else { @() })
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'syntax', $cmd)
    foreach ($set in $command.ParameterSets) {
        $w.WriteStartElement('command', 'syntaxItem', $cmd)
        $w.WriteElementString('name', $maml, $command.Name)
        foreach ($sp in ($set.Parameters | Where-Object { $_.Name -notin $commonParameters })) {
            $p = $command.Parameters[$sp.Name]
            $doc = if ($paramDocs.Contains("-$($p.Name)")) { Get-Paragraphs $paramDocs["-$($p.Name)"] } else { @() }
            Write-Parameter $p ($p.ParameterSets[$set.Name] ?? $p.ParameterSets['__AllParameterSets']) $doc $true
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $cmd)
    foreach ($p in $ownParameters) {
        $doc = if ($paramDocs.Contains("-$($p.Name)")) { Get-Paragraphs $paramDocs["-$($p.Name)"] } else { @() }
        Write-Parameter $p $null $doc $false
    }
    $w.WriteEndElement()

    foreach ($kind in @(@('INPUTS', 'inputTypes', 'inputType'), @('OUTPUTS', 'returnValues', 'returnValue'))) {
        $w.WriteStartElement('command', $kind[1], $cmd)
        if ($s.Contains($kind[0])) {
            $items = Split-Subsections $s[$kind[0]]
            foreach ($name in $items.Keys) {
                $w.WriteStartElement('command', $kind[2], $cmd)
                $w.WriteStartElement('dev', 'type', $dev); $w.WriteElementString('name', $maml, $name); $w.WriteEndElement()
                $w.WriteStartElement('maml', 'description', $maml); Write-Para (Get-Paragraphs $items[$name]); $w.WriteEndElement()
                $w.WriteEndElement()
            }
        }
        $w.WriteEndElement()
    }

    # Links to other pages (not web addresses) become a "Related:" note: any navigationLink makes Get-Help
    # offer -Online, which then fails for a page name, and the module has no online help to offer.
    $related = @(if ($s.Contains('RELATED LINKS')) { $s['RELATED LINKS'] | Where-Object { $_ -match '^\[(.+?)\]\((?!https?://)' } | ForEach-Object { $Matches[1] } })
    if ($s.Contains('NOTES') -or $related) {
        $w.WriteStartElement('maml', 'alertSet', $maml); $w.WriteStartElement('maml', 'alert', $maml)
        if ($s.Contains('NOTES')) { Write-Para (Get-Paragraphs $s['NOTES']) }
        if ($related) { Write-Para "Related: $($related -join ', ')." }
        $w.WriteEndElement(); $w.WriteEndElement()
    }

    $w.WriteStartElement('command', 'examples', $cmd)
    foreach ($title in $examples.Keys) {
        $w.WriteStartElement('command', 'example', $cmd)
        $w.WriteElementString('title', $maml, "-------------------------- $title --------------------------")
        $w.WriteElementString('code', $dev, ((Get-Fences $examples[$title]) -join "`n"))
        $w.WriteStartElement('dev', 'remarks', $dev); Write-Para (Get-Paragraphs $examples[$title]); $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $cmd)
    if ($s.Contains('RELATED LINKS')) {
        foreach ($line in $s['RELATED LINKS']) {
            if ($line -match '^\[(.+?)\]\((.*?)\)') {
                if ($Matches[2] -notmatch '^https?://') { continue }
                $w.WriteStartElement('maml', 'navigationLink', $maml)
                $w.WriteElementString('linkText', $maml, $Matches[1]); $w.WriteElementString('uri', $maml, $Matches[2])
                $w.WriteEndElement()
            }
        }
    }
    $w.WriteEndElement()
    $w.WriteEndElement() # command
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Close()

# about_ topics are plain text help files.
foreach ($about in Get-ChildItem $DocsPath -Filter 'about_*.md') {
    $text = (Get-Content $about.FullName) -replace '^#+\s*', '' -replace '```\w*', ''
    Set-Content -Path (Join-Path $helpDir ($about.BaseName + '.help.txt')) -Value $text
}

if ($problems.Count) {
    $problems | ForEach-Object { Write-Error $_ -ErrorAction Continue }
    throw "Help is incomplete: $($problems.Count) problem(s)"
}
Write-Host "help: $(@(Get-Command -Module $module.Name).Count) cmdlets documented -> $helpFile"
