using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using CustomerData.Api.Contract;
using CustomerData.Operations;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace CustomerData.Api.Security;

/// <summary>
/// Who may call the API and how often: JWT bearer tokens (ASP.NET Core's JwtBearer, settings from
/// <c>Authentication:Schemes:Bearer</c>; in Development the keys of <c>dotnet user-jwts</c>), a scope per route group,
/// a token-bucket rate limit per token subject (per client address without one), CORS closed unless origins are
/// configured, standard security headers, and HTTPS redirection with HSTS outside Development. 401, 403 and 429 carry
/// the error envelope.
/// </summary>
public static class ApiSecurity
{
    public const string RateLimitPolicy = "per-client";

    /// <summary>Benchmarks only (what authentication costs): every data route open. Refused in Production.</summary>
    public const string DisabledKey = "Api:Authentication:Disabled";

    public static WebApplicationBuilder AddApiSecurity(this WebApplicationBuilder builder)
    {
        var disabled = builder.Configuration.GetValue<bool>(DisabledKey);
        if (disabled && builder.Environment.IsProduction())
        {
            throw new InvalidOperationException($"{DisabledKey}=true is refused in Production: it opens every data route to anyone.");
        }
        // The JwtBearer setup the workers' admin endpoints share (CustomerData.Operations), with the API's envelope.
        builder.Services.AddScopedJwtBearer(ApiErrorMiddleware.WriteAsync);
        builder.Services.AddAuthorizationBuilder()
            .AddScopePolicy(ApiScopes.CustomersRead, disabled)
            .AddScopePolicy(ApiScopes.AnalyticsRead, disabled);

        builder.Services.AddOptions<RateLimitOptions>().Bind(builder.Configuration.GetSection(RateLimitOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(RateLimitPolicy, context =>
            {
                var settings = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                return RateLimitPartition.GetTokenBucketLimiter(ClientKey(context), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = settings.Burst,
                    TokensPerPeriod = settings.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await ApiErrorMiddleware.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, ApiMessages.RateLimited);
            };
        });

        builder.Services.AddOptions<CorsOptions>().Bind(builder.Configuration.GetSection(CorsOptions.SectionName));
        builder.Services.AddCors();
        builder.Services.AddHsts(hsts => hsts.MaxAge = TimeSpan.FromDays(365));
        return builder;
    }

    /// <summary>The middleware, in order: HTTPS and HSTS (outside Development), headers, CORS, authentication, authorization, rate limits.</summary>
    public static WebApplication UseApiSecurity(this WebApplication app)
    {
        if (app.Configuration.GetValue<bool>(DisabledKey))
        {
            app.Logger.LogCritical("{Key} is true: every data route is open without a token (benchmarks only)", DisabledKey);
        }
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
            app.UseHttpsRedirection();
        }
        app.UseMiddleware<SecurityHeadersMiddleware>();
        var origins = app.Services.GetRequiredService<IOptions<CorsOptions>>().Value.AllowedOrigins;
        app.UseCors(cors =>
        {
            if (origins.Length > 0) cors.WithOrigins(origins).WithMethods("GET").WithHeaders("Authorization", "If-None-Match").WithExposedHeaders("ETag");
        });
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>Token subject when authenticated, else the client address: one client's burst never throttles another.</summary>
    private static string ClientKey(HttpContext context) =>
        context.User.FindFirstValue("sub") is { Length: > 0 } subject
            ? "sub:" + subject
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
}
