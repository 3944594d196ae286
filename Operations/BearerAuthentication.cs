using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerData.Operations;

/// <summary>
/// JWT bearer authentication as the Api and the workers both use it: ASP.NET Core's JwtBearer with its settings from
/// <c>Authentication:Schemes:Bearer</c> (issuer, audiences, signing keys or an authority), claims kept as the token has
/// them, and 401/403 answered with the caller's error envelope. Without settings no token validates: closed by default.
/// </summary>
public static class BearerAuthentication
{
    /// <param name="writeError">Writes the error answer (status code, message) in the host's envelope.</param>
    public static AuthenticationBuilder AddScopedJwtBearer(this IServiceCollection services, Func<HttpContext, int, string, Task> writeError) =>
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(jwt =>
            {
                // Claims as the token has them ("scope", "sub"), not renamed to the WS-* URIs.
                jwt.MapInboundClaims = false;
                jwt.Events = new JwtBearerEvents
                {
                    OnChallenge = async context =>
                    {
                        context.HandleResponse();
                        context.Response.Headers.WWWAuthenticate = "Bearer";
                        await writeError(context.HttpContext, StatusCodes.Status401Unauthorized, "unauthorized");
                    },
                    OnForbidden = context => writeError(context.HttpContext, StatusCodes.Status403Forbidden, "forbidden"),
                };
            });

    /// <summary>A policy named after <paramref name="scope"/> that demands an authenticated token granting it (<paramref name="open"/>: anyone, benchmarks only).</summary>
    public static AuthorizationBuilder AddScopePolicy(this AuthorizationBuilder authorization, string scope, bool open = false) =>
        authorization.AddPolicy(scope, policy =>
        {
            if (open)
            {
                policy.RequireAssertion(_ => true);
                return;
            }
            policy.RequireAuthenticatedUser().RequireAssertion(c => TokenScopes.Grants(c.User, scope));
        });
}
