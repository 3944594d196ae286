using System.Text.Json.Serialization;

namespace CustomerData.Api.Contract;

/// <summary><c>GET /customer/{id}</c>: one row of Cassandra's <c>customer_profile</c>.</summary>
public sealed record CustomerProfileDto(
    [property: JsonPropertyOrder(0)] int CustomerId,
    [property: JsonPropertyOrder(1)] string? Name,
    [property: JsonPropertyOrder(2)] string? Email,
    [property: JsonPropertyOrder(3)] string? Gender,
    [property: JsonPropertyOrder(4), JsonConverter(typeof(MoneyJsonConverter))] decimal? TotalSpend,
    [property: JsonPropertyOrder(5)] int? TotalTransactions,
    [property: JsonPropertyOrder(6), JsonConverter(typeof(MoneyJsonConverter))] decimal? AvgOrderValue,
    [property: JsonPropertyOrder(7), JsonConverter(typeof(InstantJsonConverter))] DateTimeOffset? FirstPurchase,
    [property: JsonPropertyOrder(8), JsonConverter(typeof(InstantJsonConverter))] DateTimeOffset? LastPurchase,
    [property: JsonPropertyOrder(9)] string? FavoriteCategory);

/// <summary>One row of the daily summary lake, with its partition's date.</summary>
public sealed record DailySummaryDto(
    [property: JsonPropertyOrder(0), JsonConverter(typeof(DayJsonConverter))] DateOnly Date,
    [property: JsonPropertyOrder(1)] int CustomerId,
    [property: JsonPropertyOrder(2), JsonConverter(typeof(MoneyJsonConverter))] decimal TotalAmount,
    [property: JsonPropertyOrder(3)] int TotalItems,
    [property: JsonPropertyOrder(4)] int DistinctProducts,
    [property: JsonPropertyOrder(5)] string TopCategory);

public sealed record SummariesData(IReadOnlyList<DailySummaryDto> Summaries);

public sealed record SummaryData(DailySummaryDto Summary);

/// <summary>One event of the events lake, with its partition's date. Timestamps keep their microseconds.</summary>
public sealed record CustomerEventDto(
    [property: JsonPropertyOrder(0), JsonConverter(typeof(DayJsonConverter))] DateOnly Date,
    [property: JsonPropertyOrder(1)] string EventId,
    [property: JsonPropertyOrder(2)] int CustomerId,
    [property: JsonPropertyOrder(3)] string EventType,
    [property: JsonPropertyOrder(4)] int? ProductId,
    [property: JsonPropertyOrder(5), JsonConverter(typeof(InstantJsonConverter))] DateTimeOffset EventTimestamp,
    [property: JsonPropertyOrder(6), JsonConverter(typeof(InstantJsonConverter))] DateTimeOffset IngestionTimestamp);

public sealed record EventsData(IReadOnlyList<CustomerEventDto> Events);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(ApiEnvelope<CustomerProfileDto>))]
[JsonSerializable(typeof(ApiEnvelope<SummariesData>))]
[JsonSerializable(typeof(ApiEnvelope<SummaryData>))]
[JsonSerializable(typeof(ApiEnvelope<EventsData>))]
[JsonSerializable(typeof(ApiEnvelope<PlatformQualityData>))]
[JsonSerializable(typeof(ApiEnvelope<PipelineQualityStatus>))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
