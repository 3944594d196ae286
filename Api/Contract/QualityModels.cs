using System.Text.Json.Serialization;
using CustomerData.Contracts.Quality;

namespace CustomerData.Api.Contract;

/// <summary><c>GET /quality</c>: every configured pipeline's report (or why it is missing) and the platform's summary.</summary>
public sealed record PlatformQualityData(
    [property: JsonPropertyOrder(0)] DateTime GeneratedAt,
    [property: JsonPropertyOrder(1)] PlatformQualitySummary Summary,
    [property: JsonPropertyOrder(2)] IReadOnlyList<PipelineQualityStatus> Pipelines);

/// <summary>
/// The platform at a glance: the stalest pipeline (largest <c>freshness_seconds</c>), each reachable pipeline's rejects
/// in the recent cycles its report holds, and the pipelines that did not answer.
/// </summary>
public sealed record PlatformQualitySummary(
    [property: JsonPropertyOrder(0)] WorstFreshness? WorstFreshness,
    [property: JsonPropertyOrder(1)] IReadOnlyDictionary<string, long> RejectsByPipeline,
    [property: JsonPropertyOrder(2)] IReadOnlyList<string> Unreachable);

public sealed record WorstFreshness(
    [property: JsonPropertyOrder(0)] string Pipeline,
    [property: JsonPropertyOrder(1)] double FreshnessSeconds);

/// <summary>One pipeline: <c>status</c> <c>ok</c> with its report, or <c>unreachable</c> with a reason and no report.</summary>
/// <param name="Reason"><c>timeout</c>, <c>connection_failed</c>, <c>http_503</c> (any status) or <c>invalid_response</c>; null when ok.</param>
public sealed record PipelineQualityStatus(
    [property: JsonPropertyOrder(0)] string Name,
    [property: JsonPropertyOrder(1)] string Status,
    [property: JsonPropertyOrder(2)] string? Reason,
    [property: JsonPropertyOrder(3)] PipelineQualityReport? Report)
{
    public const string Ok = "ok";
    public const string Unreachable = "unreachable";
}
