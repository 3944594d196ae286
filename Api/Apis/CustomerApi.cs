using CustomerData.Api.Contract;
using CustomerData.Api.Customers;
using CustomerData.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CustomerData.Api.Apis;

/// <summary><c>GET /customer/{customerId}</c>: a profile from Cassandra (SPEC §7).</summary>
public static class CustomerApi
{
    public static IEndpointRouteBuilder MapCustomerApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/customer").WithTags("Customers").WithCommonErrors()
            .RequireAuthorization(ApiScopes.CustomersRead).RequireRateLimiting(ApiSecurity.RateLimitPolicy);
        group.MapGet("/{customerId}", GetCustomer)
            .WithName(nameof(GetCustomer))
            .WithSummary("A customer's profile")
            .WithDescription("One row of Cassandra's customer_profile, kept by Pipeline A. 503 `unavailable` when Cassandra does not answer within the read timeout.");
        return app;
    }

    public static async Task<Results<Ok<ApiEnvelope<CustomerProfileDto>>, BadRequest<ErrorEnvelope>, NotFound<ErrorEnvelope>>> GetCustomer(
        string customerId, CustomerProfileReader profiles, CancellationToken cancellationToken)
    {
        if (!RequestValues.TryParseCustomerId(customerId, out var id)) return ApiResults.BadRequest(ApiMessages.InvalidCustomerId);
        var profile = await profiles.ReadAsync(id, cancellationToken);
        return profile is null
            ? ApiResults.NotFound()
            : TypedResults.Ok(ApiEnvelope.Success(ApiMessages.CustomerFound, profile));
    }
}
