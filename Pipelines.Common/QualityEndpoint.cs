using CustomerData.Contracts.Quality;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace CustomerData.Pipelines.Common;

/// <summary>
/// <c>GET /quality</c> of a pipeline: its <see cref="QualityHistory"/> report as JSON (<see cref="QualityJsonContext"/>).
/// Open like <c>/health</c>: it is for the platform's Api on the internal network, and its samples are masked.
/// </summary>
public static class QualityEndpoint
{
    public const string Path = "/quality";

    public static IEndpointRouteBuilder MapQualityEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, (QualityHistory quality) => TypedResults.Json(quality.Report(), QualityJsonContext.Default.PipelineQualityReport));
        return app;
    }
}
