using System.Net.Http.Headers;
using System.Security.Claims;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CustomerData.AppHost.Tests;

/// <summary>
/// The whole platform as <c>dotnet run --project AppHost</c> starts it in local mode, with a small seed and an API
/// token issuer of its own: the end-to-end test and the freshness benchmark (bench/Freshness) both use it.
/// </summary>
public sealed class PlatformUnderTest : IAsyncDisposable
{
    private const string Issuer = "platform-under-test";
    private const string Audience = "customer-data-api";

    private readonly DistributedApplication _app;

    private PlatformUnderTest(DistributedApplication app, string dataFolder, string mySql, string kafka, HttpClient api)
    {
        _app = app;
        DataFolder = dataFolder;
        MySql = mySql;
        Kafka = kafka;
        Api = api;
    }

    public string DataFolder { get; }
    public string MySql { get; }
    public string Kafka { get; }

    /// <summary>The api resource's endpoint with a bearer token holding both read scopes.</summary>
    public HttpClient Api { get; }

    public DistributedApplication App => _app;

    /// <summary>The seed the Producer loads on its first start (small, recent history: few summary days).</summary>
    public sealed record Seed(int Customers, int Products, int Transactions, DateOnly HistoryStart, double TxnRate, double EventRate, double MalformedRate);

    public static async Task<PlatformUnderTest> StartAsync(string dataFolder, Seed seed, TimeSpan readyBound, CancellationToken cancellationToken)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["Stack:Mode=local", $"Stack:DataPath={dataFolder}"], cancellationToken);
        // The resources' own logs stay in their processes; the caller's console shows warnings and errors only.
        builder.Services.AddLogging(logging => logging
            .AddFilter("Aspire", LogLevel.Warning).AddFilter("AppHost.Resources", LogLevel.Warning).AddFilter("System.Net.Http", LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical));
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        builder.CreateResourceBuilder<ProjectResource>("producer")
            .WithEnvironment("Producer__Customers", seed.Customers.ToString(invariant))
            .WithEnvironment("Producer__Products", seed.Products.ToString(invariant))
            .WithEnvironment("Producer__Transactions", seed.Transactions.ToString(invariant))
            .WithEnvironment("Producer__HistoryStart", seed.HistoryStart.ToString("yyyy-MM-dd", invariant))
            .WithEnvironment("Producer__TxnRate", seed.TxnRate.ToString(invariant))
            .WithEnvironment("Producer__EventRate", seed.EventRate.ToString(invariant))
            .WithEnvironment("Producer__MalformedRate", seed.MalformedRate.ToString(invariant));
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        builder.CreateResourceBuilder<ProjectResource>("api")
            .WithEnvironment("Authentication__Schemes__Bearer__ValidIssuer", Issuer)
            .WithEnvironment("Authentication__Schemes__Bearer__ValidAudiences__0", Audience)
            .WithEnvironment("Authentication__Schemes__Bearer__SigningKeys__0__Issuer", Issuer)
            .WithEnvironment("Authentication__Schemes__Bearer__SigningKeys__0__Value", Convert.ToBase64String(key));

        var app = await builder.BuildAsync(cancellationToken);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(readyBound);
            await app.StartAsync(timeout.Token);
            var model = app.Services.GetRequiredService<DistributedApplicationModel>();
            await Task.WhenAll(StartupReport.RunnableResources(model)
                .Select(r => StartupReport.WaitUntilReadyAsync(app.ResourceNotifications, model, r, timeout.Token)));

            var api = app.CreateHttpClient("api", "http");
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(key));
            return new PlatformUnderTest(app, dataFolder,
                (await app.GetConnectionStringAsync("mysql", cancellationToken))!,
                (await app.GetConnectionStringAsync("kafka", cancellationToken))!, api);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Ends a project resource's process (and its children) and waits until the AppHost sees it exited. The dashboard's stop
    /// command (<c>resource-stop</c>) failed here under load ("Failed to stop resource"), so the process is killed by its pid.
    /// </summary>
    public async Task StopAsync(string resource, CancellationToken cancellationToken)
    {
        if (!_app.ResourceNotifications.TryGetCurrentState(resource, out var current)
            || current.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is not { } pidValue)
        {
            throw new InvalidOperationException($"{resource} has no process id in its state.");
        }
        using (var process = System.Diagnostics.Process.GetProcessById(Convert.ToInt32(pidValue, System.Globalization.CultureInfo.InvariantCulture)))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(cancellationToken);
        }
        await _app.ResourceNotifications.WaitForResourceAsync(resource, e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cancellationToken);
    }

    /// <summary>The health of every resource still meant to run (not the finished migration, not <paramref name="stopped"/>).</summary>
    public IEnumerable<string> UnhealthyResources(params string[] stopped)
    {
        var model = _app.Services.GetRequiredService<DistributedApplicationModel>();
        foreach (var resource in StartupReport.RunnableResources(model))
        {
            if (stopped.Contains(resource.Name) || StartupReport.IsOneShot(model, resource)) continue;
            if (!_app.ResourceNotifications.TryGetCurrentState(resource.Name, out var e) || e.Snapshot.HealthStatus != Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
            {
                yield return $"{resource.Name}: {e?.Snapshot.State?.Text} / {e?.Snapshot.HealthStatus}";
            }
        }
    }

    private static string Token(byte[] key) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = Issuer,
        Audience = Audience,
        Subject = new ClaimsIdentity([new Claim("sub", "end-to-end"), new Claim("scope", "customers:read"), new Claim("scope", "analytics:read")]),
        NotBefore = DateTime.UtcNow.AddMinutes(-1),
        Expires = DateTime.UtcNow.AddHours(2),
        SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
    });

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await _app.DisposeAsync();
    }
}
