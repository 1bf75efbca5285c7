using System.Text.Json.Serialization;

namespace Containers.Core.Runtime.Plan;

/// <summary>
/// Source-generated JSON for everything Core and Init exchange (no reflection: Init is NativeAOT).
/// camelCase names, nulls omitted when writing, unknown members ignored when reading (a bundle written
/// by another tool may carry more of the runtime-spec than we model).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(RuntimeSpec))]
[JsonSerializable(typeof(RuntimeProcess))]
[JsonSerializable(typeof(LaunchPlan))]
[JsonSerializable(typeof(ContainerRuntimeState))]
[JsonSerializable(typeof(LaunchResult))]
[JsonSerializable(typeof(FeatureProbe))]
[JsonSerializable(typeof(HealthState))]
internal sealed partial class PlanJsonContext : JsonSerializerContext
{
}
