using System.Net;
using System.Text.Json;
using CustomerData.Api.Lake;
using CustomerData.Lake;
using CustomerData.Pipelines.Summary;
using CustomerData.TestServers;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerData.Api.Tests;

/// <summary>An S3 lake (s3rver) without httpfs: read from the local mirror, refreshed in the background, within the stated freshness.</summary>
public sealed class S3LakeTests(S3rverFixture s3)
{
    [Fact]
    public async Task An_s3_lake_is_mirrored_and_a_new_or_rewritten_day_shows_within_the_refresh_bound()
    {
        var ct = TestContext.Current.CancellationToken;
        var options = new LakeOptions
        {
            Root = $"s3://{s3.Server.Bucket}/{Guid.NewGuid():N}",
            ServiceUrl = s3.Server.ServiceUrl,
            AccessKey = S3rverServer.AccessKey,
            SecretKey = S3rverServer.SecretKey,
        };
        var mirror = Path.Combine(Path.GetTempPath(), "api-tests", "mirror-" + Guid.NewGuid().ToString("N"));
        var lake = new TestLake(LakeStorage.Create(options));
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Api:MirrorFolder"] = mirror, ["Api:RefreshInterval"] = "00:00:00.250" },
            lake: (lake, new Dictionary<string, string?>
            {
                ["Lake:Root"] = options.Root,
                ["Lake:ServiceUrl"] = options.ServiceUrl,
                ["Lake:AccessKey"] = options.AccessKey,
                ["Lake:SecretKey"] = options.SecretKey,
            }));
        try
        {
            Assert.Equal(LakeReadMode.Mirror, host.Services.GetRequiredService<LakeReadRoot>().Mode);
            var day = new DateOnly(2025, 12, 10);
            Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/summary/2025-12-10/7", ct)).StatusCode);

            // The stated bound (docs/api.md): one refresh interval plus one listing and sync; 5 s leaves room for a loaded machine.
            var bound = TimeSpan.FromSeconds(5);
            await lake.WriteSummaryDayAsync(day, [new DailySummary(7, 10.5m, 1, 1, "Toys", 1)]);
            Assert.Equal(10.5m, await WaitForAmountAsync(host, bound, expected: 10.5m, ct));
            await lake.WriteSummaryDayAsync(day, [new DailySummary(7, 20.25m, 2, 1, "Toys", 2)]);
            Assert.Equal(20.25m, await WaitForAmountAsync(host, bound, expected: 20.25m, ct));
            Assert.True(File.Exists(Path.Combine(mirror, "txn_summary", "date=2025-12-10", "part-0.parquet")));
        }
        finally
        {
            if (Directory.Exists(mirror)) Directory.Delete(mirror, recursive: true);
        }
    }

    private static async Task<decimal?> WaitForAmountAsync(ApiHost host, TimeSpan bound, decimal expected, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + bound;
        decimal? seen = null;
        while (DateTime.UtcNow < deadline)
        {
            var response = await host.Client.GetAsync("/summary/2025-12-10/7", ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
                seen = json.RootElement.GetProperty("data").GetProperty("summary").GetProperty("total_amount").GetDecimal();
                if (seen == expected) return seen;
            }
            await Task.Delay(50, ct);
        }
        return seen;
    }
}
