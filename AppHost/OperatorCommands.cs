using System.Globalization;
using System.Net;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CustomerData.AppHost;

/// <summary>
/// The dashboard's operator commands: each calls a worker's <c>/admin</c> endpoint (docs/apphost.md, "Operator
/// commands") with a token the AppHost mints, then follows the operation's status until it ends, writing each progress
/// line to the resource's console log and the latest one to its <c>operator.command</c> property.
/// </summary>
public static partial class OperatorCommands
{
    public const string SigningKeyParameter = "ops-signing-key";
    public const string StatusProperty = "operator.command";

    private static readonly TimeSpan s_poll = TimeSpan.FromSeconds(1);

    /// <summary>The signing key: generated once (64 Base64 characters, 384 bits) and kept in the AppHost's user secrets.</summary>
    public static IResourceBuilder<ParameterResource> AddOperatorSigningKey(this IDistributedApplicationBuilder builder) =>
        builder.AddParameter(SigningKeyParameter, new GenerateParameterDefault { MinLength = 64, Special = false }, secret: true, persist: true);

    /// <summary>The worker accepts the AppHost's tokens on its admin endpoints (the Api's JwtBearer settings keys).</summary>
    public static IResourceBuilder<ProjectResource> WithOperatorAuthentication(this IResourceBuilder<ProjectResource> project, IResourceBuilder<ParameterResource> key) =>
        project
            .WithEnvironment("Authentication__Schemes__Bearer__ValidIssuer", OperatorTokens.Issuer)
            .WithEnvironment("Authentication__Schemes__Bearer__ValidAudiences__0", OperatorTokens.Audience)
            .WithEnvironment("Authentication__Schemes__Bearer__SigningKeys__0__Issuer", OperatorTokens.Issuer)
            .WithEnvironment("Authentication__Schemes__Bearer__SigningKeys__0__Value", key);

    /// <summary>
    /// A command that POSTs <c>/admin/{path}</c> and, for a background operation (202), follows <c>GET /admin/{statusPath}</c>
    /// until the run ends. <paramref name="arguments"/> become query parameters of the same names.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithOperatorCommand(this IResourceBuilder<ProjectResource> project,
        IResourceBuilder<ParameterResource> key, string name, string displayName, string path, string description, string iconName,
        IReadOnlyList<InteractionInput>? arguments = null, string? statusPath = null)
    {
        return project.WithHttpCommand("/admin/" + path, displayName, endpointName: "http", commandName: name, commandOptions: new HttpCommandOptions
        {
            Method = HttpMethod.Post,
            Description = description,
            IconName = iconName,
            Arguments = arguments ?? [],
            Progress = new CommandProgressOptions { Title = displayName, Message = $"{displayName}: running (progress in the {project.Resource.Name} console log)" },
            PrepareRequest = async context =>
            {
                context.Request.Headers.Authorization = new("Bearer", await TokenAsync(key, context.CancellationToken));
                if (arguments is { Count: > 0 })
                {
                    var query = string.Join("&", context.Arguments.Where(a => !string.IsNullOrWhiteSpace(a.Value))
                        .Select(a => $"{Uri.EscapeDataString(a.Name)}={Uri.EscapeDataString(a.Value!.Trim())}"));
                    if (query.Length > 0) context.Request.RequestUri = new Uri(context.Request.RequestUri + "?" + query);
                }
            },
            GetCommandResult = async context =>
            {
                var (status, message, data) = await ReadAsync(context.Response, context.CancellationToken);
                var log = context.Services.GetRequiredService<ResourceLoggerService>().GetLogger(context.ResourceName);
                LogAnswer(log, displayName, (int)status, message);
                if (status == HttpStatusCode.OK) return CommandResults.Success(message);
                if (status != HttpStatusCode.Accepted) return CommandResults.Failure($"{displayName}: {(int)status} {message}");
                return await FollowAsync(context, key, displayName, "/admin/" + (statusPath ?? path), log);
            },
        });
    }

    /// <summary>"yyyy-MM-dd" text input, prefilled with <paramref name="value"/>.</summary>
    public static InteractionInput DayInput(string name, string label, DateOnly value) => new()
    {
        Name = name,
        Label = label,
        InputType = InputType.Text,
        Required = true,
        Value = value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
    };

    private static async Task<ExecuteCommandResult> FollowAsync(HttpCommandResultContext context, IResourceBuilder<ParameterResource> key,
        string displayName, string statusPath, ILogger log)
    {
        var notifications = context.Services.GetRequiredService<ResourceNotificationService>();
        var resource = context.Endpoint.Resource;
        var url = new Uri(new Uri(context.Endpoint.Url), statusPath);
        string? lastProgress = null;
        while (true)
        {
            await Task.Delay(s_poll, context.CancellationToken);
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Authorization = new("Bearer", await TokenAsync(key, context.CancellationToken));
            using var response = await context.HttpClient.SendAsync(request, context.CancellationToken);
            var (status, message, data) = await ReadAsync(response, context.CancellationToken);
            if (status != HttpStatusCode.OK || data is not { } d) return CommandResults.Failure($"{displayName}: status answered {(int)status} {message}");
            var state = d.GetProperty("state").GetString();
            var progress = d.TryGetProperty("progress", out var p) ? p.GetString() : null;
            if (progress is not null && progress != lastProgress)
            {
                lastProgress = progress;
                LogProgress(log, displayName, progress);
                await SetPropertyAsync(notifications, resource, $"{displayName}: {progress}");
            }
            if (state == "running") continue;
            var result = d.TryGetProperty("result", out var r) ? r.GetString() : null;
            var error = d.TryGetProperty("error", out var e) ? e.GetString() : null;
            var line = state == "succeeded" ? $"{displayName} done: {result}" : $"{displayName} {state}: {error}";
            LogFinished(log, line);
            await SetPropertyAsync(notifications, resource, line);
            return state == "succeeded" ? CommandResults.Success(line) : CommandResults.Failure(line);
        }
    }

    private static Task SetPropertyAsync(ResourceNotificationService notifications, IResource resource, string value) =>
        notifications.PublishUpdateAsync(resource, s => s with
        {
            Properties = [.. s.Properties.Where(p => p.Name != StatusProperty), new ResourcePropertySnapshot(StatusProperty, value)],
        });

    private static async Task<string> TokenAsync(IResourceBuilder<ParameterResource> key, CancellationToken cancellationToken) =>
        OperatorTokens.Create(await key.Resource.GetValueAsync(cancellationToken) ?? throw new InvalidOperationException($"Parameter {SigningKeyParameter} has no value."),
            TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow);

    /// <summary>The admin envelope: status code, its message, its data (null when the body is not one).</summary>
    private static async Task<(HttpStatusCode Status, string Message, JsonElement? Data)> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var json = JsonDocument.Parse(body);
            var message = json.RootElement.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "";
            return (response.StatusCode, message, json.RootElement.TryGetProperty("data", out var d) ? d.Clone() : null);
        }
        catch (JsonException)
        {
            return (response.StatusCode, body.Length > 200 ? body[..200] : body, null);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Command}: {Status} {Message}")]
    private static partial void LogAnswer(ILogger logger, string command, int status, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Command}: {Progress}")]
    private static partial void LogProgress(ILogger logger, string command, string progress);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Line}")]
    private static partial void LogFinished(ILogger logger, string line);
}
