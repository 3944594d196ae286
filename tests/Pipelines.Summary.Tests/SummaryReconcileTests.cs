using System.Globalization;
using CustomerData.Lake;
using CustomerData.Pipelines.Common;
using Microsoft.Extensions.Time.Testing;

namespace CustomerData.Pipelines.Summary.Tests;

/// <summary>
/// Changes an offset-driven cycle cannot see (a late commit below the offset, UPDATE, DELETE), the amount rule after a
/// price change, poison rows and the cross-process writer lock: afterwards the lake equals an independent SQL
/// computation over the source.
/// </summary>
public sealed class SummaryReconcileTests(MariaDbFixture mariaDb, S3rverFixture s3)
{
    public static TheoryData<string> Backends => ["local", "s3"];
    private static readonly DateOnly Day0 = new(2025, 10, 1);

    private Task<TestBed> BedAsync(string backend) => TestBed.CreateAsync(mariaDb.Server, s3.Server, backend, TestContext.Current.CancellationToken);

    private static string Glob(string root, string table) => LakeLayout.Glob(root, table).Replace("'", "''", StringComparison.Ordinal);

    /// <summary>The summary lake as rows in <see cref="SummaryPipelineTests.IndependentSummaryAsync"/>'s format.</summary>
    internal static async Task<List<string>> LakeRowsAsync(TestBed bed, ILakeStorage lake, CancellationToken ct)
    {
        var root = await bed.ReadableRootAsync(lake, ct);
        if (!Directory.EnumerateFiles(root, "*.parquet", SearchOption.AllDirectories).Any()) return [];
        return TestBed.DuckQuery(
                $"SELECT date, customer_id, total_amount, total_items, distinct_products, top_category FROM read_parquet('{Glob(root, LakeLayout.SummaryTable)}', hive_partitioning = true, hive_types_autocast = false) ORDER BY date, customer_id")
            .Select(r => string.Join('|', r[0], r[1], double.Parse(r[2], CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture), r[3], r[4], r[5]))
            .ToList();
    }

    private static string At(DateOnly day, int hour) => day.ToDateTime(new TimeOnly(hour, 0)).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_late_commit_below_the_offset_past_the_gap_grace_is_repaired_by_the_reconcile_pass(string backend)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync(backend);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var rows = bed.RandomValid(200, Day0, 5, seed: 31).Select((t, i) => t with { TxnId = i + 1 }).Where(t => t.TxnId != 100).ToList();
        await bed.InsertAsync(rows, ct);
        var lake = bed.NewLake();
        var pipeline = bed.Pipeline(lake, time);
        await pipeline.RunCycleAsync(ct);               // the gap at 100 holds the offset at 99
        time.Advance(TimeSpan.FromSeconds(31));
        var passed = await pipeline.RunCycleAsync(ct);  // grace over: the offset passes the gap
        Assert.Equal(200, passed.OffsetAfter);
        Assert.Equal(1, passed.ExpiredGapIds);

        // id 100 commits now, on an old day, below the offset: no cycle will read it.
        await bed.InsertAsync([bed.Valid(7, 3, 2, Day0.ToDateTime(new TimeOnly(13, 0)), id: 100)], ct);
        var cycle = await pipeline.RunCycleAsync(ct);
        Assert.Equal(0, cycle.RowsRead);
        Assert.NotEqual(await SummaryPipelineTests.IndependentSummaryAsync(bed, ct), await LakeRowsAsync(bed, lake, ct));

        var reconcile = await pipeline.ReconcileAsync(ct);

