using System.Text;

namespace Containers.Cmdlets.Infrastructure;

/// <summary>
/// One piece of a process's standard input: a line of text or bytes. A parameter of this type binds strings, numbers
/// and bytes from the pipeline (PowerShell converts them through these constructors) but never a Container, which
/// binds without conversion to -InputObject first: <c>Get-Content dump.sql | Invoke-ContainerCommand db -Command psql</c>
/// and <c>Get-Container | Invoke-ContainerCommand -Command ...</c> both keep working.
/// </summary>
public sealed class ContainerStandardInput
{
    /// <summary>A line: written with a newline after it, as PowerShell pipes text to a native command.</summary>
    public ContainerStandardInput(string line) => Bytes = Encoding.UTF8.GetBytes(line + "\n");

    /// <summary>Bytes, written as they are (<c>Get-Content -AsByteStream -Raw</c>).</summary>
    public ContainerStandardInput(byte[] bytes) => Bytes = bytes;

    /// <summary>One byte (<c>Get-Content -AsByteStream</c> pipes them one by one).</summary>
    public ContainerStandardInput(byte value) => Bytes = [value];

    public byte[] Bytes { get; }
}
