using System.Text.Encodings.Web;
using System.Text.Json;

namespace Containers.Core.Runtime.Plan;

/// <summary>
/// What the monitor writes on its start path, with <see cref="Utf8JsonWriter"/> alone: the bytes
/// <see cref="PlanJsonContext"/> would write (camelCase, nulls omitted, indented) without the serializer's metadata,
/// whose construction cost the monitor more CPU than the state file itself (see <see cref="PlanReader"/>).
/// </summary>
internal static class PlanWriter
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true };

    /// <summary><c>state.json</c>, as <c>PlanJsonContext.Default.ContainerRuntimeState</c> writes it.</summary>
    public static void WriteState(Stream stream, ContainerRuntimeState s)
    {
        using var w = new Utf8JsonWriter(stream, Indented);
        w.WriteStartObject();
        w.WriteNumber("version"u8, s.Version);
        w.WriteString("containerId"u8, s.ContainerId);
        w.WriteString("status"u8, s.Status switch { ContainerStatus.Created => "created", ContainerStatus.Running => "running", _ => "stopped" });
        w.WriteNumber("pid"u8, s.Pid);
        w.WriteNumber("pidStartTime"u8, s.PidStartTime);
        w.WriteNumber("monitorPid"u8, s.MonitorPid);
        if (s.StartedAt is { } started) w.WriteString("startedAt"u8, started);
        if (s.FinishedAt is { } finished) w.WriteString("finishedAt"u8, finished);
        if (s.ExitCode is { } exit) w.WriteNumber("exitCode"u8, exit);
        if (s.Signal is { } signal) w.WriteNumber("signal"u8, signal);
        w.WriteBoolean("oomKilled"u8, s.OomKilled);
        if (s.BootId is not null) w.WriteString("bootId"u8, s.BootId);
        if (s.Error is not null) w.WriteString("error"u8, s.Error);
        if (s.BundleDir is not null) w.WriteString("bundleDir"u8, s.BundleDir);
        if (s.CgroupProcsFiles is not null)
        {
            w.WriteStartArray("cgroupProcsFiles"u8);
            foreach (string f in s.CgroupProcsFiles) w.WriteStringValue(f);
            w.WriteEndArray();
        }
        w.WriteNumber("restartCount"u8, s.RestartCount);
        w.WriteBoolean("restartPending"u8, s.RestartPending);
        w.WriteNumber("networkHelperPid"u8, s.NetworkHelperPid);
        w.WriteNumber("networkHelperStartTime"u8, s.NetworkHelperStartTime);
        w.WriteEndObject();
    }

    /// <summary>The handshake line (without its newline), as Init's one-line context writes it: <c>error</c> always,
    /// other nulls omitted, non-ASCII text as is.</summary>
    public static byte[] LaunchResult(LaunchResult r)
    {
        var buffer = new MemoryStream(128);
        // Only a failed start has text to write: the relaxed encoder's construction (its table of allowed ranges, built in
        // this class's static constructor before) cost every start a tenth of a millisecond before its handshake.
        var options = r.Error is null && r.ErrorId is null ? default : new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var w = new Utf8JsonWriter(buffer, options))
        {
            w.WriteStartObject();
            w.WriteNumber("pid"u8, r.Pid);
            w.WriteNumber("monitorPid"u8, r.MonitorPid);
            if (r.Error is null) w.WriteNull("error"u8);
            else w.WriteString("error"u8, r.Error);
            if (r.ErrorId is not null) w.WriteString("errorId"u8, r.ErrorId);
            if (r.ExitCode is { } code) w.WriteNumber("exitCode"u8, code);
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
