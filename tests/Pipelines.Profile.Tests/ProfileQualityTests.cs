using System.Diagnostics.Metrics;
using System.Net.Http;
using System.Text.Json;
using CustomerData.Contracts.Quality;
using CustomerData.TestServers;

namespace CustomerData.Pipelines.Profile.Tests;

/// <summary>
/// The data-quality report (issue 17): a cycle's rejects by reason with masked samples, at <c>GET /quality</c> of the
/// running service and on the <c>quality.*</c> metrics. In the non-parallel collection: the meter is process-wide.
/// </summary>
[Collection(nameof(ProfileFaultTests))]
public sealed class ProfileQualityTests(MariaDbFixture maria, CqlDevServerFixture cql)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Known bad rows: one each of email_invalid, gender_invalid, signup_date_invalid, customer_missing, txn_customer_id_null;
    // one name_null warning. Personal values that must never show: the names and emails below.
    private const string BadRows =
        "ALTER TABLE customers MODIFY name VARCHAR(100) NULL; SET SESSION sql_mode = '';" +
        "INSERT INTO customers VALUES " +
        "(1, 'Alba_Pii_Name', 'alba.pii@example.com', 'M', '2022-01-01')," +
        "(2, 'Bruno_Pii_Name', 'bruno.pii-at-example.com', 'F', '2022-01-01')," +
        "(3, 'Cora_Pii_Name', 'cora.pii@example.com', 'X', '2022-01-01')," +
        "(4, 'Dario_Pii_Name', 'dario.pii@example.com', 'O', '0000-00-00')," +
        "(5, NULL, 'emil.pii@example.com', 'M', '2022-01-01');" +
        "INSERT INTO products VALUES (1, 'Thing', 'Home', 10.00);" +
        "INSERT INTO transactions (txn_id, customer_id, product_id, qty, amount, txn_timestamp) VALUES " +
        "(1, 1, 1, 1, 10.00, '2026-11-25 11:00:00'), (2, 2, 1, 1, 10.00, '2024-01-01 00:00:00'), (3, 3, 1, 1, 10.00, '2024-01-01 00:00:00')," +
        "(4, 4, 1, 1, 10.00, '2024-01-01 00:00:00'), (5, 5, 1, 1, 10.00, '2024-01-01 00:00:00'), (6, 77, 1, 1, 10.00, '2024-01-01 00:00:00')," +
        "(7, NULL, 1, 1, 10.00, '2024-01-01 00:00:00');";

    private static readonly string[] s_personal =
        ["Alba_Pii_Name", "Bruno_Pii_Name", "Cora_Pii_Name", "Dario_Pii_Name", "alba.pii", "bruno.pii", "cora.pii", "dario.pii", "emil.pii", "example.com"];

    private static readonly Dictionary<string, long> s_expectedRejects = new()
    {
        [QualityReasons.EmailInvalid] = 1,
        [QualityReasons.GenderInvalid] = 1,
        [QualityReasons.SignupDateInvalid] = 1,
        [QualityReasons.CustomerMissing] = 1,
        [QualityReasons.TransactionCustomerIdNull] = 1,
    };

    [Fact]
    public async Task A_cycle_with_known_bad_rows_is_reported_by_reason_with_masked_samples_and_the_metrics_count_the_same()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.ExecuteAsync(BadRows);
        var rejects = new Dictionary<string, long>();
        var rows = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ProfileTelemetry.Name && instrument.Name is "quality.rejects" or "quality.rows_checked") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            lock (rejects)
            {
                if (instrument.Name == "quality.rows_checked") rows += value;
                else foreach (var tag in tags) if (tag.Key == "reason") rejects[(string)tag.Value!] = rejects.GetValueOrDefault((string)tag.Value!) + value;
            }
        });
        listener.Start();
        var state = new ProfileCycleState(bed.Time);
        var runner = await bed.CreateRunnerAsync(state: state);

        var result = await runner.RunCycleAsync(CycleMode.Incremental, Ct);
        var report = state.Quality.Report();

        Assert.True(result.Succeeded, result.Error?.ToString());
        var cycle = Assert.Single(report.Cycles);
        Assert.Equal("incremental", cycle.Kind);
        Assert.Equal(s_expectedRejects.OrderBy(kv => kv.Key), cycle.Rejects.Select(r => KeyValuePair.Create(r.Reason, r.Count)));
        Assert.Equal(["customer_id=2 email=<email: 24 chars, no '@'>"], cycle.Rejects.Single(r => r.Reason == QualityReasons.EmailInvalid).Samples);
        Assert.Equal(["customer_id=3 gender=<gender: 0 chars>"], cycle.Rejects.Single(r => r.Reason == QualityReasons.GenderInvalid).Samples);
        Assert.Equal(["txn_id=7"], cycle.Rejects.Single(r => r.Reason == QualityReasons.TransactionCustomerIdNull).Samples);
        Assert.Equal(1, Assert.Single(cycle.Warnings).Count);
        Assert.Equal(7 + 5, cycle.RowsChecked); // 7 transactions above the offset, 5 customer rows validated
        Assert.Equal(7, cycle.Lag);
        // Freshness: the newest purchase written (customer 1's, an hour before the test clock).
        Assert.Equal(new DateTime(2026, 11, 25, 11, 0, 0, DateTimeKind.Utc), report.NewestRecordAt);
        Assert.Equal(3600, report.FreshnessSeconds);
        lock (rejects)
        {
            Assert.Equal(s_expectedRejects.OrderBy(kv => kv.Key), rejects.OrderBy(kv => kv.Key));
            Assert.Equal(cycle.RowsChecked, rows);
        }
        var json = JsonSerializer.Serialize(report, QualityJsonContext.Default.PipelineQualityReport);
        foreach (var personal in s_personal) Assert.DoesNotContain(personal, json, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_running_service_serves_its_cycles_checks_at_quality_without_personal_data()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.ExecuteAsync(BadRows);
        var port = ServerProcess.FreeTcpPort();
        var environment = ProfileHostTests.Environment(bed, bed.Cql.ConnectionString(bed.Keyspace));
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";

        using var process = ProfileHostTests.Start(["--interval", "60"], environment, out var output);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            string? body = null;
            PipelineQualityReport? report = null;
            while (report is not { Cycles.Count: > 0 } && DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    body = await http.GetStringAsync($"http://127.0.0.1:{port}/quality", Ct);
                    report = JsonSerializer.Deserialize(body, QualityJsonContext.Default.PipelineQualityReport);
                }
                catch (HttpRequestException)
                {
                }
                if (report is not { Cycles.Count: > 0 }) await Task.Delay(250, Ct);
            }
            Assert.True(report is { Cycles.Count: > 0 }, "no cycle at /quality within 60 s:\n" + output);

            Assert.Equal("profile", report!.Pipeline);
            Assert.Equal("transactions", report.LagUnit);
            // The first cycle (the reconcile pass due at start re-checks the same rows and is not an entry).
            var cycle = Assert.Single(report.Cycles);
            Assert.Equal("incremental", cycle.Kind);
            Assert.True(cycle.Succeeded);
            Assert.Equal(s_expectedRejects.OrderBy(kv => kv.Key), cycle.Rejects.Select(r => KeyValuePair.Create(r.Reason, r.Count)));
            Assert.Equal(s_expectedRejects.OrderBy(kv => kv.Key), report.SinceStart.Rejects.Select(r => KeyValuePair.Create(r.Reason, r.Count)));
            Assert.Equal(["customer_id=77 transactions=1"], cycle.Rejects.Single(r => r.Reason == QualityReasons.CustomerMissing).Samples);
            Assert.NotNull(report.FreshnessSeconds);
            // snake_case names as the contract has them, and no personal value anywhere in the document.
            Assert.Contains("\"freshness_seconds\":", body);
            Assert.Contains("\"since_start\":", body);
            foreach (var personal in s_personal) Assert.DoesNotContain(personal, body, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }
}
