using System.Text.Json;
using Containers.Core.Runtime.Plan;

namespace Containers.Init;

/// <summary>The shared JSON context, written on one line (the probe's output; the handshake is PlanWriter's).</summary>
internal static class OneLine
{
    private static readonly PlanJsonContext Context = new(new JsonSerializerOptions(PlanJsonContext.Default.Options) { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    public static System.Text.Json.Serialization.Metadata.JsonTypeInfo<FeatureProbe> FeatureProbe => Context.FeatureProbe;
}
