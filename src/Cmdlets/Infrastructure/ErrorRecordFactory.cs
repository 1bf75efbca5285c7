using System.Management.Automation;
using Containers.Core.Errors;

namespace Containers.Cmdlets.Infrastructure;

/// <summary>Turns Core's typed failures into ErrorRecords with a stable id, a real category and the target.</summary>
public static class ErrorRecordFactory
{
    public static ErrorRecord From(ContainersException e)
    {
        var record = new ErrorRecord(e, e.ErrorId, CategoryOf(e.Kind), e.Target);
        if (e.RecommendedAction is not null)
            record.ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = e.RecommendedAction };
        return record;
    }

    public static ErrorRecord From(Exception e, string errorId, ErrorCategory category, object? target) =>
        e is ContainersException typed ? From(typed) : new ErrorRecord(e, errorId, category, target);

    public static ErrorCategory CategoryOf(ErrorKind kind) => kind switch
    {
        ErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        ErrorKind.AlreadyExists => ErrorCategory.ResourceExists,
        ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        ErrorKind.InvalidData => ErrorCategory.InvalidData,
        ErrorKind.InvalidState => ErrorCategory.InvalidOperation,
        ErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        ErrorKind.AuthenticationFailed => ErrorCategory.AuthenticationError,
        ErrorKind.ConnectionFailed => ErrorCategory.ConnectionError,
        ErrorKind.Timeout => ErrorCategory.OperationTimeout,
        ErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        ErrorKind.NotSupported => ErrorCategory.NotImplemented,
        ErrorKind.PolicyViolation => ErrorCategory.SecurityError,
        ErrorKind.LimitExceeded => ErrorCategory.LimitsExceeded,
        ErrorKind.OperationStopped => ErrorCategory.OperationStopped,
        _ => ErrorCategory.NotSpecified,
    };
}
