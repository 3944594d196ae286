using System.Diagnostics;
using System.Net;
using CustomerData.Tests.Shared;

namespace CustomerData.Api.Tests;

/// <summary>What a request sends to the dashboard: the ASP.NET Core request span with its Cassandra or DuckDB spans as children.</summary>
public sealed class TraceTests
{
    [Fact]
    public async Task A_customer_request_trace_holds_its_CQL_read_under_the_request_span_without_personal_data()
    {
        var ct = TestContext.Current.CancellationToken;
        TraceCapture? capture = null;
        await using var host = await ApiHost.StartAsync(services: s => capture = TraceCapture.AddExporter(s));
        const string name = "Ottilie_Trace";
        const string email = "ottilie.trace@example.com";
        await host.InsertProfileAsync(77, name, email, "F", 12.5m, 2, 6.25m, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "Toys");

        var response = await host.Client.GetAsync("/customer/77", ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = await WaitForRequestSpanAsync(capture!, "/customer/77");
        // The first request also prepares the statement.
        var cql = Assert.Single(capture!.Descendants(request), s => s.Source.Name == "CustomerData.Cql" && s.DisplayName == "SELECT");
        Assert.Equal(ActivityKind.Client, cql.Kind);
        Assert.Equal(request.SpanId, cql.ParentSpanId);
        Assert.Contains("customer_profile", (string)cql.GetTagItem("db.statement")!, StringComparison.Ordinal);
        var telemetry = TraceCapture.NamesAndTagValues(capture.Trace(request.TraceId));
        Assert.DoesNotContain(telemetry, t => t.Contains(name, StringComparison.Ordinal) || t.Contains(email, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_events_request_trace_holds_its_DuckDB_query_under_the_request_span()
    {
        var ct = TestContext.Current.CancellationToken;
        TraceCapture? capture = null;
        // Uncached: every answer is a DuckDB query of its own (cached, the files' loads are the DuckDB work).
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Api:CacheLakeFiles"] = "false" },
            services: s => capture = TraceCapture.AddExporter(s));
        var events = TestEvents.Generate(200, customers: 5, days: 2, seed: 3);
        long offset = 0;
        foreach (var day in events.GroupBy(e => e.EventDate))
        {
            await host.Lake.WriteBatchAsync(day.Key, day.ToList(), offset);
            offset += day.Count();
        }
        await host.WaitForLakeListingAsync(s => s.EventDays.Count == 2);

        var response = await host.Client.GetAsync("/events/3", ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = await WaitForRequestSpanAsync(capture!, "/events/3");
        var duckDb = Assert.Single(capture!.Descendants(request), s => s.DisplayName.StartsWith("duckdb ", StringComparison.Ordinal));
        Assert.Equal(ActivityKind.Client, duckDb.Kind);
        Assert.Equal("duckdb", duckDb.GetTagItem("db.system.name"));
        Assert.Equal(request.TraceId, duckDb.TraceId);
    }

    /// <summary>The server span of the request to <paramref name="path"/>, once exported (it ends after the response is written).</summary>
    private static async Task<Activity> WaitForRequestSpanAsync(TraceCapture capture, string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var request = capture.Snapshot().FirstOrDefault(s => s.Kind == ActivityKind.Server && Equals(s.GetTagItem("url.path"), path));
            if (request is not null) return request;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"No request span for {path} was exported.");
            await Task.Delay(20);
        }
    }
}
