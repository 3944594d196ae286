using CustomerData.Api.Contract;
using CustomerData.Api.Lake;
using CustomerData.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CustomerData.Api.Apis;

/// <summary><c>GET /events/{customerId}?fromDate&amp;toDate&amp;limit</c>: the events lake (SPEC §7, §9).</summary>
public static class EventsApi
{
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/events").WithTags("Events").WithCommonErrors()
            .RequireAuthorization(ApiScopes.AnalyticsRead).RequireRateLimiting(ApiSecurity.RateLimitPolicy);
        group.MapGet("/{customerId}", GetCustomerEvents)
            .WithName(nameof(GetCustomerEvents))
            .WithSummary("A customer's behaviour events")
            .WithDescription("Oldest first (event_timestamp, then event_id). fromDate/toDate: inclusive UTC days (YYYY-MM-DD), both optional; limit 1..10000, default 100.");
        return app;
    }

    public static async Task<Results<Ok<ApiEnvelope<EventsData>>, BadRequest<ErrorEnvelope>, NotFound<ErrorEnvelope>>> GetCustomerEvents(
        string customerId, string? fromDate, string? toDate, string? limit, LakeReads lake, CancellationToken cancellationToken)
    {
        if (!RequestValues.TryParseCustomerId(customerId, out var id)) return ApiResults.BadRequest(ApiMessages.InvalidCustomerId);
        if (!RequestValues.TryParseOptionalDay(fromDate, out var from)) return ApiResults.BadRequest(ApiMessages.InvalidFromDate);
        if (!RequestValues.TryParseOptionalDay(toDate, out var to)) return ApiResults.BadRequest(ApiMessages.InvalidToDate);
        if (!RequestValues.TryParseLimit(limit, out var max)) return ApiResults.BadRequest(ApiMessages.InvalidLimit);
        if (from > to) return ApiResults.BadRequest(ApiMessages.InvalidDateRange);
        var events = await lake.EventsAsync(id, from, to, max, cancellationToken);
        return events.Count == 0
            ? ApiResults.NotFound()
            : TypedResults.Ok(ApiEnvelope.Success(ApiMessages.EventsFound, new EventsData(events)));
    }
}
