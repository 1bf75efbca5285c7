using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using Containers.Core.Errors;
using Containers.Core.Logging;

namespace Containers.Core.Policy;

/// <summary>
/// Runs a docker credential helper (docker-credential-&lt;name&gt; from PATH), as containers/image does for
/// a credHelpers entry of an auth file: "get" with the registry host on stdin, and on stdout
/// {"ServerURL":…,"Username":…,"Secret":…}; Username "&lt;token&gt;" means Secret is an identity token.
/// "credentials not found" means no login, anything else failing is an error. It is the admin's
/// configured program; it is asked only for the one host the credential will be sent to.
/// </summary>
public static class CredentialHelper
{
    private static readonly Serilog.ILogger Log = ModuleLog.For<RegistryCredential>();

    /// <summary>How long a helper may take (it may unlock a keyring).</summary>
    public static TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    public const string NotFoundMessage = "credentials not found in native keychain";

    /// <summary>The credential the helper holds for the host, or null when it has none.</summary>
    public static RegistryCredential? Get(string helper, string host, string sourceFile)
    {
        if (string.IsNullOrWhiteSpace(helper) || helper.Contains('/') || helper.Contains('\0'))
            throw new ContainersException("CredentialHelperInvalid", ErrorKind.InvalidData,
                $"{sourceFile}: the credHelpers entry for {host} ('{helper}') is not a helper name.", sourceFile);
        string program = "docker-credential-" + helper;
        var start = new ProcessStartInfo(program, ["get"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        Process process;
        try { process = Process.Start(start)!; }
        catch (Win32Exception e)
        {
            throw new ContainersException("CredentialHelperNotFound", ErrorKind.NotFound,
                $"{sourceFile} names the credential helper {program} for {host}, but it cannot be run: {e.Message}", program,
                $"Install {program} on PATH, or remove the credHelpers entry for {host}.", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardInput.Write(host);
            process.StandardInput.Close();
            if (!process.WaitForExit(Timeout))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                throw new ContainersException("CredentialHelperFailed", ErrorKind.Timeout, $"{program} get did not answer for {host} within {Timeout.TotalSeconds:0} s.", program);
            }
            string output = stdout.GetAwaiter().GetResult().Trim(), errors = stderr.GetAwaiter().GetResult().Trim();
            if (process.ExitCode != 0)
            {
                if (output.Contains(NotFoundMessage, StringComparison.Ordinal) || errors.Contains(NotFoundMessage, StringComparison.Ordinal))
                {
                    Log.Debug("{Program} has no credentials for {Host}", program, host);
                    return null;
                }
                throw new ContainersException("CredentialHelperFailed", ErrorKind.AuthenticationFailed,
                    $"{program} get failed for {host} (exit {process.ExitCode}): {(output.Length > 0 ? output : errors)}", program);
            }
            try
            {
                using var doc = JsonDocument.Parse(output);
                string user = doc.RootElement.GetProperty("Username").GetString() ?? "";
                string secret = doc.RootElement.GetProperty("Secret").GetString() ?? "";
                Log.Debug("Credentials for {Host} from {Program}", host, program);
                return user == "<token>"
                    ? new RegistryCredential { Key = host, Host = host, UserName = "", Password = "", IdentityToken = secret, SourceFile = $"{sourceFile} ({program})" }
                    : new RegistryCredential { Key = host, Host = host, UserName = user, Password = secret, SourceFile = $"{sourceFile} ({program})" };
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new ContainersException("CredentialHelperFailed", ErrorKind.InvalidData, $"{program} get answered for {host} with something that is not a credential: {e.Message}", program, null, e);
            }
        }
    }
}