        Assert.Equal(1, reconcile.DaysRepaired);
        Assert.Equal(await SummaryPipelineTests.IndependentSummaryAsync(bed, ct), await LakeRowsAsync(bed, lake, ct));
        Assert.Equal(200, await bed.OffsetAsync(ct: ct));
        Assert.Equal(0, (await pipeline.ReconcileAsync(ct)).DaysRepaired);
    }

    [Fact]
    public async Task An_update_of_qty_and_amount_is_repaired_on_its_day_only()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(300, Day0, 6, seed: 32), ct);
        var lake = bed.NewLake();
        var pipeline = bed.Pipeline(lake);
        await pipeline.RunCycleAsync(ct);
        Assert.Equal(0, (await pipeline.ReconcileAsync(ct)).DaysRepaired);
        var before = await TestBed.SnapshotAsync(lake, ct);

        // qty and amount together (the row stays consistent), on one row of day 2; MySQL assigns left to right, so amount first.
        var id = await bed.ScalarAsync($"SELECT MIN(txn_id) FROM transactions WHERE DATE(txn_timestamp) = '{LakeLayout.Day(Day0.AddDays(2))}'", ct);
        await bed.ExecuteAsync($"UPDATE transactions SET amount = amount / qty * (qty + 5), qty = qty + 5 WHERE txn_id = {id}", ct);
        Assert.Equal(0, (await pipeline.RunCycleAsync(ct)).RowsRead);
        Assert.NotEqual(await SummaryPipelineTests.IndependentSummaryAsync(bed, ct), await LakeRowsAsync(bed, lake, ct));

        var reconcile = await pipeline.ReconcileAsync(ct);

        Assert.Equal(1, reconcile.DaysRepaired);
        Assert.Equal(6, reconcile.DaysChecked);
        Assert.Equal(await SummaryPipelineTests.IndependentSummaryAsync(bed, ct), await LakeRowsAsync(bed, lake, ct));
        var after = await TestBed.SnapshotAsync(lake, ct);
        var changed = after.Keys.Where(k => !before.TryGetValue(k, out var b) || !b.SequenceEqual(after[k])).ToList();
        Assert.Equal([LakeLayout.SummaryFile(Day0.AddDays(2))], changed);
    }

    [Fact]
    public async Task Deletes_are_repaired_and_a_day_without_rows_loses_its_partition()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(300, Day0, 6, seed: 33), ct);
        var lake = bed.NewLake();
        var pipeline = bed.Pipeline(lake);
        await pipeline.RunCycleAsync(ct);

        await bed.ExecuteAsync($"DELETE FROM transactions WHERE DATE(txn_timestamp) = '{LakeLayout.Day(Day0.AddDays(4))}'", ct);
        await bed.ExecuteAsync($"DELETE FROM transactions WHERE DATE(txn_timestamp) = '{LakeLayout.Day(Day0.AddDays(1))}' ORDER BY txn_id LIMIT 1", ct);
        await pipeline.RunCycleAsync(ct);
        Assert.NotEqual(await SummaryPipelineTests.IndependentSummaryAsync(bed, ct), await LakeRowsAsync(bed, lake, ct));

        var reconcile = await pipeline.ReconcileAsync(ct);

        Assert.Equal(2, reconcile.DaysRepaired);
        Assert.Equal(await SummaryPipelineTests.IndependentSummaryAsync(bed, ct), await LakeRowsAsync(bed, lake, ct));
        Assert.Null(await lake.ReadAsync(LakeLayout.SummaryFile(Day0.AddDays(4)), ct));
        Assert.Equal(0, (await pipeline.ReconcileAsync(ct)).DaysRepaired);
    }

    [Fact]
    public async Task A_lake_without_fingerprints_is_recomputed_once_including_days_whose_rows_are_gone()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(200, Day0, 4, seed: 34), ct);
        var lake = bed.NewLake();
        var pipeline = bed.Pipeline(lake);
        await pipeline.RunCycleAsync(ct);
        // As a lake written before this change: no fingerprints, and a day deleted in the source.
        await lake.DeleteAsync(LakeLayout.SummaryFingerprintsFile, ct);
        await bed.ExecuteAsync($"DELETE FROM transactions WHERE DATE(txn_timestamp) = '{LakeLayout.Day(Day0.AddDays(3))}'", ct);

        var first = await pipeline.ReconcileAsync(ct);

        Assert.Equal(4, first.DaysRepaired);
        Assert.Equal(await SummaryPipelineTests.IndependentSummaryAsync(bed, ct), await LakeRowsAsync(bed, lake, ct));
        Assert.Equal(0, (await pipeline.ReconcileAsync(ct)).DaysRepaired);
    }

    [Fact]
    public async Task A_price_change_followed_by_a_rebuild_keeps_old_days_totals()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(400, Day0, 5, seed: 35), ct);
        var lake = bed.NewLake();
        var pipeline = bed.Pipeline(lake);
        await pipeline.RunCycleAsync(ct);
        var before = await LakeRowsAsync(bed, lake, ct);

        await bed.ExecuteAsync("UPDATE products SET price = price * 2 + 0.03", ct);
        var rebuild = await pipeline.RebuildAsync(cancellationToken: ct);

        Assert.Equal(0, rebuild.Rejected);
        Assert.Equal(before, await LakeRowsAsync(bed, lake, ct));
        Assert.Equal(await SummaryPipelineTests.IndependentSummaryAsync(bed, ct, validOnly: true), before);
    }

    [Fact]
    public async Task A_row_whose_amount_is_not_whole_cents_per_unit_is_rejected_with_the_rule_in_the_report()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        // 10.00 / 3 units is no price in cents: rejected whatever the product costs today.
        await bed.InsertAsync([bed.Valid(1, 1, 1, Day0.ToDateTime(new TimeOnly(8, 0))), new Txn(null, 2, 1, 3, 10.00m, At(Day0, 9))], ct);
        var lake = bed.NewLake();

        var result = await bed.Pipeline(lake).RunCycleAsync(ct);

        Assert.Equal(new Dictionary<string, long> { [RejectReasons.AmountMismatch] = 1 }, result.RejectedByReason);
        var root = await bed.ReadableRootAsync(lake, ct);
        Assert.Equal([["2", RejectReasons.AmountMismatch]], TestBed.DuckQuery($"SELECT txn_id, reason FROM read_parquet('{Glob(root, LakeLayout.SummaryRejects)}')"));
    }

    [Fact]
    public async Task A_customer_day_whose_qty_sum_overflows_int_is_a_counted_reject_and_the_cycle_goes_on()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        // Two rows of 2,000,000,000 units at 0.01 each: each row is fine, their day total is past int32.
        await bed.InsertAsync([new Txn(null, 3, 1, 2_000_000_000, 20_000_000m, At(Day0, 8)), new Txn(null, 3, 2, 2_000_000_000, 20_000_000m, At(Day0, 9))], ct);
        await bed.InsertAsync(bed.RandomValid(100, Day0, 2, seed: 36).Where(t => t.CustomerId != 3).ToList(), ct);
        var lake = bed.NewLake();
        var pipeline = bed.Pipeline(lake);

        var result = await pipeline.RunCycleAsync(ct);

        Assert.Equal(await bed.ScalarAsync("SELECT MAX(txn_id) FROM transactions", ct), result.OffsetAfter);
        Assert.Equal(2, result.RejectedByReason[RejectReasons.TotalOverflow]);
        var expected = (await SummaryPipelineTests.IndependentSummaryAsync(bed, ct)).Where(r => r.Split('|')[1] != "3").ToList();
        Assert.Equal(expected, await LakeRowsAsync(bed, lake, ct));
        var root = await bed.ReadableRootAsync(lake, ct);
        Assert.Equal([["1", RejectReasons.TotalOverflow], ["2", RejectReasons.TotalOverflow]],
            TestBed.DuckQuery($"SELECT txn_id, reason FROM read_parquet('{Glob(root, LakeLayout.SummaryRejects)}') ORDER BY txn_id"));
        Assert.Equal(0, (await pipeline.ReconcileAsync(ct)).DaysRepaired);
    }

    [Fact]
    public async Task A_second_instance_skips_while_another_holds_the_writer_lock()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(50, Day0, 2, seed: 37), ct);
        var lake = bed.NewLake();
        var logger = new ListLogger<SummaryPipeline>();
        var pipeline = bed.Pipeline(lake, configure: o => o.LockTimeout = TimeSpan.Zero, logger: logger);

        await using (var held = await SourceLock.TryAcquireAsync(bed.DataSource, "summary", "transactions", TimeSpan.Zero, ct))
        {
            Assert.NotNull(held);
            var skipped = await pipeline.RunCycleAsync(ct);
            Assert.True(skipped.WasSkipped);
            Assert.True((await pipeline.ReconcileAsync(ct)).Skipped);
            Assert.Equal(0, await bed.OffsetAsync(ct: ct));
            Assert.Empty(await lake.ListAsync(LakeLayout.SummaryTable + "/", ct));
            Assert.Contains(logger.Entries, e => e.Message.Contains("writer lock", StringComparison.Ordinal));
        }

        var ran = await pipeline.RunCycleAsync(ct);
        Assert.False(ran.WasSkipped);
        Assert.Equal(50, ran.OffsetAfter);
    }

    [Fact]
    public async Task A_rebuild_racing_the_service_ends_with_the_lake_equal_to_the_source()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var bed = await BedAsync("local");
        await bed.InsertAsync(bed.RandomValid(2000, Day0, 90, seed: 38), ct);
        var lake = bed.NewLake();
        var service = bed.Pipeline(lake);
        var rebuilder = bed.Pipeline(lake);
        await service.RunCycleAsync(ct);

        // The service keeps cycling while rows change under it and a second instance rebuilds.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var serviceLoop = Task.Run(async () =>
        {
            var cycles = 0;
            while (!stop.IsCancellationRequested)
            {
                await service.RunCycleAsync(ct);
                if (++cycles % 3 == 0) await service.ReconcileAsync(ct);
            }
            return cycles;
        }, ct);
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                await bed.InsertAsync(bed.RandomValid(20, Day0.AddDays(i * 9), 3, seed: 100 + i), ct);
                await bed.ExecuteAsync($"UPDATE transactions SET amount = amount / qty * (qty + 1), qty = qty + 1 WHERE txn_id = {1 + i * 150}", ct);
                await bed.ExecuteAsync($"DELETE FROM transactions WHERE txn_id = {2 + i * 150}", ct);
            }
        }, ct);
        var rebuilds = Task.Run(async () =>
        {
            for (var i = 0; i < 3; i++) Assert.False((await rebuilder.RebuildAsync(cancellationToken: ct)).WasSkipped);
        }, ct);
        await Task.WhenAll(writer, rebuilds);
        await stop.CancelAsync();
        Assert.True(await serviceLoop > 0);

        // The changes made after the last pass are picked up by one more cycle and reconcile, as the service would.
        await service.RunCycleAsync(ct);
        await service.ReconcileAsync(ct);

        Assert.Equal(await SummaryPipelineTests.IndependentSummaryAsync(bed, ct), await LakeRowsAsync(bed, lake, ct));
        Assert.Equal(0, (await rebuilder.ReconcileAsync(ct)).DaysRepaired);
    }
}
