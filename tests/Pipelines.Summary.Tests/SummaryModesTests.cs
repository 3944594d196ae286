using System.Diagnostics;
using CustomerData.Contracts;
using CustomerData.Lake;
using CustomerData.TestServers;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CustomerData.Pipelines.Summary.Tests;

/// <summary>Rebuild, faults, health, and the real executable's one-shot modes.</summary>
public sealed class SummaryModesTests(MariaDbFixture mariaDb, S3rverFixture s3)
{
    private static readonly DateOnly Day0 = new(2025, 11, 1);

    private Task<TestBed> BedAsync(string backend) => TestBed.CreateAsync(mariaDb.Server, s3.Server, backend, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Rebuild_restores_lost_partitions_deletes_stale_ones_and_matches_a_clean_run()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(500, Day0, 12, seed: 7), ct);
        var lake = bed.NewLake();
        var pipeline = bed.Pipeline(lake);
        await pipeline.RunCycleAsync(ct);
        var clean = await TestBed.SnapshotAsync(lake, ct);
        // Damage the lake: lose a day, and add a partition for a day without transactions.
        await lake.DeleteAsync(LakeLayout.SummaryFile(Day0.AddDays(3)), ct);
        await lake.PublishAsync(LakeLayout.SummaryFile(Day0.AddDays(40)), clean.Values.First(), ct);
        var progress = new List<RebuildProgress>();

        var result = await pipeline.RebuildAsync(progress: new SyncProgress(progress.Add), cancellationToken: ct);

