using System.Text.Json.Serialization;

namespace CustomerData.Contracts.Quality;

/// <summary>
/// What a pipeline serves at <c>GET /quality</c> (and the Api reads back): its recent cycles' checks, newest first, the
/// totals since the process started, freshness and lag. The metrics on the pipeline's meter carry the same figures
/// under the same names (<c>quality.rows_checked</c>, <c>quality.rejects</c>, <c>quality.warnings</c>,
/// <c>quality.freshness_seconds</c>, <c>quality.lag</c>). Samples are masked: never an email or a name.
/// </summary>
/// <param name="Pipeline"><c>profile</c> (A), <c>summary</c> (B) or <c>events</c> (C).</param>
/// <param name="FreshnessSeconds">Age of the newest record the pipeline has written (its source time), null before it wrote any.</param>
/// <param name="NewestRecordAt">The source time of that record (A, B: txn_timestamp; C: the Kafka message time).</param>
/// <param name="Lag">A, B: transactions above the stored offset when the last cycle started; C: consumer lag (messages to the partitions' ends).</param>
/// <param name="LagUnit"><c>transactions</c> or <c>messages</c>.</param>
public sealed record PipelineQualityReport(
    [property: JsonPropertyOrder(0)] string Pipeline,
    [property: JsonPropertyOrder(1)] DateTime GeneratedAt,
    [property: JsonPropertyOrder(2)] double? FreshnessSeconds,
    [property: JsonPropertyOrder(3)] DateTime? NewestRecordAt,
    [property: JsonPropertyOrder(4)] long? Lag,
    [property: JsonPropertyOrder(5)] string LagUnit,
    [property: JsonPropertyOrder(6)] QualityTotals SinceStart,
    [property: JsonPropertyOrder(7)] IReadOnlyList<QualityCycle> Cycles);

/// <summary>Every recorded cycle's counts added up since the process started (what the <c>quality.*</c> counters hold).</summary>
public sealed record QualityTotals(
    [property: JsonPropertyOrder(0)] long Cycles,
    [property: JsonPropertyOrder(1)] long RowsChecked,
    [property: JsonPropertyOrder(2)] IReadOnlyList<QualityReasonCount> Rejects,
    [property: JsonPropertyOrder(3)] IReadOnlyList<QualityReasonCount> Warnings);

/// <summary>
/// The checks of one cycle (A, B) or committed batch (C). <paramref name="Rejects"/>: rows left out of the output (C:
/// messages set apart as malformed); <paramref name="Warnings"/>: rows kept with a default (A only).
/// </summary>
/// <param name="Kind"><c>incremental</c>, <c>rebuild</c>, <c>reconcile</c> (A, B) or <c>batch</c> (C).</param>
public sealed record QualityCycle(
    [property: JsonPropertyOrder(0)] string Kind,
    [property: JsonPropertyOrder(1)] DateTime StartedAt,
    [property: JsonPropertyOrder(2)] DateTime FinishedAt,
    [property: JsonPropertyOrder(3)] bool Succeeded,
    [property: JsonPropertyOrder(4)] long RowsChecked,
    [property: JsonPropertyOrder(5)] IReadOnlyList<QualityReasonCount> Rejects,
    [property: JsonPropertyOrder(6)] IReadOnlyList<QualityReasonCount> Warnings,
    [property: JsonPropertyOrder(7)] DateTime? NewestRecordAt,
    [property: JsonPropertyOrder(8)] long? Lag)
{
    /// <summary>Rows rejected in this cycle, every reason.</summary>
    [JsonIgnore]
    public long RejectCount => Rejects.Sum(r => r.Count);
}

/// <summary>One check's count with a few masked samples (ids and shapes, never personal values).</summary>
public sealed record QualityReasonCount(
    [property: JsonPropertyOrder(0)] string Reason,
    [property: JsonPropertyOrder(1)] long Count,
    [property: JsonPropertyOrder(2)] IReadOnlyList<string> Samples);

/// <summary>The JSON of <c>/quality</c> (snake_case, as the Api's), written by the pipelines and read by the Api.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(PipelineQualityReport))]
public sealed partial class QualityJsonContext : JsonSerializerContext;
