using System.Diagnostics;
using System.Net;
using CustomerData.Lake;
using CustomerData.Pipelines.Common;
using CustomerData.TestServers;
using CustomerData.Tests.Shared;

namespace CustomerData.Pipelines.Summary.Tests;

/// <summary>The operator command of Pipeline B: <c>/admin/summary/rebuild</c> of the real executable, over real MariaDB and a lake folder.</summary>
public sealed class SummaryAdminTests(MariaDbFixture mariaDb, S3rverFixture s3)
{
    private static readonly DateOnly Day0 = new(2025, 9, 1);
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_rebuild_of_a_day_range_makes_the_lake_equal_an_independent_SQL_computation_and_a_second_one_changes_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await TestBed.CreateAsync(mariaDb.Server, s3.Server, "local", ct);
        await bed.InsertAsync(bed.RandomValid(90, Day0, 3, seed: 21), ct);
        var lake = (LocalFolderLakeStorage)bed.NewLake();
        using var worker = Worker.Start(bed, lake);
        await worker.WaitUntilAsync(async () => await bed.OffsetAsync(ct: ct) == 90);

        // The lake drifts from the source: a day's file lost, a row changed below the offset (no reconcile pass runs).
        await lake.DeleteAsync(LakeLayout.SummaryFile(Day0.AddDays(1)), ct);
        await bed.ExecuteAsync("UPDATE transactions SET amount = amount / qty * (qty + 3), qty = qty + 3 WHERE txn_id = 7", ct);
        var expected = await SummaryPipelineTests.IndependentSummaryAsync(bed, ct);
        Assert.NotEqual(expected, await SummaryReconcileTests.LakeRowsAsync(bed, lake, ct));

        using var client = OpsTestTokens.Operator(worker.Address);
        var path = $"/admin/{SummaryAdminEndpoints.RebuildPath}?fromDate={LakeLayout.Day(Day0)}&toDate={LakeLayout.Day(Day0.AddDays(2))}";
        var started = await client.PostAsync(path, null, ct);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var done = await OpsTestTokens.WaitForOperationAsync(client, SummaryAdminEndpoints.RebuildPath, s_bound);
        Assert.True(done.GetProperty("state").GetString() == "succeeded", done.ToString());
        Assert.Equal(expected, await SummaryReconcileTests.LakeRowsAsync(bed, lake, ct));
        Assert.Equal(1.0, done.GetProperty("fraction").GetDouble());

