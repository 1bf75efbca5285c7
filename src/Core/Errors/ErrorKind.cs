namespace Containers.Core.Errors;

/// <summary>
/// What went wrong, in terms a caller can act on. The cmdlet layer maps each kind to a PowerShell
/// ErrorCategory; Core never references PowerShell.
/// </summary>
public enum ErrorKind
{
    NotFound,
    AlreadyExists,
    InvalidArgument,
    InvalidData,
    InvalidState,
    PermissionDenied,
    AuthenticationFailed,
    ConnectionFailed,
    Timeout,
    ResourceUnavailable,
    NotSupported,
    PolicyViolation,
    LimitExceeded,
    OperationStopped,
    Internal,
}
