using CustomerData.Api.Contract;
using CustomerData.Api.Lake;
using System.Text.Json;
using CustomerData.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace CustomerData.Api.Apis;

/// <summary><c>GET /summary/{date}</c> and <c>GET /summary/{date}/{customerId}</c>: the daily summary lake (SPEC §7).</summary>
public static class SummaryApi
{
    public static IEndpointRouteBuilder MapSummaryApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/summary").WithTags("Daily summaries").WithCommonErrors()
            .RequireAuthorization(ApiScopes.AnalyticsRead).RequireRateLimiting(ApiSecurity.RateLimitPolicy);
        // A literal segment outranks a parameter: /summary/customer/7 is never read as a date.
        group.MapGet("/customer/{customerId}", GetCustomerSummaries)
            .WithName(nameof(GetCustomerSummaries))
            .WithSummary("One customer's summary of every day in a range")
            .WithDescription("The per-day series behind the Customer 360 page: oldest first. fromDate/toDate: inclusive UTC days (YYYY-MM-DD), both optional.");
        group.MapGet("/{date}", GetDailySummaries)
            .WithName(nameof(GetDailySummaries))
            .WithSummary("Every customer's summary of one day")
            .WithDescription("The day's partition of the summary lake (Pipeline B), ordered by customer_id. `date` is YYYY-MM-DD (UTC).");
        group.MapGet("/{date}/{customerId}", GetCustomerDailySummary)
            .WithName(nameof(GetCustomerDailySummary))
            .WithSummary("One customer's summary of one day");
        return app;
    }

    public static async Task<Results<Ok<ApiEnvelope<SummariesData>>, BadRequest<ErrorEnvelope>, NotFound<ErrorEnvelope>>> GetCustomerSummaries(
        string customerId, string? fromDate, string? toDate, LakeReads lake, CancellationToken cancellationToken)
    {
        if (!RequestValues.TryParseCustomerId(customerId, out var id)) return ApiResults.BadRequest(ApiMessages.InvalidCustomerId);
        if (!RequestValues.TryParseOptionalDay(fromDate, out var from)) return ApiResults.BadRequest(ApiMessages.InvalidFromDate);
        if (!RequestValues.TryParseOptionalDay(toDate, out var to)) return ApiResults.BadRequest(ApiMessages.InvalidToDate);
        if (from > to) return ApiResults.BadRequest(ApiMessages.InvalidDateRange);
        var rows = await lake.CustomerSummariesAsync(id, from, to, cancellationToken);
        return rows.Count == 0
            ? ApiResults.NotFound()
            : TypedResults.Ok(ApiEnvelope.Success(ApiMessages.CustomerSummariesFound, new SummariesData(rows)));
    }

    public static async Task<Results<Ok<ApiEnvelope<SummariesData>>, SerializedJson, BadRequest<ErrorEnvelope>, NotFound<ErrorEnvelope>>> GetDailySummaries(
        string date, LakeReads lake, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        if (!RequestValues.TryParseDay(date, out var day)) return ApiResults.BadRequest(ApiMessages.InvalidDateFormat);
        var rows = await lake.SummariesAsync(day, cancellationToken);
        if (rows is null or { Count: 0 }) return ApiResults.NotFound();
        var answer = ApiEnvelope.Success(ApiMessages.SummariesFound, new SummariesData(rows));
        // A cached day: its answer is serialized once per file version (Ok's own type info, so the same bytes).
        if (rows is not SummaryDayRows cached) return TypedResults.Ok(answer);
        return (SerializedJson)(cached.Answer ??= new SerializedJson(
            JsonSerializer.SerializeToUtf8Bytes(answer, json.Value.SerializerOptions.GetTypeInfo(typeof(ApiEnvelope<SummariesData>)))));
    }

    public static async Task<Results<Ok<ApiEnvelope<SummaryData>>, BadRequest<ErrorEnvelope>, NotFound<ErrorEnvelope>>> GetCustomerDailySummary(
        string date, string customerId, LakeReads lake, CancellationToken cancellationToken)
    {
        if (!RequestValues.TryParseDay(date, out var day)) return ApiResults.BadRequest(ApiMessages.InvalidDateFormat);
        if (!RequestValues.TryParseCustomerId(customerId, out var id)) return ApiResults.BadRequest(ApiMessages.InvalidCustomerId);
        var row = await lake.SummaryAsync(day, id, cancellationToken);
        return row is null
            ? ApiResults.NotFound()
            : TypedResults.Ok(ApiEnvelope.Success(ApiMessages.SummaryFound, new SummaryData(row)));
    }
}
