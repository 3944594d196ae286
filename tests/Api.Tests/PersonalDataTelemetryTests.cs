using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using CustomerData.Pipelines.Summary;

namespace CustomerData.Api.Tests;

/// <summary>The API's logs and traces never carry personal data, even when it answers it (issue #15).</summary>
public sealed class PersonalDataTelemetryTests
{
    [Fact]
    public async Task Logs_and_traces_of_api_requests_hold_no_email_or_name()
    {
        var ct = TestContext.Current.CancellationToken;
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace" });
        const string name = "Zelda_Quintessence";
        const string email = "zelda.quintessence@example.com";
        await host.InsertProfileAsync(42, name, email, "F", 99.5m, 3, 33.17m, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "Toys");
        await host.Lake.WriteSummaryDayAsync(new DateOnly(2025, 12, 10), [new DailySummary(42, 10m, 1, 1, "Toys", 1)]);
        await host.WaitForLakeListingAsync(s => s.SummaryDays.Count == 1);

        var profile = await host.Client.GetAsync("/customer/42", ct);
        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        Assert.Contains(email, await profile.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        foreach (var path in new[] { "/customer/43", "/customer/abc", "/summary/2025-12-10", "/summary/2025-12-10/42", "/events/42", "/customer/" + Uri.EscapeDataString(email) })
        {
            await host.Client.GetAsync(path, ct);
        }

        Assert.NotEmpty(host.Logs.Lines);
        Assert.Contains(spans, s => s.Source.Name.StartsWith("CustomerData", StringComparison.Ordinal));
        foreach (var line in host.Logs.Lines)
        {
            Assert.DoesNotContain(email, line.Message, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(name, line.Message, StringComparison.OrdinalIgnoreCase);
        }
        foreach (var span in spans)
        {
            var text = span.DisplayName + " " + string.Join(' ', span.TagObjects.Select(t => $"{t.Key}={t.Value}")) + " " + string.Join(' ', span.Events.Select(e => e.Name));
            Assert.DoesNotContain(name, text, StringComparison.OrdinalIgnoreCase);
            // The request path of the one request that put an email in the URL is the client's doing; no other span may carry it.
            if (!text.Contains("/customer/", StringComparison.Ordinal)) Assert.DoesNotContain(email, text, StringComparison.OrdinalIgnoreCase);
        }
    }
}
