using System.Diagnostics;
using CustomerData.Lake;
using CustomerData.Tests.Shared;
using MySqlConnector;

namespace CustomerData.Pipelines.Summary.Tests;

/// <summary>What a cycle sends to the dashboard: one trace with its MySQL and lake spans.</summary>
public sealed class SummaryTraceTests(MariaDbFixture mariaDb, S3rverFixture s3)
{
    public static TheoryData<string> Backends => ["local", "s3"];

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_cycle_trace_holds_its_MySQL_queries_and_one_lake_span_per_object_it_writes_or_reads(string backend)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await TestBed.CreateAsync(mariaDb.Server, s3.Server, backend, ct);
        var day0 = new DateOnly(2025, 12, 1);
        await bed.InsertAsync(bed.RandomValid(300, day0, 3, seed: 7), ct);
        var lake = bed.NewLake();
        await using var capture = await TraceCapture.StartAsync();

        var result = await bed.Pipeline(lake).RunCycleAsync(ct);

        Assert.Equal(3, result.DaysRewritten);
        var database = new MySqlConnectionStringBuilder(bed.ConnectionString).Database;
        // The capture hears the whole process: this test's cycle is the one whose MySQL spans name its database.
        var cycle = Assert.Single(capture.Snapshot(), s => s.OperationName == "summary.cycle"
            && capture.Descendants(s).Any(d => Equals(d.GetTagItem("db.name"), database)));
        Assert.Equal(default, cycle.ParentSpanId);
        var children = capture.Descendants(cycle);
        Assert.Contains(children, s => s.Source.Name == "MySqlConnector" && (s.GetTagItem("db.statement") as string ?? "").Contains("transactions", StringComparison.Ordinal));
        var lakeSpans = children.Where(s => s.Source.Name == LakeTelemetry.Name).ToList();
        Assert.All(lakeSpans, s => Assert.Equal(ActivityKind.Client, s.Kind));
        // Each day's file is published (on S3 one PUT span per object under the call's span) and read back once to verify it.
        var published = lakeSpans.Where(s => s.OperationName == (backend == "s3" ? "lake publish" : "lake publish_all")).ToList();
        Assert.NotEmpty(published);
        Assert.Equal(3, lakeSpans.Count(s => s.OperationName == "lake read" && ((string)s.GetTagItem("lake.key")!).StartsWith(LakeLayout.SummaryTable + "/", StringComparison.Ordinal)));
        if (backend == "s3") Assert.Equal(3, published.Count(s => ((string)s.GetTagItem("lake.key")!).StartsWith(LakeLayout.SummaryTable + "/", StringComparison.Ordinal)));
        // Coarse: never a span per summary row (300 transactions over 40 customers and 3 days).
        Assert.True(lakeSpans.Count < 30, $"{lakeSpans.Count} lake spans");
    }
}
