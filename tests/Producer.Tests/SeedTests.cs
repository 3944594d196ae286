using CustomerData.Producer.Seeding;
using Microsoft.Extensions.Logging.Abstractions;
using static CustomerData.Producer.Tests.TestSupport;

namespace CustomerData.Producer.Tests;

public sealed class SeedTests(MariaDbFixture mariaDb)
{
    // Small plans keep the suite fast; the benchmark loads the full 1,000,000.
    private static readonly string[] s_small =
        ["--customers", "300", "--products", "60", "--transactions", "40000", "--history-end", "2025-01-01", "--chunk-rows", "10000"];

    private async Task<string> SeedAsync(int seed, string method = "bulkcopy", string[]? plan = null)
    {
        var connectionString = await mariaDb.Server.CreateDatabaseAsync("seed", Token);
        var result = await RunCliAsync([
            "seed", "--mysql", connectionString, "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--load-method", method,
            .. plan ?? s_small]);
        Assert.True(result.ExitCode == 0, result.Error);
        return connectionString;
    }

    [Fact]
    public async Task Seed_loads_the_asked_counts_with_referential_integrity()
    {
        var cs = await SeedAsync(1);

        Assert.Equal(300, await ScalarAsync(cs, "SELECT COUNT(*) FROM customers"));
        Assert.Equal(60, await ScalarAsync(cs, "SELECT COUNT(*) FROM products"));
        Assert.Equal(40_000, await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions"));
        Assert.Equal(40_000, await ScalarAsync(cs, "SELECT MAX(txn_id) FROM transactions"));
        // Every transaction references an existing customer and product, and amount = qty × price.
        Assert.Equal(0, await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions t LEFT JOIN customers c ON c.customer_id = t.customer_id WHERE c.customer_id IS NULL"));
        Assert.Equal(0, await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions t LEFT JOIN products p ON p.product_id = t.product_id WHERE p.product_id IS NULL"));
        Assert.Equal(0, await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions t JOIN products p ON p.product_id = t.product_id WHERE t.amount <> t.qty * p.price OR t.qty < 1"));
        // History inside [2020-01-01, 2025-01-01) UTC, growing with txn_id.
        Assert.Equal(0, await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions WHERE txn_timestamp < '2020-01-01' OR txn_timestamp >= '2025-01-01'"));
        Assert.Equal(0, await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions a JOIN transactions b ON b.txn_id = a.txn_id + 1 WHERE b.txn_timestamp < a.txn_timestamp"));
        Assert.True(await ScalarAsync(cs, "SELECT DATEDIFF(MAX(txn_timestamp), MIN(txn_timestamp)) FROM transactions") > 1800);
        // Customers as the spec names them, genders M/F/O, categories from the spec's list.
        Assert.Equal(300, await ScalarAsync(cs, "SELECT COUNT(*) FROM customers WHERE email = CONCAT('customer_', customer_id, '@example.com') AND name = CONCAT('customer_', customer_id)"));
        Assert.Equal(3, await ScalarAsync(cs, "SELECT COUNT(DISTINCT gender) FROM customers"));
        Assert.True(await ScalarAsync(cs, "SELECT COUNT(DISTINCT category) FROM products WHERE category IN ('Electronics','Grocery','Sports','Toys','Health','Beauty','Home')") == 7);
    }

    [Fact]
    public async Task Same_seed_gives_the_same_data_and_another_seed_does_not()
    {
        var first = await SeedAsync(7);
        var second = await SeedAsync(7, method: "insert");
        var other = await SeedAsync(8);

        var fingerprint = await FingerprintAsync(first);
        Assert.Equal(fingerprint, await FingerprintAsync(second));
        Assert.NotEqual(fingerprint, await FingerprintAsync(other));
    }

    [Fact]
    public async Task A_stopped_seed_is_reported_refused_by_run_and_resumed_to_identical_data()
    {
        var reference = await SeedAsync(3);
        var stopped = await SeedAsync(3);
        // As if the process died after txn 15,000: later rows gone, the state still "seeding".
        await ExecuteAsync(stopped, "DELETE FROM transactions WHERE txn_id > 15000; UPDATE producer_seed_state SET status = 'seeding', loaded_transactions = 15000");

        var run = await RunCliAsync("run", "--mysql", stopped, "--event-rate", "0", "--duration", "2s");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("stopped half-way (15000 of 40000 transactions loaded)", run.Error, StringComparison.Ordinal);

        var conflicting = await RunCliAsync(["seed", "--mysql", stopped, "--seed", "4", .. s_small]);
        Assert.Equal(1, conflicting.ExitCode);
        Assert.Contains("stopped with 15000 transactions loaded", conflicting.Error, StringComparison.Ordinal);

        var resumed = await RunCliAsync(["seed", "--mysql", stopped, "--seed", "3", .. s_small]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.StartsWith("Resumed", resumed.Output, StringComparison.Ordinal);
        Assert.Equal(await FingerprintAsync(reference), await FingerprintAsync(stopped));

        var again = await RunCliAsync(["seed", "--mysql", stopped, "--seed", "3", .. s_small]);
        Assert.Equal(0, again.ExitCode);
        Assert.StartsWith("Already seeded", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_seed_leaves_whole_chunks_and_an_incomplete_marker()
    {
        var cs = await mariaDb.Server.CreateDatabaseAsync("cancel", Token);
        await Contracts.SourceSchema.ApplyAsync(cs, Token);
        var plan = new SeedPlan(5, 100, 20, 300_000, new DateOnly(2020, 1, 1), new DateOnly(2025, 1, 1));
        var seeder = new Seeder(cs, NullLogger.Instance);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);

        var seeding = seeder.SeedAsync(plan, SeedLoadMethod.BulkCopy, 10_000, liveMode: false, cancel.Token);
        // Stop it once it has started for real (its state row exists), in the middle of loading.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await seeder.ReadStateAsync(Token) is null && !seeding.IsCompleted && DateTime.UtcNow < deadline) await Task.Delay(20, Token);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);

        var loaded = await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions");
        Assert.Equal(0, loaded % 10_000);
        Assert.True(loaded < plan.Transactions);
        var state = await seeder.ReadStateAsync(Token);
        Assert.NotNull(state);
        Assert.False(state.Complete);

        var result = await seeder.SeedAsync(plan, SeedLoadMethod.Auto, 10_000, liveMode: false, Token);
        Assert.Equal(SeedOutcome.Resumed, result.Outcome);
        Assert.Equal(plan.Transactions, await ScalarAsync(cs, "SELECT COUNT(*) FROM transactions"));
    }

    [Fact]
    public async Task Seed_refuses_a_database_with_data_it_did_not_write()
    {
        var cs = await mariaDb.Server.CreateDatabaseAsync("foreign", Token);
        await Contracts.SourceSchema.ApplyAsync(cs, Token);
        await ExecuteAsync(cs, "INSERT INTO customers VALUES (1, 'Someone', 'someone@example.com', 'F', '2021-01-01')");

        var result = await RunCliAsync(["seed", "--mysql", cs, .. s_small]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("already holds 1 customers", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, await ScalarAsync(cs, "SELECT COUNT(*) FROM customers"));
    }
}
