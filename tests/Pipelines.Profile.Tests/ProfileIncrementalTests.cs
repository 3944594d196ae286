using CustomerData.Cql.DevServer;

namespace CustomerData.Pipelines.Profile.Tests;

/// <summary>Offsets, out-of-order commits, retries and crashes.</summary>
public sealed class ProfileIncrementalTests(MariaDbFixture maria, CqlDevServerFixture cql)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Insert = "INSERT INTO transactions (txn_id, customer_id, product_id, qty, amount, txn_timestamp) VALUES ";

    [Fact]
    public async Task Only_the_customers_touched_by_new_transactions_are_rewritten()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 40, products: 10, transactions: 400, seed: 11);
        var runner = await bed.CreateRunnerAsync();
        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);

        // Mark every stored row: a rewrite replaces the mark with the real name.
        var session = await bed.ConnectAsync();
        foreach (var id in (await bed.ReadTableAsync()).Keys)
        {
            await session.ExecuteAsync($"UPDATE \"{bed.Keyspace}\".customer_profile SET name = 'untouched' WHERE customer_id = {id}", cancellationToken: Ct);
        }
        await bed.ExecuteAsync(Insert + "(401, 7, 1, 1, 10.00, '2026-01-01 00:00:00'), (402, 9, 2, 1, 20.00, '2026-01-02 00:00:00'), (403, 7, 3, 2, 30.00, '2026-01-03 00:00:00')");

        var result = await runner.RunCycleAsync(CycleMode.Incremental, Ct);

        Assert.True(result.Succeeded, result.Error?.ToString());
        Assert.Equal(2, result.ProfilesWritten);
        var table = await bed.ReadTableAsync();
        var expected = await bed.ExpectedProfilesAsync();
        Assert.Equal(expected[7], table[7]);
        Assert.Equal(expected[9], table[9]);
        Assert.All(table.Where(kv => kv.Key is not (7 or 9)), kv => Assert.Equal("untouched", kv.Value.Name));
        Assert.Equal(403, result.OffsetAfter);
    }

    [Fact]
    public async Task A_late_lower_txn_id_holds_the_offset_and_is_not_lost()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 10, products: 5, transactions: 50, seed: 12);
        var runner = await bed.CreateRunnerAsync();
        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);

        // 52 commits first; 51 (an earlier auto-increment id still in its transaction) commits later.
        await bed.ExecuteAsync(Insert + "(52, 3, 1, 1, 5.00, '2026-02-01 00:00:00')");
        var first = await runner.RunCycleAsync(CycleMode.Incremental, Ct);
        Assert.True(first.Succeeded);
        Assert.Equal(50, first.OffsetAfter);
        Assert.Equal(51, Assert.Single(first.PendingGaps).FirstMissing);

        bed.Time.Advance(TimeSpan.FromSeconds(10)); // within the 30 s grace period
        await bed.ExecuteAsync(Insert + "(51, 4, 2, 1, 7.00, '2026-02-01 00:00:00')");
        var second = await runner.RunCycleAsync(CycleMode.Incremental, Ct);

        Assert.True(second.Succeeded);
        Assert.Equal(52, second.OffsetAfter);
        Assert.Empty(second.ExpiredGaps);
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
    }

    [Fact]
    public async Task A_gap_older_than_the_grace_period_is_reported_with_its_ids_and_passed_over()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 10, products: 5, transactions: 20, seed: 13);
        var runner = await bed.CreateRunnerAsync();
        await bed.ExecuteAsync(Insert + "(24, 2, 1, 1, 5.00, '2026-02-01 00:00:00')"); // 21..23 never commit

        var held = await runner.RunCycleAsync(CycleMode.Incremental, Ct);
        Assert.Equal(20, held.OffsetAfter);
        Assert.Empty(held.ExpiredGaps);
        // Rows above a pending gap are processed already (whole-customer recomputation is idempotent).
        Assert.Equal(new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero), (await bed.ReadTableAsync())[2].LastPurchase);

        bed.Time.Advance(TimeSpan.FromSeconds(31));
        var passed = await runner.RunCycleAsync(CycleMode.Incremental, Ct);

        Assert.True(passed.Succeeded);
        Assert.Equal(24, passed.OffsetAfter);
        var gap = Assert.Single(passed.ExpiredGaps);
        Assert.Equal((21, 23), (gap.FirstMissing, gap.LastMissing));
        Assert.Equal(3, passed.Report.Warnings[QualityReasons.TxnIdGapExpired]);
        Assert.Equal(["txn_id 21..23"], passed.Report.WarningSamples(QualityReasons.TxnIdGapExpired));
    }

    [Fact]
    public async Task A_crash_between_the_writes_and_the_offset_update_then_a_rerun_gives_the_same_table()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 50, products: 10, transactions: 500, seed: 17);
        var runner = await bed.CreateRunnerAsync();
        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);
        await bed.AddTransactionsAsync(120, customers: 50, products: 10, new Random(18));

        runner.BeforeOffsetAdvance = _ => throw new InvalidOperationException("simulated crash after the upserts");
        var crashed = await runner.RunCycleAsync(CycleMode.Incremental, Ct);
        Assert.False(crashed.Succeeded);
        Assert.Equal(500, await bed.StoredOffsetAsync());
        var afterCrash = await bed.ReadTableAsync();

        // A new process (fresh runner, no memory of the crashed cycle) redoes the cycle.
        var restarted = await bed.CreateRunnerAsync();
        var rerun = await restarted.RunCycleAsync(CycleMode.Incremental, Ct);

        Assert.True(rerun.Succeeded, rerun.Error?.ToString());
        Assert.Equal(500, rerun.OffsetBefore);
        Assert.Equal(620, rerun.OffsetAfter);
        var table = await bed.ReadTableAsync();
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), table);
        ProfileTestBed.AssertSameProfiles(afterCrash, table); // the upserts were already complete; redoing them changed nothing

        var again = await restarted.RunCycleAsync(CycleMode.Incremental, Ct);
        Assert.Equal(0, again.ProfilesWritten); // nothing above the offset any more
    }
}
