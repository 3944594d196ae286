using System.Text.Json.Serialization;

namespace CustomerData.Api.Contract;

/// <summary>The envelope of every answer (SPEC §7): <c>{"status", "message", "data"}</c>, in that order.</summary>
public sealed record ApiEnvelope<T>(
    [property: JsonPropertyOrder(0)] string Status,
    [property: JsonPropertyOrder(1)] string Message,
    [property: JsonPropertyOrder(2)] T Data);

/// <summary>The empty <c>data</c> object of an error answer.</summary>
public sealed record EmptyData
{
    public static readonly EmptyData Instance = new();
}

/// <summary>An error answer: <c>{"status":"error","message":"not-found","data":{}}</c>.</summary>
public sealed record ErrorEnvelope(
    [property: JsonPropertyOrder(0)] string Status,
    [property: JsonPropertyOrder(1)] string Message,
    [property: JsonPropertyOrder(2)] EmptyData Data)
{
    public static ErrorEnvelope For(string message) => new("error", message, EmptyData.Instance);
}

public static class ApiEnvelope
{
    public static ApiEnvelope<T> Success<T>(string message, T data) => new("success", message, data);
}

/// <summary>The messages of the contract (SPEC §7, §9, §10). Each is asserted byte for byte by a test.</summary>
public static class ApiMessages
{
    public const string CustomerFound = "Customer profile retrieved successfully";
    public const string SummariesFound = "Daily transaction summaries retrieved successfully";
    public const string SummaryFound = "Daily transaction summary retrieved successfully";
    public const string CustomerSummariesFound = "Customer daily summaries retrieved successfully";
    public const string EventsFound = "Customer events retrieved successfully";
    public const string QualityFound = "Data quality retrieved successfully";
    public const string PipelineQualityFound = "Pipeline data quality retrieved successfully";

    public const string NotFound = "not-found";
    public const string InvalidCustomerId = "invalid_customer_id";
    public const string InvalidDateFormat = "invalid_date_format";
    public const string InvalidFromDate = "invalid_fromDate_format";
    public const string InvalidToDate = "invalid_toDate_format";
    public const string InvalidDateRange = "invalid_date_range";
    public const string InvalidLimit = "invalid_limit";
    public const string InvalidRequest = "invalid_request";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string RateLimited = "rate_limited";
    public const string InternalError = "internal_error";
    public const string Unavailable = "unavailable";
}
