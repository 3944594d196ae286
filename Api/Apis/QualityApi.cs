using CustomerData.Api.Contract;
using CustomerData.Api.Quality;
using CustomerData.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CustomerData.Api.Apis;

/// <summary><c>GET /quality</c> and <c>GET /quality/{pipeline}</c>: the pipelines' data-quality reports (issue 17).</summary>
public static class QualityApi
{
    public static IEndpointRouteBuilder MapQualityApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/quality").WithTags("Data quality").WithCommonErrors()
            .RequireAuthorization(ApiScopes.AnalyticsRead).RequireRateLimiting(ApiSecurity.RateLimitPolicy);
        group.MapGet("", GetPlatformQuality)
            .WithName(nameof(GetPlatformQuality))
            .WithSummary("Every pipeline's recent data-quality checks and the platform's summary")
            .WithDescription("Each pipeline's /quality report (counts by reason with masked samples, freshness, lag), asked at once with a short timeout; " +
                "a pipeline that does not answer is `unreachable` with a reason, never an error of the whole answer.");
        group.MapGet("/{pipeline}", GetPipelineQuality)
            .WithName(nameof(GetPipelineQuality))
            .WithSummary("One pipeline's recent data-quality checks")
            .WithDescription("`pipeline` is a configured source name (pipelines-profile, pipelines-summary, pipelines-events under the AppHost); another name is 404.");
        return app;
    }

    public static async Task<Ok<ApiEnvelope<PlatformQualityData>>> GetPlatformQuality(PlatformQualityReader reader, CancellationToken cancellationToken) =>
        TypedResults.Ok(ApiEnvelope.Success(ApiMessages.QualityFound, await reader.ReadAllAsync(cancellationToken)));

    public static async Task<Results<Ok<ApiEnvelope<PipelineQualityStatus>>, NotFound<ErrorEnvelope>>> GetPipelineQuality(
        string pipeline, PlatformQualityReader reader, CancellationToken cancellationToken)
    {
        var status = await reader.ReadOneAsync(pipeline, cancellationToken);
        return status is null
            ? ApiResults.NotFound()
            : TypedResults.Ok(ApiEnvelope.Success(ApiMessages.PipelineQualityFound, status));
    }
}
