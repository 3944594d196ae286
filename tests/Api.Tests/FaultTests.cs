using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CustomerData.Api.Lake;
using CustomerData.Lake;
using CustomerData.Pipelines.Summary;
using CustomerData.TestServers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CustomerData.Api.Tests;

/// <summary>Faults of the backing services: each answers its envelope, the rest keeps working, and /health tells them apart.</summary>
public sealed class FaultTests
{
    private static readonly DateOnly Day = new(2025, 12, 10);

    [Fact]
    public async Task Cassandra_down_answers_503_within_a_second_while_the_lake_endpoints_keep_working()
    {
        var ct = TestContext.Current.CancellationToken;
        var closedPort = ServerProcess.FreeTcpPort();
        await using var host = await ApiHost.StartAsync(cassandraConnectionString: $"Contact Points=127.0.0.1:{closedPort};Keyspace={ApiHost.Keyspace}");
        await host.Lake.WriteSummaryDayAsync(Day, [new DailySummary(7, 10m, 1, 1, "Toys", 1)]);
        await host.WaitForLakeListingAsync(s => s.SummaryDays.Count == 1);
        for (var i = 0; i < 3; i++)
        {
            var watch = Stopwatch.StartNew();
            var response = await host.Client.GetAsync("/customer/7", ct);
            watch.Stop();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("""{"status":"error","message":"unavailable","data":{}}""", await response.Content.ReadAsStringAsync(ct));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1.5), $"the 503 took {watch.Elapsed.TotalMilliseconds} ms");
            Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/summary/2025-12-10/7", ct)).StatusCode);
        }
        var health = await HealthAsync(host);
        Assert.Equal("Unhealthy", health["cassandra-cassandra"]);
        Assert.Equal("Healthy", health["lake"]);
    }

    [Fact]
    public async Task A_missing_lake_answers_not_found()
    {
        var ct = TestContext.Current.CancellationToken;
        var missing = Path.Combine(Path.GetTempPath(), "api-tests", "missing-" + Guid.NewGuid().ToString("N"));
        await using var host = await ApiHost.StartAsync(lake: (new TestLake(new LocalFolderLakeStorage(missing)), new Dictionary<string, string?> { ["Lake:Root"] = missing }));
        foreach (var path in new[] { "/summary/2025-12-10", "/summary/2025-12-10/7", "/events/7" })
        {
            var response = await host.Client.GetAsync(path, ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("""{"status":"error","message":"not-found","data":{}}""", await response.Content.ReadAsStringAsync(ct));
        }
        Assert.Equal("Healthy", (await HealthAsync(host))["lake"]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_corrupt_parquet_file_answers_500_for_its_day_only_and_is_logged_once_with_its_name(bool cached)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Api:CacheLakeFiles"] = cached ? "true" : "false" });
        await host.Lake.WriteSummaryDayAsync(Day, [new DailySummary(7, 10m, 1, 1, "Toys", 1)]);
        var bad = Day.AddDays(1);
        await host.Lake.Storage.PublishAsync(LakeLayout.SummaryFile(bad), "PAR1 this is not parquet PAR1"u8.ToArray(), ct);
        await host.WaitForLakeListingAsync(s => s.SummaryDays.Count == 2);
        for (var i = 0; i < 3; i++)
        {
            var response = await host.Client.GetAsync("/summary/2025-12-11/7", ct);
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.Equal("""{"status":"error","message":"internal_error","data":{}}""", await response.Content.ReadAsStringAsync(ct));
            Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/summary/2025-12-10/7", ct)).StatusCode);
        }
        var mentions = host.Logs.Lines.Where(l => l.Level >= LogLevel.Error && l.Message.Contains(LakeLayout.SummaryPartFile, StringComparison.Ordinal)).ToList();
        Assert.Single(mentions);
        Assert.DoesNotContain(host.Logs.Lines, l => l.Level >= LogLevel.Error && l.Category.Contains("ApiErrorMiddleware", StringComparison.Ordinal));
        if (cached) Assert.Equal("Degraded", (await HealthAsync(host))["lake"]);
    }

    [Fact]
    public async Task An_exhausted_duckdb_pool_answers_503_after_a_bounded_wait_and_health_says_so()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?>
        {
            ["Api:CacheLakeFiles"] = "false",
            ["Api:DuckDb:Connections"] = "1",
            ["Api:DuckDb:AcquireTimeout"] = "00:00:00.200",
        });
        await host.Lake.WriteSummaryDayAsync(Day, [new DailySummary(7, 10m, 1, 1, "Toys", 1)]);
        await host.WaitForLakeListingAsync(s => s.SummaryDays.Count == 1);
        var pool = host.Services.GetRequiredService<DuckDbPool>();
        using var release = new SemaphoreSlim(0);
        var holder = Task.Run(() => pool.RunAsync("hold", _ => { release.Wait(TimeSpan.FromSeconds(30)); return 0; }, ct), ct);
        while (pool.InUse == 0) await Task.Delay(10, ct);
        try
        {
            var watch = Stopwatch.StartNew();
            var response = await host.Client.GetAsync("/summary/2025-12-10/7", ct);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("""{"status":"error","message":"unavailable","data":{}}""", await response.Content.ReadAsStringAsync(ct));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
            Assert.True(response.Headers.Contains("Retry-After"));
            Assert.Equal("Degraded", (await HealthAsync(host))["duckdb"]);
        }
        finally
        {
            release.Release();
            await holder;
        }
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/summary/2025-12-10/7", ct)).StatusCode);
    }

    [Fact]
    public async Task The_duckdb_database_reads_nothing_outside_the_lake_and_no_setting_can_change()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await ApiHost.StartAsync();
        var outside = Path.Combine(Path.GetTempPath(), "api-tests", "outside-" + Guid.NewGuid().ToString("N") + ".csv");
        await File.WriteAllTextAsync(outside, "secret\n1\n", ct);
        try
        {
            var pool = host.Services.GetRequiredService<DuckDbPool>();
            foreach (var sql in new[]
            {
                $"SELECT * FROM read_csv('{outside}')",
                "SELECT * FROM read_csv('/etc/passwd')",
                $"SELECT * FROM read_parquet('{host.LakeFolder}/../x.parquet')",
                "SET enable_external_access = true",
                "SET allowed_directories = ['/']",
                "SET lock_configuration = false",
                "SET threads = 8",
                "INSTALL httpfs",
            })
            {
                await Assert.ThrowsAsync<DuckDB.NET.Data.DuckDBException>(() => pool.RunAsync("probe", c =>
                {
                    using var command = c.CreateCommand();
                    command.CommandText = sql;
                    return command.ExecuteNonQuery();
                }, ct));
            }
        }
        finally
        {
            File.Delete(outside);
        }
    }

    internal static async Task<Dictionary<string, string>> HealthAsync(ApiHost host)
    {
        using var checks = host.Services.CreateScope();
        var service = checks.ServiceProvider.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>();
        var report = await service.CheckHealthAsync();
        return report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString());
    }
}
