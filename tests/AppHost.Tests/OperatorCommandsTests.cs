using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using CustomerData.Operations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CustomerData.AppHost.Tests;

/// <summary>Issue 17: the dashboard's operator commands in the AppHost model, and the AppHost's tokens against a worker's admin authentication.</summary>
public sealed class OperatorCommandsTests
{
    private static readonly Dictionary<string, string[]> s_commands = new()
    {
        ["producer"] = ["pause-live-stream", "resume-live-stream"],
        ["pipelines-profile"] = ["rebuild-profiles"],
        ["pipelines-summary"] = ["rebuild-summary-days"],
        ["pipelines-events"] = ["compact-events-day", "replay-malformed-events"],
        ["api"] = [],
    };

    private const string KeyVariable = "Authentication__Schemes__Bearer__SigningKeys__0__Value";

    [Fact]
    public async Task Each_worker_has_its_commands_and_the_signing_key_and_the_summary_command_asks_for_a_date_range()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["Stack:Mode=local", $"Stack:DataPath={Path.Combine(Path.GetTempPath(), $"cdp-ops-{Guid.NewGuid():N}")}"], ct);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, expected) in s_commands)
        {
            var project = Assert.IsType<ProjectResource>(builder.Resources.Single(r => r.Name == name));
            var ours = project.Annotations.OfType<ResourceCommandAnnotation>().Select(c => c.Name).Where(n => !n.StartsWith("resource-", StringComparison.Ordinal)).Order().ToArray();
            Assert.Equal(expected.Order().ToArray(), ours);
            var environment = await EnvironmentAsync(project);
            if (expected.Length == 0)
            {
                Assert.False(environment.ContainsKey(KeyVariable), $"{name} gets no operator signing key");
                continue;
            }
            Assert.Equal(OperatorTokens.Issuer, environment["Authentication__Schemes__Bearer__ValidIssuer"]);
            Assert.Equal(OperatorTokens.Audience, environment["Authentication__Schemes__Bearer__ValidAudiences__0"]);
            var key = Assert.IsType<ParameterResource>(environment[KeyVariable]);
            Assert.Equal((OperatorCommands.SigningKeyParameter, true), (key.Name, key.Secret));
            Assert.True(Convert.FromBase64String((await key.GetValueAsync(ct))!).Length >= 32, "an HS256 key of at least 256 bits");
            keys.Add(key.Name);
        }
        Assert.Single(keys); // one key for every worker

        var summary = builder.Resources.Single(r => r.Name == "pipelines-summary").Annotations.OfType<ResourceCommandAnnotation>().Single(c => c.Name == "rebuild-summary-days");
        Assert.Equal(["fromDate", "toDate"], summary.Arguments.Select(a => a.Name).ToArray());
        Assert.All(summary.Arguments, a => Assert.True(DateOnly.TryParseExact(a.Value, "yyyy-MM-dd", out _), $"{a.Name} defaults to a day"));
        Assert.Equal("Rebuild summary days", summary.DisplayName);
    }

    [Fact]
    public async Task The_commands_reach_the_workers_of_a_running_local_stack_and_report_their_results()
    {
        var ct = TestContext.Current.CancellationToken;
        var dataFolder = Path.Combine(Path.GetTempPath(), $"cdp-ops-stack-{Guid.NewGuid():N}");
        try
        {
            await using var app = await LocalStackTests.StartLocalStackAsync(dataFolder, ct);
            var model = app.Services.GetRequiredService<DistributedApplicationModel>();
            await LocalStackTests.WaitUntilHealthyAsync(app, model.Resources.Where(r => r.Name is "producer" or "pipelines-summary" or "pipelines-events").ToList(), ct);

            var paused = await app.ResourceCommands.ExecuteCommandAsync("producer", "pause-live-stream", ct);
            Assert.True(paused.Success, paused.Message);
            Assert.Equal("Live stream paused", paused.Message);
            var resumed = await app.ResourceCommands.ExecuteCommandAsync("producer", "resume-live-stream", ct);
            Assert.True(resumed.Success, resumed.Message);

            var compact = await app.ResourceCommands.ExecuteCommandAsync("pipelines-events", "compact-events-day", ct);
            Assert.True(compact.Success, compact.Message);
            Assert.StartsWith("Compact today's events done: ", compact.Message, StringComparison.Ordinal);
            var replay = await app.ResourceCommands.ExecuteCommandAsync("pipelines-events", "replay-malformed-events", ct);
            Assert.True(replay.Success, replay.Message);
            Assert.Contains("records replayed", replay.Message, StringComparison.Ordinal);

            var day = DateOnly.FromDateTime(DateTime.UtcNow).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            var range = new InteractionInputCollection(
            [
                new InteractionInput { Name = "fromDate", InputType = InputType.Text, Value = day },
                new InteractionInput { Name = "toDate", InputType = InputType.Text, Value = day },
            ]);
            var rebuild = await app.ResourceCommands.ExecuteCommandAsync("pipelines-summary", "rebuild-summary-days", range, ct);
            Assert.True(rebuild.Success, rebuild.Message);
            Assert.Contains("days rewritten", rebuild.Message, StringComparison.Ordinal);
            var bad = await app.ResourceCommands.ExecuteCommandAsync("pipelines-summary", "rebuild-summary-days", new InteractionInputCollection(
            [
                new InteractionInput { Name = "fromDate", InputType = InputType.Text, Value = "2025-12-31" },
                new InteractionInput { Name = "toDate", InputType = InputType.Text, Value = "2025-12-01" },
            ]), ct);
            Assert.False(bad.Success);
            Assert.Contains("invalid_date_range", bad.Message, StringComparison.Ordinal);
        }
        finally
        {
            try { Directory.Delete(dataFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The environment a project's callbacks set, as objects (parameters unresolved): nothing waits for an endpoint.</summary>
    private static async Task<Dictionary<string, object>> EnvironmentAsync(ProjectResource project)
    {
        var context = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), project, []);
        foreach (var callback in project.Annotations.OfType<EnvironmentCallbackAnnotation>()) await callback.Callback(context);
        return context.EnvironmentVariables.ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    [Fact]
    public async Task A_worker_accepts_the_token_the_AppHost_mints_and_refuses_one_signed_with_another_key()
    {
        var ct = TestContext.Current.CancellationToken;
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        // What WithOperatorAuthentication hands the workers, as configuration.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Authentication:Schemes:Bearer:ValidIssuer"] = OperatorTokens.Issuer,
            ["Authentication:Schemes:Bearer:ValidAudiences:0"] = OperatorTokens.Audience,
            ["Authentication:Schemes:Bearer:SigningKeys:0:Issuer"] = OperatorTokens.Issuer,
            ["Authentication:Schemes:Bearer:SigningKeys:0:Value"] = key,
        });
        builder.AddAdminEndpoints();
        await using var app = builder.Build();
        app.MapAdminGroup().MapOperation("probe", "probe", "probe", _ => OperationRequest.Of("nothing", (_, _) => Task.FromResult("done")));
        await app.StartAsync(ct);
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        async Task<HttpStatusCode> PostAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/probe");
            request.Headers.Authorization = new("Bearer", token);
            return (await client.SendAsync(request, ct)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(OperatorTokens.Create(key, TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow)));
        var otherKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(OperatorTokens.Create(otherKey, TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow)));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(OperatorTokens.Create(key, TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow.AddHours(-1))));
        await app.StopAsync(ct);
    }
}
