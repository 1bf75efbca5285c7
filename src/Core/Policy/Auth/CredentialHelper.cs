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
internal static class CredentialHelper
{
    private static readonly Serilog.ILogger Log = ModuleLog.For<RegistryCredential>();

    /// <summary>How long a helper may take (it may unlock a keyring).</summary>
    public static TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    public const string NotFoundMessage = "credentials not found in native keychain";

    /// <summary>Saves a login through the helper ("store", JSON on stdin), as podman login does when the auth file names a helper for the host.</summary>
    public static void Store(string helper, string host, string userName, string secret, string sourceFile)
    {
        string json = JsonSerializer.Serialize(new Dictionary<string, string> { ["ServerURL"] = host, ["Username"] = userName, ["Secret"] = secret });
        var (exit, output) = Run(helper, "store", json, host, sourceFile);
        if (exit != 0)
            throw PolicyErrors.HelperFailed(helper, ErrorKind.AuthenticationFailed, $"docker-credential-{helper} store failed for {host} (exit {exit}): {output}");
        Log.Information("Saved the login of {User} for {Host} with docker-credential-{Helper}", userName, host, helper);
    }

    /// <summary>Removes a login through the helper ("erase"); false when it had none.</summary>
    public static bool Erase(string helper, string host, string sourceFile)
    {
        var (exit, output) = Run(helper, "erase", host, host, sourceFile);
        if (exit == 0) return true;
        if (output.Contains(NotFoundMessage, StringComparison.Ordinal)) return false;
        throw PolicyErrors.HelperFailed(helper, ErrorKind.AuthenticationFailed, $"docker-credential-{helper} erase failed for {host} (exit {exit}): {output}");
    }

    private static (int Exit, string Output) Run(string helper, string verb, string input, string host, string sourceFile)
    {
        using var process = Start(helper, verb, host, sourceFile);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(Timeout))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw PolicyErrors.HelperFailed(helper, ErrorKind.Timeout, $"docker-credential-{helper} {verb} did not answer for {host} within {Timeout.TotalSeconds:0} s.");
        }
        string output = stdout.GetAwaiter().GetResult().Trim(), errors = stderr.GetAwaiter().GetResult().Trim();
        return (process.ExitCode, output.Length > 0 ? output : errors);
    }

    private static Process Start(string helper, string verb, string host, string sourceFile)
    {
        if (string.IsNullOrWhiteSpace(helper) || helper.Contains('/') || helper.Contains('\0'))
            throw PolicyErrors.HelperInvalid(sourceFile, host, helper);
        string program = "docker-credential-" + helper;
        try
        {
            return Process.Start(new ProcessStartInfo(program, [verb])
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            })!;
        }
        catch (Win32Exception e)
        {
            throw PolicyErrors.HelperNotFound(sourceFile, program, host, e);
        }
    }

    /// <summary>The credential the helper holds for the host, or null when it has none.</summary>
    public static RegistryCredential? Get(string helper, string host, string sourceFile)
    {
        string program = "docker-credential-" + helper;
        var (exit, output) = Run(helper, "get", host, host, sourceFile);
        if (exit != 0)
        {
            if (output.Contains(NotFoundMessage, StringComparison.Ordinal))
            {
                Log.Debug("{Program} has no credentials for {Host}", program, host);
                return null;
            }
            throw PolicyErrors.HelperFailed(program, ErrorKind.AuthenticationFailed, $"{program} get failed for {host} (exit {exit}): {output}");
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
            throw PolicyErrors.HelperFailed(program, ErrorKind.InvalidData, $"{program} get answered for {host} with something that is not a credential: {e.Message}", e);
        }
    }
}
