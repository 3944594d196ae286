using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CustomerData.Operations;

/// <summary>What a start request asks for: a validation error, or a description and the work.</summary>
public readonly record struct OperationRequest(string? Error, string Description, Func<OperationProgress, CancellationToken, Task<string>>? Work)
{
    public static OperationRequest Invalid(string error) => new(error, "", null);
    public static OperationRequest Of(string description, Func<OperationProgress, CancellationToken, Task<string>> work) => new(null, description, work);
}

/// <summary>
/// The workers' <c>/admin</c> routes: one group behind the <c>ops:write</c> scope; each operation is
/// <c>POST /admin/{path}</c> (202 started, 409 while a run is going, 400 for a bad request) and
/// <c>GET /admin/{path}</c> (its status).
/// </summary>
public static class AdminEndpoints
{
    public const string Prefix = "/admin";

    /// <summary>JwtBearer from <c>Authentication:Schemes:Bearer</c>, the <c>ops:write</c> policy, the operations registry.</summary>
    public static IHostApplicationBuilder AddAdminEndpoints(this IHostApplicationBuilder builder)
    {
        builder.Services.AddScopedJwtBearer(AdminResults.WriteErrorAsync);
        builder.Services.AddAuthorizationBuilder().AddScopePolicy(TokenScopes.OpsWrite);
        builder.Services.AddSingleton<AdminOperations>();
        return builder;
    }

    /// <summary>The <c>/admin</c> group, every route of it behind <c>ops:write</c>.</summary>
    public static RouteGroupBuilder MapAdminGroup(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        return app.MapGroup(Prefix).RequireAuthorization(TokenScopes.OpsWrite);
    }

    /// <summary><c>POST</c> and <c>GET</c> of one operation at <paramref name="path"/>; <paramref name="start"/> reads the request.</summary>
    public static RouteGroupBuilder MapOperation(this RouteGroupBuilder group, string path, string name, string displayName,
        Func<HttpContext, OperationRequest> start)
    {
        group.MapPost(path, (HttpContext context, AdminOperations operations) =>
        {
            var operation = operations.Get(name, displayName);
            var request = start(context);
            if (request.Error is not null) return AdminResults.Error(StatusCodes.Status400BadRequest, request.Error);
            if (!operation.TryStart(request.Description, request.Work!, out var status))
            {
                return AdminResults.Error(StatusCodes.Status409Conflict,
                    $"A {displayName} is already running (started {status.StartedUtc:u}, {status.Request}); wait for it to finish: GET {Prefix}/{path} shows its progress.",
                    status);
            }
            context.Response.Headers.Location = $"{Prefix}/{path}";
            return AdminResults.Success($"{Capitalize(displayName)} started", status, StatusCodes.Status202Accepted);
        });
        group.MapGet(path, (AdminOperations operations) =>
            AdminResults.Success($"{Capitalize(displayName)} status", operations.Get(name, displayName).Status));
        return group;
    }

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