        var rebuilt = await TestBed.SnapshotAsync(lake, ct);
        Assert.Equal(clean.Keys, rebuilt.Keys);
        Assert.All(clean, kv => Assert.Equal(kv.Value, rebuilt[kv.Key]));
        Assert.Equal(12, result.DaysRewritten);
        Assert.Equal(1, result.DaysDeleted);
        Assert.Equal(500, result.TransactionsAggregated);
        Assert.Equal(12, progress[^1].DaysDone);
        Assert.Equal(12, progress[^1].DaysTotal);
    }

    [Fact]
    public async Task Rebuild_from_a_date_rewrites_only_that_day_and_later()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(300, Day0, 10, seed: 8), ct);
        var lake = bed.NewLake();
        var pipeline = bed.Pipeline(lake);
        await pipeline.RunCycleAsync(ct);
        var before = await lake.ListAsync(LakeLayout.SummaryTable + "/", ct);
        await Task.Delay(20, ct);

        var result = await pipeline.RebuildAsync(Day0.AddDays(7), cancellationToken: ct);

        var after = await lake.ListAsync(LakeLayout.SummaryTable + "/", ct);
        var touched = after.Where(a => before.Single(b => b.Key == a.Key).LastModified != a.LastModified).Select(a => a.Key);
        Assert.Equal(3, result.DaysRewritten);
        Assert.Equal(Enumerable.Range(7, 3).Select(d => LakeLayout.SummaryFile(Day0.AddDays(d))), touched);
    }

    [Fact]
    public async Task An_unreachable_lake_fails_the_cycle_without_moving_the_offset()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("s3");
        await bed.InsertAsync(bed.RandomValid(50, Day0, 2, seed: 9), ct);
        using var nowhere = new S3LakeStorage(new LakeOptions
        {
            Root = "s3://lake",
            ServiceUrl = $"http://127.0.0.1:{ServerProcess.FreeTcpPort()}",
            AccessKey = S3rverServer.AccessKey,
            SecretKey = S3rverServer.SecretKey,
        });

        await Assert.ThrowsAnyAsync<Exception>(() => bed.Pipeline(nowhere).RunCycleAsync(ct));

        Assert.Equal(0, await bed.OffsetAsync(ct: ct));
    }

    [Fact]
    public void Health_turns_unhealthy_when_the_last_good_cycle_is_older_than_the_threshold()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var state = new SummaryHealthState(time);
        var check = new SummaryHealthCheck(state, Options.Create(new SummaryOptions { UnhealthyAfter = TimeSpan.FromMinutes(1) }));
        HealthStatus Status() => check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken).Result.Status;

        var starting = Status();
        time.Advance(TimeSpan.FromSeconds(61));
        var neverSucceeded = Status();
        state.MarkGood();
        var fresh = Status();
        time.Advance(TimeSpan.FromSeconds(61));
        var stale = Status();

        Assert.Equal([HealthStatus.Healthy, HealthStatus.Unhealthy, HealthStatus.Healthy, HealthStatus.Unhealthy], [starting, neverSucceeded, fresh, stale]);
    }

    [Theory]
    [InlineData(new string[0], RunMode.Continuous, null, null)]
    [InlineData(new[] { "--once" }, RunMode.Once, null, null)]
    [InlineData(new[] { "--interval", "2.5", "--Lake:Root=/x" }, RunMode.Continuous, 2.5, null)]
    [InlineData(new[] { "--rebuild", "--from", "2025-12-01" }, RunMode.Rebuild, null, "2025-12-01")]
    public void Command_line_selects_the_mode(string[] args, RunMode mode, double? intervalSeconds, string? from)
    {
        var parsed = SummaryCommandLine.Parse(args);

        Assert.Equal(mode, parsed.Mode);
        Assert.Equal(intervalSeconds, parsed.Interval?.TotalSeconds);
        Assert.Equal(from, parsed.From?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        Assert.DoesNotContain(parsed.HostArgs, a => a is "--once" or "--rebuild" or "--interval" or "--from");
    }

    [Theory]
    [InlineData("--from", "2025-12-01")]
    [InlineData("--rebuild", "--from", "2025-02-30")]
    [InlineData("--once", "--rebuild")]
    [InlineData("--interval", "-1")]
    public void Bad_command_lines_are_refused(params string[] args) =>
        Assert.Throws<ArgumentException>(() => SummaryCommandLine.Parse(args));

    [Fact]
    public async Task The_executable_once_mode_exits_zero_after_a_cycle_and_one_when_mysql_is_unreachable()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(100, Day0, 3, seed: 10), ct);
        var lake = (LocalFolderLakeStorage)bed.NewLake();

        var (ok, okOutput) = await RunExecutableAsync(["--once"], bed.ConnectionString, lake.RootUri, ct);
        var unreachable = new MySqlConnector.MySqlConnectionStringBuilder(bed.ConnectionString) { Port = (uint)ServerProcess.FreeTcpPort(), ConnectionTimeout = 2 }.ConnectionString;
        var (failed, failedOutput) = await RunExecutableAsync(["--once", "--Summary:MaxAttempts=2", "--Summary:RetryInitialDelay=00:00:00.2"], unreachable, lake.RootUri, ct);

        Assert.True(ok == 0, okOutput);
        Assert.Equal(await bed.ScalarAsync("SELECT MAX(txn_id) FROM transactions", ct), await bed.OffsetAsync(ct: ct));
        Assert.Equal(3, (await lake.ListAsync(LakeLayout.SummaryTable + "/", ct)).Count);
        Assert.True(failed == 1, failedOutput);
    }

    [Fact]
    public async Task The_executable_runs_continuously_with_health_endpoints_and_picks_up_new_rows()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(50, Day0, 2, seed: 11), ct);
        var lake = (LocalFolderLakeStorage)bed.NewLake();
        var port = ServerProcess.FreeTcpPort();
        var psi = Executable(["--interval", "0.3", "--urls", $"http://127.0.0.1:{port}"], bed.ConnectionString, lake.RootUri);
        using var process = Process.Start(psi)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            await WaitUntilAsync(async () => await bed.OffsetAsync(ct: ct) == 50, output, ct);
            await bed.InsertAsync(bed.RandomValid(10, Day0.AddDays(5), 1, seed: 12), ct);
            await WaitUntilAsync(async () => await bed.OffsetAsync(ct: ct) == 60, output, ct);
            var health = await http.GetAsync("/health", ct);
            var alive = await http.GetAsync("/alive", ct);

            Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.OK, alive.StatusCode);
            Assert.Equal(3, (await lake.ListAsync(LakeLayout.SummaryTable + "/", ct)).Count);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_executable_reconciles_on_its_configured_interval_and_repairs_an_update()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(80, Day0, 3, seed: 13), ct);
        var lake = (LocalFolderLakeStorage)bed.NewLake();
        var port = ServerProcess.FreeTcpPort();
        // Summary:Reconcile:Interval as the AppHost passes it (environment), 1 s here so the test waits little.
        var psi = Executable(["--interval", "0.3", "--urls", $"http://127.0.0.1:{port}"], bed.ConnectionString, lake.RootUri);
        psi.Environment["Summary__Reconcile__Interval"] = "00:00:01";
        using var process = Process.Start(psi)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await WaitUntilAsync(async () => await bed.OffsetAsync(ct: ct) == 80, output, ct);
            var before = await SummaryReconcileTests.LakeRowsAsync(bed, lake, ct);
            await bed.ExecuteAsync("UPDATE transactions SET amount = amount / qty * (qty + 2), qty = qty + 2 WHERE txn_id = 5", ct);
            var expected = await SummaryPipelineTests.IndependentSummaryAsync(bed, ct);
            Assert.NotEqual(expected, before);

            await WaitUntilAsync(async () => (await SummaryReconcileTests.LakeRowsAsync(bed, lake, ct)).SequenceEqual(expected), output, ct);
            lock (output) Assert.Contains("1 repaired", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, System.Text.StringBuilder output, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                lock (output) throw new TimeoutException("Condition not met within 60 s. Output:\n" + output);
            }
            await Task.Delay(100, ct);
        }
    }

    internal static ProcessStartInfo Executable(string[] args, string connectionString, string lakeRoot)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Pipelines.Summary.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["ConnectionStrings__customerdb"] = connectionString;
        psi.Environment["Lake__Root"] = lakeRoot;
        psi.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "";
        return psi;
    }

    private static async Task<(int ExitCode, string Output)> RunExecutableAsync(string[] args, string connectionString, string lakeRoot, CancellationToken ct)
    {
        using var process = Process.Start(Executable(args, connectionString, lakeRoot))!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("Pipelines.Summary did not exit within 60 s:\n" + await stdout + await stderr);
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Progress that reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<RebuildProgress> report) : IProgress<RebuildProgress>
    {
        public void Report(RebuildProgress value) => report(value);
    }
}
