using CustomerData.Api.Apis;
using CustomerData.Api.Contract;
using CustomerData.Api.Customers;
using CustomerData.Api.Lake;
using CustomerData.Api.Quality;
using CustomerData.Api.Security;
using CustomerData.Contracts;
using CustomerData.Lake;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace CustomerData.Api;

public static class ApiExtensions
{
    /// <summary>The API's services: options, Cassandra, the lake (listing, DuckDB pool, cache), JSON, OpenAPI, health checks.</summary>
    public static WebApplicationBuilder AddCustomerDataApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiOptions>()
            .Bind(builder.Configuration.GetSection(ApiOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.AddCassandraSession(PlatformNames.Connections.Cassandra);
        builder.Services.AddLakeStorage(builder.Configuration);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<LakeReadRoot>();
        builder.Services.AddSingleton<DuckDbPool>();
        builder.Services.AddSingleton<LakeFileCache>();
        builder.Services.AddSingleton<LakeSnapshotSource>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LakeSnapshotSource>());
        builder.Services.AddSingleton<CachedLakeQueries>();
        builder.Services.AddSingleton<DirectLakeQueries>();
        builder.Services.AddSingleton<ILakeQueries>(sp => sp.GetRequiredService<IOptions<ApiOptions>>().Value.CacheLakeFiles
            ? sp.GetRequiredService<CachedLakeQueries>()
            : sp.GetRequiredService<DirectLakeQueries>());
        builder.Services.AddSingleton<LakeReads>();
        builder.Services.AddSingleton<CustomerProfileReader>();
        builder.Services.AddOptions<QualityOptions>()
            .Bind(builder.Configuration.GetSection(QualityOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<PlatformQualityReader>();
        // The defaults' service discovery, without their resilience handler: nothing retried or tripped, so an unreachable
        // pipeline is reported at once (or at the timeout) and one pipeline's failures never open a circuit for the others.
#pragma warning disable EXTEXP0001 // experimental, but the documented way to take one client out of ConfigureHttpClientDefaults' handler
        builder.Services.AddHttpClient(PlatformQualityReader.HttpClientName).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001

        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
        });
        // An 8 KB path must reach the routes (and get the envelope), not Kestrel's bare 414.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestLineSize = 64 * 1024);
        builder.Services.AddOpenApi(openApi => openApi.AddDocumentTransformer<ApiDocumentTransformer>().AddOperationTransformer<ApiExampleTransformer>());
        builder.AddApiSecurity();
        builder.Services.AddHealthChecks()
            .AddCheck<LakeHealthCheck>("lake", tags: ["ready"])
            .AddCheck<DuckDbHealthCheck>("duckdb", tags: ["ready"]);
        return builder;
    }

    /// <summary>Middleware and routes: errors as envelopes, ETags, security (docs/api.md), the data endpoints, /quality, OpenAPI (and Scalar in Development), health.</summary>
    public static WebApplication MapCustomerDataApi(this WebApplication app)
    {
        app.UseMiddleware<ApiErrorMiddleware>();
        app.UseMiddleware<ETagMiddleware>();
        app.UseApiSecurity();
        // The Customer 360 page (wwwroot): static, open; the data it shows needs the user's token.
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapCustomerApi();
        app.MapSummaryApi();
        app.MapEventsApi();
        app.MapQualityApi();
        app.MapOpenApi();
        if (app.Environment.IsDevelopment()) app.MapScalarApiReference();
        app.MapDefaultEndpoints();
        return app;
    }
}
