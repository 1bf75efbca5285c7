namespace Containers.Core.Errors;

/// <summary>
/// The one exception type Core throws for failures a user can act on. It carries a stable
/// PascalCase error id (tests assert on it), a kind, the object it concerns and what to do next.
/// </summary>
public class ContainersException : Exception
{
    public ContainersException(string errorId, ErrorKind kind, string message, object? target = null,
        string? recommendedAction = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
        RecommendedAction = recommendedAction;
    }

    /// <summary>Stable PascalCase id, e.g. "ImageNotFound".</summary>
    public string ErrorId { get; }
    public ErrorKind Kind { get; }
    /// <summary>The name, reference, path or object the failure concerns.</summary>
    public object? Target { get; }
    /// <summary>What the user should do about it, in one sentence.</summary>
    public string? RecommendedAction { get; }
}
