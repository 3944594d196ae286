using System.ComponentModel.DataAnnotations;

namespace CustomerData.Api.Security;

/// <summary>Rate limits and CORS, bound from <c>Api:RateLimit</c> and <c>Api:Cors</c>. Tokens: <c>Authentication:Schemes:Bearer</c> (ASP.NET Core's JwtBearer settings).</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "Api:RateLimit";

    /// <summary>Requests a client (token subject, else client address) may make per second, sustained.</summary>
    [Range(1, 10_000_000)]
    public int PermitsPerSecond { get; set; } = 200;

    /// <summary>Requests a client may make at once above the sustained rate (the token bucket's size).</summary>
    [Range(1, 10_000_000)]
    public int Burst { get; set; } = 400;
}

public sealed class CorsOptions
{
    public const string SectionName = "Api:Cors";

    /// <summary>Origins a browser may call the API from; empty (the default): none, CORS is closed.</summary>
    public string[] AllowedOrigins { get; set; } = [];
}