        var again = await client.PostAsync(path, null, ct);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        var second = await OpsTestTokens.WaitForOperationAsync(client, SummaryAdminEndpoints.RebuildPath, s_bound);
        Assert.Equal(("succeeded", 2), (second.GetProperty("state").GetString(), second.GetProperty("runs").GetInt32()));
        Assert.Equal(expected, await SummaryReconcileTests.LakeRowsAsync(bed, lake, ct));
        lock (worker.Output) Assert.Contains("Operator command: summary day rebuild done", worker.Output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_token_or_the_scope_or_with_a_bad_range_nothing_starts_and_a_second_start_while_one_runs_is_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await TestBed.CreateAsync(mariaDb.Server, s3.Server, "local", ct);
        await bed.InsertAsync(bed.RandomValid(20, Day0, 2, seed: 22), ct);
        var lake = (LocalFolderLakeStorage)bed.NewLake();
        using var worker = Worker.Start(bed, lake);
        await worker.WaitUntilAsync(async () => await bed.OffsetAsync(ct: ct) == 20);
        var path = $"/admin/{SummaryAdminEndpoints.RebuildPath}?fromDate={LakeLayout.Day(Day0)}&toDate={LakeLayout.Day(Day0.AddDays(1))}";

        using var anonymous = new HttpClient { BaseAddress = worker.Address };
        var unauthorized = await anonymous.PostAsync(path, null, ct);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal("unauthorized", (await OpsTestTokens.EnvelopeAsync(unauthorized)).Message);
        using var reader = new HttpClient { BaseAddress = worker.Address };
        reader.DefaultRequestHeaders.Authorization = new("Bearer", OpsTestTokens.Create("analytics:read"));
        var forbidden = await reader.PostAsync(path, null, ct);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("forbidden", (await OpsTestTokens.EnvelopeAsync(forbidden)).Message);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/admin/" + SummaryAdminEndpoints.RebuildPath, ct)).StatusCode);

        using var client = OpsTestTokens.Operator(worker.Address);
        foreach (var (query, message) in new[]
        {
            ("fromDate=2025-13-01&toDate=2025-12-02", "invalid_fromDate_format"),
            ("fromDate=2025-12-01", "invalid_toDate_format"),
            ("fromDate=2025-12-05&toDate=2025-12-01", "invalid_date_range"),
        })
        {
            var bad = await client.PostAsync($"/admin/{SummaryAdminEndpoints.RebuildPath}?{query}", null, ct);
            Assert.Equal((HttpStatusCode.BadRequest, message), (bad.StatusCode, (await OpsTestTokens.EnvelopeAsync(bad)).Message));
        }
        var (_, idle) = await OpsTestTokens.EnvelopeAsync(await client.GetAsync("/admin/" + SummaryAdminEndpoints.RebuildPath, ct));
        Assert.Equal(("idle", 0), (idle.GetProperty("state").GetString(), idle.GetProperty("runs").GetInt32()));

        // Another instance holds the writer lock: the rebuild waits for it, so it is still running at the second start.
        var held = await SourceLock.TryAcquireAsync(bed.DataSource, "summary", "transactions", TimeSpan.FromSeconds(30), ct);
        Assert.NotNull(held);
        HttpResponseMessage second;
        await using (held)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync(path, null, ct)).StatusCode);
            second = await client.PostAsync(path, null, ct);
        }
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        var (refusal, running) = await OpsTestTokens.EnvelopeAsync(second);
        Assert.Contains("already running", refusal, StringComparison.Ordinal);
        Assert.Equal("running", running.GetProperty("state").GetString());
        var done = await OpsTestTokens.WaitForOperationAsync(client, SummaryAdminEndpoints.RebuildPath, s_bound);
        Assert.Equal(("succeeded", 1), (done.GetProperty("state").GetString(), done.GetProperty("runs").GetInt32()));
    }

    /// <summary>The real executable in continuous mode with the operator token settings; no reconcile pass during a test.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly Process _process;

        private Worker(Process process, Uri address)
        {
            _process = process;
            Address = address;
        }

        public Uri Address { get; }
        public System.Text.StringBuilder Output { get; } = new();

        public static Worker Start(TestBed bed, LocalFolderLakeStorage lake)
        {
            var port = ServerProcess.FreeTcpPort();
            var psi = SummaryModesTests.Executable(["--interval", "0.3", "--urls", $"http://127.0.0.1:{port}"], bed.ConnectionString, lake.RootUri);
            psi.Environment["Summary__Reconcile__Interval"] = "01:00:00";
            foreach (var (key, value) in OpsTestTokens.Environment) psi.Environment[key] = value;
            var worker = new Worker(Process.Start(psi)!, new Uri($"http://127.0.0.1:{port}"));
            worker._process.OutputDataReceived += (_, e) => { lock (worker.Output) worker.Output.AppendLine(e.Data); };
            worker._process.ErrorDataReceived += (_, e) => { lock (worker.Output) worker.Output.AppendLine(e.Data); };
            worker._process.BeginOutputReadLine();
            worker._process.BeginErrorReadLine();
            return worker;
        }

        public async Task WaitUntilAsync(Func<Task<bool>> condition)
        {
            var deadline = DateTime.UtcNow + s_bound;
            while (!await condition())
            {
                if (DateTime.UtcNow > deadline) lock (Output) throw new TimeoutException("Condition not met. Output:\n" + Output);
                await Task.Delay(100);
            }
        }

        public void Dispose()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            _process.Dispose();
        }
    }
}
