using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using CustomerData.Api.Security;
using CustomerData.Contracts.Quality;
using CustomerData.Pipelines.Common;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerData.Api.Tests;

/// <summary>
/// The platform's <c>GET /quality</c> (issue 17) against real servers: a pipeline host serving its report over HTTP, a
/// port nobody listens on and a listener that never answers. One pipeline down is a status in a 200, never a 5xx.
/// </summary>
public sealed class QualityApiTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly Meter _meter = new("CustomerData.Tests.Quality." + Guid.NewGuid().ToString("N"));
    private readonly TcpListener _silent = new(IPAddress.Loopback, 0);
    private WebApplication _pipeline = null!;
    private ApiHost _api = null!;

    public async ValueTask InitializeAsync()
    {
        // A pipeline as deployed: Kestrel, the shared /quality endpoint, a history with one recorded cycle.
        var history = new QualityHistory("summary", _meter, "transactions", TimeProvider.System);
        history.Record(new QualityCycle("incremental", DateTime.UtcNow.AddSeconds(-2), DateTime.UtcNow.AddSeconds(-1), true, 40,
            [new QualityReasonCount("amount_mismatch", 2, ["txn_id=9 customer_id=3 amount=10.01", "txn_id=12 customer_id=5 amount=3.33"]),
             new QualityReasonCount("unknown_customer", 1, ["txn_id=10 customer_id=999"])],
            [], DateTime.UtcNow.AddSeconds(-30), 4));
        var port = CustomerData.TestServers.ServerProcess.FreeTcpPort();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddSingleton(history);
        _pipeline = builder.Build();
        _pipeline.MapQualityEndpoint();
        await _pipeline.StartAsync(Ct);

        _silent.Start(); // accepts connections (the backlog) and never answers
        _api = await ApiHost.StartAsync(new Dictionary<string, string?>
        {
            ["Quality:Sources:pipelines-summary"] = $"http://127.0.0.1:{port}",
            ["Quality:Sources:pipelines-events"] = $"http://127.0.0.1:{CustomerData.TestServers.ServerProcess.FreeTcpPort()}",
            ["Quality:Sources:pipelines-profile"] = $"http://127.0.0.1:{((IPEndPoint)_silent.LocalEndpoint).Port}/",
            ["Quality:Timeout"] = "00:00:01",
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        await _pipeline.DisposeAsync();
        _silent.Stop();
        _meter.Dispose();
    }

    [Fact]
    public async Task One_pipeline_reachable_and_two_not_answers_200_with_the_report_the_unreachable_ones_and_the_summary()
    {
        var response = await _api.Client.GetAsync("/quality", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("success", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("Data quality retrieved successfully", json.RootElement.GetProperty("message").GetString());
        var data = json.RootElement.GetProperty("data");
        var pipelines = data.GetProperty("pipelines").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(["pipelines-events", "pipelines-profile", "pipelines-summary"], pipelines.Keys);

        var summary = pipelines["pipelines-summary"];
        Assert.Equal("ok", summary.GetProperty("status").GetString());
        var report = summary.GetProperty("report");
        Assert.Equal("summary", report.GetProperty("pipeline").GetString());
        Assert.Equal(4, report.GetProperty("lag").GetInt64());
        var rejects = report.GetProperty("cycles")[0].GetProperty("rejects").EnumerateArray()
            .ToDictionary(r => r.GetProperty("reason").GetString()!, r => r.GetProperty("count").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["amount_mismatch"] = 2, ["unknown_customer"] = 1 }, rejects);
        Assert.True(report.GetProperty("freshness_seconds").GetDouble() >= 30);

        // Nothing listens: refused at once (no retries). A listener that never answers: the timeout.
        Assert.Equal("unreachable", pipelines["pipelines-events"].GetProperty("status").GetString());
        Assert.Equal("connection_failed", pipelines["pipelines-events"].GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, pipelines["pipelines-events"].GetProperty("report").ValueKind);
        Assert.Equal("unreachable", pipelines["pipelines-profile"].GetProperty("status").GetString());
        Assert.Equal("timeout", pipelines["pipelines-profile"].GetProperty("reason").GetString());

        var platform = data.GetProperty("summary");
        Assert.Equal("pipelines-summary", platform.GetProperty("worst_freshness").GetProperty("pipeline").GetString());
        Assert.Equal(3, platform.GetProperty("rejects_by_pipeline").GetProperty("pipelines-summary").GetInt64());
        Assert.False(platform.GetProperty("rejects_by_pipeline").TryGetProperty("pipelines-events", out _));
        Assert.Equal(["pipelines-events", "pipelines-profile"], platform.GetProperty("unreachable").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains(_api.Logs.Lines, l => l.Message.Contains("pipeline pipelines-events did not answer its /quality (connection_failed)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task One_pipeline_is_served_by_name_and_an_unknown_name_is_not_found()
    {
        var one = await _api.Client.GetAsync("/quality/pipelines-summary", Ct);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        using var json = JsonDocument.Parse(await one.Content.ReadAsStringAsync(Ct));
        Assert.Equal("ok", json.RootElement.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal(40, json.RootElement.GetProperty("data").GetProperty("report").GetProperty("since_start").GetProperty("rows_checked").GetInt64());

        var unknown = await _api.Client.GetAsync("/quality/pipelines-nope", Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("""{"status":"error","message":"not-found","data":{}}""", await unknown.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData("/quality")]
    [InlineData("/quality/pipelines-summary")]
    public async Task Quality_needs_a_token_with_analytics_read(string path)
    {
        using var client = _api.CreateAnonymousClient();
        var anonymous = await client.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("""{"status":"error","message":"unauthorized","data":{}}""", await anonymous.Content.ReadAsStringAsync(Ct));

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Create("scoped", ApiScopes.CustomersRead, ApiScopes.OpsWrite));
        var wrongScope = await client.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, wrongScope.StatusCode);
        Assert.Equal("""{"status":"error","message":"forbidden","data":{}}""", await wrongScope.Content.ReadAsStringAsync(Ct));

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Create("scoped", ApiScopes.AnalyticsRead));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path, Ct)).StatusCode);
    }

    [Fact]
    public async Task The_quality_document_and_the_apis_logs_hold_no_email_or_name()
    {
        // Personal values sit in the platform's data (a profile row); the quality answer must never carry them.
        await _api.InsertProfileAsync(5, "Quill_Pii_Name", "quill.pii@example.com", "F", 10m, 1, 10m, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "Toys");
        var body = await _api.Client.GetStringAsync("/quality", Ct);
        var logs = string.Join('\n', _api.Logs.Lines.Select(l => l.Message));
        foreach (var text in new[] { body, logs })
        {
            Assert.DoesNotContain("Quill_Pii_Name", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("@example.com", text, StringComparison.OrdinalIgnoreCase);
        }
        Assert.DoesNotContain("@", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_openapi_document_describes_both_quality_routes_with_examples()
    {
        using var doc = JsonDocument.Parse(await _api.Client.GetStringAsync("/openapi/v1.json", Ct));
        var paths = doc.RootElement.GetProperty("paths");
        foreach (var (path, statuses) in new[] { ("/quality", new[] { "200", "401", "403" }), ("/quality/{pipeline}", new[] { "200", "401", "403", "404" }) })
        {
            var get = paths.GetProperty(path).GetProperty("get");
            Assert.Equal("Data quality", get.GetProperty("tags")[0].GetString());
            foreach (var status in statuses)
            {
                var example = get.GetProperty("responses").GetProperty(status).GetProperty("content").GetProperty("application/json").GetProperty("example");
                Assert.Equal(status == "200" ? "success" : "error", example.GetProperty("status").GetString());
            }
        }
    }
}
