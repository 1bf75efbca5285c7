using System.Management.Automation;
using Containers.Cmdlets.Completion;
using Containers.Cmdlets.Infrastructure;
using Containers.Core.Images;

namespace Containers.Cmdlets.Commands.Image;

/// <summary>Lists images in the local store: by name (wildcards), id, digest, or the dangling ones.</summary>
[Cmdlet(VerbsCommon.Get, "ContainerImage", DefaultParameterSetName = NameSet)]
[OutputType(typeof(ContainerImage))]
public sealed class GetContainerImageCommand : ContainersCmdlet
{
    public const string NameSet = "Name";
    public const string IdSet = "Id";
    public const string DigestSet = "Digest";

    [Parameter(ParameterSetName = NameSet, Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ImageNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Id { get; set; } = [];

    [Parameter(ParameterSetName = DigestSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Digest { get; set; } = [];

    /// <summary>Only images without any name.</summary>
    [Parameter(ParameterSetName = NameSet)]
    public SwitchParameter Dangling { get; set; }

    private ImageStore? _store;
    private IReadOnlyList<StoredImage>? _all;
    private readonly HashSet<string> _written = new(StringComparer.Ordinal);

    protected override void ProcessRecord()
    {
        _store ??= Run(_ => Task.FromResult(Services.OpenImageStore()));
        _all ??= Run(ct => _store.ListAsync(ct));
        switch (ParameterSetName)
        {
            case IdSet:
                foreach (string id in Id) Lookup(id);
                break;
            case DigestSet:
                foreach (string d in Digest) Lookup(d);
                break;
            default:
                if (Name is null)
                {
                    foreach (var image in _all) if (!Dangling || image.IsDangling) Emit(image);
                    break;
                }
                foreach (string name in Name)
                {
                    if (WildcardPattern.ContainsWildcardCharacters(name))
                    {
                        var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                        foreach (var image in _all)
                            if (!Dangling || image.IsDangling) Emit(image, n => NameMatches(pattern, n));
                    }
                    else Lookup(name);
                }
                break;
        }
    }

    /// <summary>A pattern matches a full name, the name without its registry, or its last path component.</summary>
    private static bool NameMatches(WildcardPattern pattern, string name)
    {
        if (pattern.IsMatch(name)) return true;
        int slash = name.IndexOf('/');
        if (slash > 0 && pattern.IsMatch(name[(slash + 1)..])) return true;
        int last = name.LastIndexOf('/');
        string tail = name[(last + 1)..];
        return pattern.IsMatch(tail) || pattern.IsMatch(ImageStore.SplitName(tail).Repository);
    }

    private void Lookup(string what)
    {
        if (!TryRun(async ct =>
            {
                var image = await _store!.FindAsync(what, ct).ConfigureAwait(false);
                if (image is null) throw ImageStoreErrors.NotFound(what);
                // By a name: that name's row; by an id or digest (no name matches): every row of the image.
                var literal = new WildcardPattern(WildcardPattern.Escape(what), WildcardOptions.IgnoreCase);
                Func<string, bool>? byName = image.Names.Any(n => NameMatches(literal, n)) ? n => NameMatches(literal, n) : null;
                Post(() => Emit(image, byName));
            }))
        { }
    }

    /// <summary>Writes the image's rows (one per name, as podman images does), those whose name passes <paramref name="rows"/> if given.</summary>
    private void Emit(StoredImage image, Func<string, bool>? rows = null)
    {
        foreach (var row in ContainerImage.Rows(image))
            if ((rows is null || row.Name is null || rows(row.Name)) && _written.Add(image.Id + " " + row.Name)) WriteObject(row);
    }
}
