using CustomerData.Pipelines.Common;
using CustomerData.Cql.DevServer;

namespace CustomerData.Pipelines.Profile.Tests;

/// <summary>
/// Changes an offset-driven cycle cannot see (a late commit below the offset, UPDATE, DELETE) and the cross-process
/// writer lock: afterwards the profile table equals the independent computation over the source.
/// </summary>
public sealed class ProfileReconcileTests(MariaDbFixture maria, CqlDevServerFixture cql)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Insert = "INSERT INTO transactions (txn_id, customer_id, product_id, qty, amount, txn_timestamp) VALUES ";

    /// <summary>Buckets of 8 customers: a change repairs its bucket, not all 40.</summary>
    private static void Small(ProfileOptions o) => o.Reconcile.BucketSize = 8;

    private async Task<(ProfileTestBed Bed, ProfileCycleRunner Runner)> ReconciledAsync(int seed)
    {
        var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 40, products: 10, transactions: 400, seed: seed);
        var runner = await bed.CreateRunnerAsync(Small);
        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);
        // The first pass has no stored fingerprints: it recomputes everything once and stores them.
        var first = await runner.ReconcileAsync(Ct);
        Assert.Equal(first.BucketsChecked, first.BucketsRepaired);
        Assert.Equal(0, (await runner.ReconcileAsync(Ct)).BucketsRepaired);
        return (bed, runner);
    }

    [Fact]
    public async Task A_late_commit_below_the_offset_past_the_gap_grace_is_repaired_in_its_bucket_only()
    {
        var (bed, runner) = await ReconciledAsync(seed: 41);
        await using var _ = bed;
        await bed.ExecuteAsync(Insert + "(402, 3, 1, 1, 5.00, '2026-02-01 00:00:00')");
        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded); // 401 missing: offset held at 400
        bed.Time.Advance(TimeSpan.FromSeconds(31));
        var passed = await runner.RunCycleAsync(CycleMode.Incremental, Ct);
        Assert.Equal(402, passed.OffsetAfter);
        Assert.Single(passed.ExpiredGaps);

        // 401 commits now, below the offset: no cycle reads it.
        await bed.ExecuteAsync(Insert + "(401, 20, 2, 2, 40.00, '2026-03-01 00:00:00')");
        Assert.Equal(0, (await runner.RunCycleAsync(CycleMode.Incremental, Ct)).ProfilesWritten);
        Assert.NotEqual((await bed.ExpectedProfilesAsync())[20], (await bed.ReadTableAsync())[20]);

        var reconcile = await runner.ReconcileAsync(Ct);

        Assert.Equal(1, reconcile.BucketsRepaired);
        Assert.InRange(reconcile.CustomersRepaired, 1, 8);
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
        Assert.Equal(402, await bed.StoredOffsetAsync());
        Assert.Equal(0, (await runner.ReconcileAsync(Ct)).BucketsRepaired);
    }

    [Fact]
    public async Task New_rows_taken_by_incremental_cycles_keep_the_fingerprints_equal_to_the_source()
    {
        var (bed, runner) = await ReconciledAsync(seed: 42);
        await using var _ = bed;
        await bed.AddTransactionsAsync(50, customers: 40, products: 10, new Random(1));
        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);
        await bed.AddTransactionsAsync(20, customers: 40, products: 10, new Random(2));
        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);

        Assert.Equal(0, (await runner.ReconcileAsync(Ct)).BucketsRepaired);
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
    }

    [Fact]
    public async Task An_update_of_qty_and_amount_is_repaired()
    {
        var (bed, runner) = await ReconciledAsync(seed: 43);
        await using var _ = bed;
        await bed.ExecuteAsync("UPDATE transactions SET amount = amount / qty * (qty + 3), qty = qty + 3 WHERE txn_id = 17");
        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);

        var reconcile = await runner.ReconcileAsync(Ct);

        Assert.Equal(1, reconcile.BucketsRepaired);
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
    }

    [Fact]
    public async Task A_change_of_a_customer_row_alone_reaches_the_profile_through_the_reconcile_pass()
    {
        var (bed, runner) = await ReconciledAsync(seed: 47);
        await using var _ = bed;
        await bed.ExecuteAsync("UPDATE customers SET name = 'Renamed_12', email = 'renamed_12@example.com' WHERE customer_id = 12");
        Assert.Equal(0, (await runner.RunCycleAsync(CycleMode.Incremental, Ct)).ProfilesWritten);
        Assert.Equal("Customer_12", (await bed.ReadTableAsync())[12].Name);

        var reconcile = await runner.ReconcileAsync(Ct);

        Assert.Equal(1, reconcile.BucketsRepaired);
        Assert.Equal("Renamed_12", (await bed.ReadTableAsync())[12].Name);
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
    }

    [Fact]
    public async Task Deletes_are_repaired_and_a_customer_without_transactions_loses_the_profile()
    {
        var (bed, runner) = await ReconciledAsync(seed: 44);
        await using var _ = bed;
        await bed.ExecuteAsync("DELETE FROM transactions WHERE customer_id = 5");
        await bed.ExecuteAsync("DELETE FROM transactions WHERE customer_id = 30 ORDER BY txn_id LIMIT 1");
        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);
        Assert.Contains(5, (await bed.ReadTableAsync()).Keys);

        var reconcile = await runner.ReconcileAsync(Ct);

        Assert.Equal(2, reconcile.BucketsRepaired);
        var table = await bed.ReadTableAsync();
        Assert.DoesNotContain(5, table.Keys);
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), table);
    }

    [Fact]
    public async Task A_second_instance_skips_while_another_holds_the_writer_lock()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 10, products: 5, transactions: 50, seed: 45);
        var runner = await bed.CreateRunnerAsync(o => o.LockTimeout = TimeSpan.Zero);

        await using (var held = await SourceLock.TryAcquireAsync(bed.DataSource, "profile", "transactions", TimeSpan.Zero, Ct))
        {
            Assert.NotNull(held);
            var skipped = await runner.RunCycleAsync(CycleMode.Incremental, Ct);
            Assert.True(skipped.Skipped);
            Assert.False(skipped.Succeeded);
            Assert.True((await runner.ReconcileAsync(Ct)).Skipped);
            Assert.Equal(0, await bed.StoredOffsetAsync());
        }

        var ran = await runner.RunCycleAsync(CycleMode.Incremental, Ct);
        Assert.True(ran.Succeeded, ran.Error?.ToString());
        Assert.Equal(50, ran.OffsetAfter);
    }

    [Fact]
    public async Task A_rebuild_racing_the_service_ends_with_the_table_equal_to_the_source()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 40, products: 10, transactions: 600, seed: 46);
        var service = await bed.CreateRunnerAsync(Small);
        var rebuilder = await bed.CreateRunnerAsync(Small);
        Assert.True((await service.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);
        await service.ReconcileAsync(Ct);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var serviceLoop = Task.Run(async () =>
        {
            var cycles = 0;
            while (!stop.IsCancellationRequested)
            {
                Assert.True((await service.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);
                if (++cycles % 3 == 0) await service.ReconcileAsync(Ct);
            }
            return cycles;
        }, Ct);
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 8; i++)
            {
                await bed.AddTransactionsAsync(10, customers: 40, products: 10, new Random(100 + i));
                await bed.ExecuteAsync($"UPDATE transactions SET amount = amount / qty * (qty + 1), qty = qty + 1 WHERE txn_id = {1 + i * 60}");
                await bed.ExecuteAsync($"DELETE FROM transactions WHERE txn_id = {2 + i * 60}");
            }
        }, Ct);
        var rebuilds = Task.Run(async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                var r = await rebuilder.RunCycleAsync(CycleMode.Rebuild, Ct);
                Assert.True(r.Succeeded, r.Error?.ToString());
            }
        }, Ct);
        await Task.WhenAll(writer, rebuilds);
        await stop.CancelAsync();
        Assert.True(await serviceLoop > 0);

        // What changed after the last pass: one more cycle and reconcile, as the service would run them.
        Assert.True((await service.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);
        await service.ReconcileAsync(Ct);

        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
        Assert.Equal(0, (await rebuilder.ReconcileAsync(Ct)).BucketsRepaired);
    }
}
