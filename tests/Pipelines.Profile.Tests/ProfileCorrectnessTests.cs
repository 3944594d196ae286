using System.Globalization;
using CustomerData.Cql;

namespace CustomerData.Pipelines.Profile.Tests;

/// <summary>The profiles in Cassandra equal an independent computation from MySQL's raw rows.</summary>
public sealed class ProfileCorrectnessTests(MariaDbFixture maria, CqlDevServerFixture cql)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Rebuild_writes_every_profile_as_computed_independently()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 120, products: 40, transactions: 3000, seed: 1);
        var runner = await bed.CreateRunnerAsync();

        var result = await runner.RunCycleAsync(CycleMode.Rebuild, Ct);

        Assert.True(result.Succeeded, result.Error?.ToString());
        var expected = await bed.ExpectedProfilesAsync();
        Assert.Equal(expected.Count, result.ProfilesWritten);
        ProfileTestBed.AssertSameProfiles(expected, await bed.ReadTableAsync());
        Assert.Equal(3000, await bed.StoredOffsetAsync());
    }

    [Fact]
    public async Task First_incremental_cycle_equals_rebuild_and_later_cycles_follow_new_transactions()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 80, products: 30, transactions: 1500, seed: 2);
        var runner = await bed.CreateRunnerAsync();

        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());

        await bed.AddTransactionsAsync(200, customers: 80, products: 30, new Random(3));
        var second = await runner.RunCycleAsync(CycleMode.Incremental, Ct);

        Assert.True(second.Succeeded, second.Error?.ToString());
        Assert.Equal(1500, second.OffsetBefore);
        Assert.Equal(1700, second.OffsetAfter);
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
    }

    [Fact]
    public async Task Decimals_are_exact_timestamps_utc_and_ties_go_to_the_ordinal_first_category()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.ExecuteAsync(
            "INSERT INTO customers VALUES (1, 'Ann', 'ann@example.com', 'F', '2022-01-01'), (2, 'Bob', 'bob@example.com', 'M', '2022-01-02');" +
            "INSERT INTO products VALUES (1, 'Ball', 'sports', 10.00), (2, 'Bat', 'Sports', 10.00), (3, 'Gift', NULL, 1.00), (4, 'Apple', 'Grocery', 0.01);" +
            // Ann: 2 × 'sports', 2 × 'Sports' → tie, ordinal-first is 'Sports' ('S' < 's'); a case-insensitive group would say 4 × one name.
            "INSERT INTO transactions (customer_id, product_id, qty, amount, txn_timestamp) VALUES " +
            "(1, 1, 1, 0.10, '2023-03-01 10:00:00'), (1, 1, 1, 0.20, '2023-03-02 10:00:00'), " +
            "(1, 2, 1, 0.10, '2021-12-31 23:59:59'), (1, 2, 1, 99999999.99, '2024-06-30 00:00:01'), " +
            // Bob: 0.01 + 0.01 + 0.02 = 0.04 over 3 → 0.01333 → 0.01; one product without category, one missing product.
            "(2, 3, 1, 0.01, '2020-02-29 12:00:00'), (2, 4, 1, 0.01, '2020-03-01 00:00:00'), (2, 999, 1, 0.02, '2020-03-01 00:00:00');");
        var runner = await bed.CreateRunnerAsync();

        Assert.True((await runner.RunCycleAsync(CycleMode.Incremental, Ct)).Succeeded);
        var table = await bed.ReadTableAsync();

        var ann = table[1];
        Assert.Equal(100000000.39m, ann.TotalSpend);
        Assert.Equal(4, ann.TotalTransactions);
        Assert.Equal(25000000.10m, ann.AvgOrderValue); // 25000000.0975 → half away from zero
        Assert.Equal("Sports", ann.FavoriteCategory);
        Assert.Equal(DateTimeOffset.Parse("2021-12-31T23:59:59Z", CultureInfo.InvariantCulture), ann.FirstPurchase);
        Assert.Equal(DateTimeOffset.Parse("2024-06-30T00:00:01Z", CultureInfo.InvariantCulture), ann.LastPurchase);
        Assert.Equal(TimeSpan.Zero, ann.FirstPurchase!.Value.Offset);
        var bob = table[2];
        Assert.Equal(0.04m, bob.TotalSpend);
        Assert.Equal(0.01m, bob.AvgOrderValue);
        Assert.Equal("Unknown", bob.FavoriteCategory); // NULL category and missing product both count as Unknown: 2 of 3
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), table);

        // The decimal's scale survives the trip: Cassandra holds 100000000.39, not a binary double.
        var session = await bed.ConnectAsync();
        var row = (await session.ExecuteAsync($"SELECT total_spend, avg_order_value FROM \"{bed.Keyspace}\".customer_profile WHERE customer_id = 1", cancellationToken: Ct)).Rows[0];
        Assert.Equal("100000000.39", row.GetDecimal(0).ToString(CultureInfo.InvariantCulture));
        Assert.Equal("25000000.10", row.GetDecimal(1).ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Product_ids_beyond_the_category_map_use_the_join_and_give_the_same_profiles()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 30, products: 10, transactions: 400, seed: 4);
        // A product_id above MaxCategoryMapBytes switches the aggregation to its LEFT JOIN form.
        await bed.ExecuteAsync(
            $"INSERT INTO products VALUES ({MySqlProfileSource.MaxCategoryMapBytes + 10}, 'Far', 'Toys', 5.00);" +
            $"INSERT INTO transactions (customer_id, product_id, qty, amount, txn_timestamp) VALUES (1, {MySqlProfileSource.MaxCategoryMapBytes + 10}, 1, 5.00, '2025-01-01 00:00:00');");
        var runner = await bed.CreateRunnerAsync();

        Assert.True((await runner.RunCycleAsync(CycleMode.Rebuild, Ct)).Succeeded);

        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
    }

    [Fact]
    public async Task Read_back_verification_passes_on_a_faithful_store()
    {
        await using var bed = await ProfileTestBed.CreateAsync(maria, cql);
        await bed.SeedAsync(customers: 20, products: 10, transactions: 200, seed: 5);
        var runner = await bed.CreateRunnerAsync(o => { o.VerifyReadBack = true; o.Consistency = "ONE"; });

        var result = await runner.RunCycleAsync(CycleMode.Rebuild, Ct);

        Assert.True(result.Succeeded, result.Error?.ToString());
        ProfileTestBed.AssertSameProfiles(await bed.ExpectedProfilesAsync(), await bed.ReadTableAsync());
    }
}
