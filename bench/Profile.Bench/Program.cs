using System.Diagnostics;
using System.Globalization;
using CustomerData.Bench.Profile;
using CustomerData.Contracts;
using CustomerData.Cql;
using CustomerData.Cql.DevServer;
using CustomerData.Pipelines.Profile;
using CustomerData.TestServers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

// Pipeline A benchmark: a rebuild of every profile and an incremental cycle, against a real MariaDB
// and the CQL dev server, each next to a raw baseline on the same data (the plain join + GROUP BY a
// hand-written job would run, without checks or writes).
//   dotnet run -c Release --project bench/Profile.Bench [-- --customers 5000 --transactions 1000000 --runs 3]
var customers = IntArg("--customers", 5_000);
var transactionCount = IntArg("--transactions", 1_000_000);
var newTransactions = IntArg("--new", 1_000);
var runs = IntArg("--runs", 3);
const int Products = 300;

Console.WriteLine($"Profile benchmark: {customers:N0} customers, {transactionCount:N0} transactions, {Products} products; " +
                  $"{runs} timed runs each; {Environment.ProcessorCount} cores; load average {LoadAverage()}");
await using var maria = await MariaDbServer.StartAsync();
await using var cql = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 });
var connectionString = await maria.CreateDatabaseAsync("bench");
await SourceSchema.ApplyAsync(connectionString);

var setup = Stopwatch.StartNew();
await BenchData.LoadAsync(connectionString, customers, Products, transactionCount, seed: 42);
Console.WriteLine($"loaded in {setup.Elapsed.TotalSeconds:F1} s (LOAD DATA LOCAL INFILE)");

var options = new ProfileOptions { Consistency = "LOCAL_QUORUM" };
await using var dataSource = new MySqlDataSource(connectionString);
// The Cassandra keyspace and tables as the migrations resource applies them (the pipeline verifies, it does not create).
await using (var admin = await CqlSession.ConnectAsync(cql.ConnectionString()))
{
    var migrator = new CustomerData.Migrations.PlatformMigrator(new CustomerData.Migrations.MySqlSchemaTarget(connectionString),
        new CustomerData.Migrations.CassandraSchemaTarget(admin, PlatformNames.Keyspace), Options.Create(new CustomerData.Migrations.MigrationsOptions()),
        NullLogger<CustomerData.Migrations.PlatformMigrator>.Instance);
    if (!await migrator.ApplyAsync(CancellationToken.None)) throw new InvalidOperationException("the migration did not apply the schema");
}
await using var session = await CqlSession.ConnectAsync(cql.ConnectionString(PlatformNames.Keyspace));
var source = new MySqlProfileSource(dataSource, options);
var runner = new ProfileCycleRunner(source, new CassandraProfileStore(session, Options.Create(options), NullLogger<CassandraProfileStore>.Instance),
    Options.Create(options), new ProfileCycleState(TimeProvider.System), TimeProvider.System, NullLogger<ProfileCycleRunner>.Instance);

// Warm-up (not timed): creates the covering index, JIT-compiles the paths.
setup.Restart();
var warm = await runner.RunCycleAsync(CycleMode.Rebuild, CancellationToken.None);
if (!warm.Succeeded) throw new InvalidOperationException("warm-up rebuild failed", warm.Error);
Console.WriteLine($"warm-up rebuild (creates index {MySqlProfileSource.CoveringIndexName}) {setup.Elapsed.TotalSeconds:F1} s");

var rows = new List<string[]>();

var baselineRebuild = await TimeAsync(runs, async () => { await NaiveAggregateAsync(connectionString, null); return 0; });
var rebuild = await TimeAsync(runs, async () =>
{
    var result = await runner.RunCycleAsync(CycleMode.Rebuild, CancellationToken.None);
    if (!result.Succeeded) throw new InvalidOperationException("rebuild failed", result.Error);
    return result.ProfilesWritten;
});
rows.Add(Row("raw baseline: join + GROUP BY over all rows (no checks, no writes)", baselineRebuild, null, null));
rows.Add(Row("--rebuild (checks + upserts of every profile + offset)", rebuild, 3000, baselineRebuild));

// Where a rebuild's time goes: each phase alone, same data.
var phases = new List<string[]>();
var store = new CassandraProfileStore(session, Options.Create(options), NullLogger<CassandraProfileStore>.Instance);
List<CustomerProfile> profiles = [];
phases.Add(Row("read the txn_id delta above offset 0 (1 run: no gaps)", await TimeAsync(runs, async () =>
{
    await using var connection = await source.OpenAsync(CancellationToken.None);
    return (await MySqlProfileSource.ReadDeltaAsync(connection, 0, false, new DataQualityReport(5), CancellationToken.None)).TxnIds.Count * 0;
}), null, null));
phases.Add(Row("aggregate every customer in MySQL (covering index, category map)", await TimeAsync(runs, async () =>
{
    var aggregates = await source.AggregateAllAsync(null, CancellationToken.None);
    var customerRows = await source.ReadCustomersAsync(null, CancellationToken.None);
    profiles = ProfileCycleRunner.BuildProfiles(aggregates, customerRows, new DataQualityReport(5));
    return profiles.Count;
}), null, null));
phases.Add(Row($"upsert every profile ({options.MaxInFlight} in flight, {options.Consistency})", await TimeAsync(runs, async () =>
{
    await store.WriteAsync(profiles, null, CancellationToken.None);
    return profiles.Count;
}), null, null));

var prices = await BenchData.ReadPricesAsync(connectionString);
var random = new Random(7);
long nextId = transactionCount + 1;
var touched = new List<int>();
var baselineIncremental = new List<(double Ms, int Profiles)>();
var incremental = new List<(double Ms, int Profiles)>();
for (var run = 0; run < runs; run++)
{
    await BenchData.AppendTransactionsAsync(connectionString, nextId, newTransactions, customers, prices, random);
    touched = await TouchedCustomersAsync(connectionString, nextId - 1);
    nextId += newTransactions;
    baselineIncremental.AddRange(await TimeAsync(1, async () => { await NaiveAggregateAsync(connectionString, touched); return 0; }));
    incremental.AddRange(await TimeAsync(1, async () =>
    {
        var result = await runner.RunCycleAsync(CycleMode.Incremental, CancellationToken.None);
        if (!result.Succeeded) throw new InvalidOperationException("incremental cycle failed", result.Error);
        return result.ProfilesWritten;
    }));
}
rows.Add(Row($"raw baseline: join + GROUP BY of the {touched.Count} touched customers", baselineIncremental, null, null));
rows.Add(Row($"incremental cycle after {newTransactions:N0} new transactions", incremental, 1000, baselineIncremental));

// The reconcile pass: first builds the fingerprints (every bucket recomputed once, not timed), then with the table in
// step (the database time is the one fingerprint query over every row), then after one UPDATE (one bucket recomputed).
var first = await runner.ReconcileAsync(CancellationToken.None);
Console.WriteLine($"first reconcile pass (after the rebuilds, which store the fingerprints): {first.BucketsRepaired:N0} buckets, {first.CustomersRepaired:N0} customers recomputed");
var reconcileDb = new List<(double Ms, int Profiles)>();
rows.Add(Row($"reconcile pass, table in step ({first.BucketsChecked:N0} buckets of {options.Reconcile.BucketSize}), end to end", await TimeAsync(runs, async () =>
{
    var result = await runner.ReconcileAsync(CancellationToken.None);
    if (result.BucketsRepaired != 0) throw new InvalidOperationException($"reconcile repaired {result.BucketsRepaired} buckets of a table in step");
    reconcileDb.Add((result.SourceTime.TotalMilliseconds, 0));
    return 0;
}), null, null));
rows.Add(Row("  of which the source fingerprint query (database time)", reconcileDb, 1000, null));
var afterUpdate = await TimeAsync(1, async () =>
{
    await using (var connection = new MySqlConnection(connectionString))
    {
        await connection.OpenAsync();
        await using var update = new MySqlCommand("UPDATE transactions SET amount = amount / qty * (qty + 1), qty = qty + 1 WHERE txn_id = 12345", connection);
        await update.ExecuteNonQueryAsync();
    }
    var result = await runner.ReconcileAsync(CancellationToken.None);
    if (result.BucketsRepaired != 1) throw new InvalidOperationException($"reconcile after one UPDATE repaired {result.BucketsRepaired} buckets");
    return result.CustomersRepaired;
});
rows.Add(Row("reconcile pass after one UPDATE (1 bucket recomputed)", afterUpdate, null, null));

Print(["step", "median ms", "min ms", "profiles", "profiles/s", "goal", "vs baseline"], rows);
Console.WriteLine();
Console.WriteLine("rebuild phases, each alone:");
Print(["phase", "median ms", "min ms", "profiles", "profiles/s", "goal", "vs baseline"], phases);
Console.WriteLine($"load average after: {LoadAverage()}");
return;

static async Task<List<(double Ms, int Profiles)>> TimeAsync(int runs, Func<Task<int>> action)
{
    var results = new List<(double, int)>();
    for (var i = 0; i < runs; i++)
    {
        var stopwatch = Stopwatch.StartNew();
        var profiles = await action();
        results.Add((stopwatch.Elapsed.TotalMilliseconds, profiles));
    }
    return results;
}

static string[] Row(string step, List<(double Ms, int Profiles)> results, double? goalMs, List<(double Ms, int Profiles)>? baseline)
{
    var sorted = results.Select(r => r.Ms).Order().ToList();
    var median = sorted[sorted.Count / 2];
    var profiles = results[0].Profiles;
    var baselineMedian = baseline?.Select(r => r.Ms).Order().ElementAt(baseline.Count / 2);
    return
    [
        step,
        median.ToString("F0", CultureInfo.InvariantCulture),
        sorted[0].ToString("F0", CultureInfo.InvariantCulture),
        profiles == 0 ? "-" : profiles.ToString("N0", CultureInfo.InvariantCulture),
        profiles == 0 ? "-" : (profiles / (median / 1000)).ToString("N0", CultureInfo.InvariantCulture),
        goalMs is { } g ? $"<= {g:F0} ms {(median <= g ? "met" : "MISSED")}" : "-",
        baselineMedian is { } b ? $"{median / b:F2}x" : "-",
    ];
}

static void Print(string[] header, List<string[]> rows)
{
    var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
    string Line(string[] cells) => "| " + string.Join(" | ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " |";
    Console.WriteLine(Line(header));
    Console.WriteLine("|" + string.Join("|", widths.Select((w, i) => i == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
    foreach (var row in rows) Console.WriteLine(Line(row));
}

// What a straightforward job would run: join products, group by customer and category (MySQL's default plan).
static async Task NaiveAggregateAsync(string connectionString, List<int>? customerIds)
{
    await using var connection = new MySqlConnection(connectionString);
    await connection.OpenAsync();
    var where = customerIds is null ? "" : " WHERE t.customer_id IN (" + string.Join(',', customerIds) + ")";
    await using var command = new MySqlCommand(
        "SELECT t.customer_id, COALESCE(p.category, 'Unknown'), COUNT(*), SUM(t.amount), MIN(t.txn_timestamp), MAX(t.txn_timestamp) " +
        "FROM transactions t IGNORE INDEX (" + MySqlProfileSource.CoveringIndexName + ") LEFT JOIN products p ON p.product_id = t.product_id" + where +
        " GROUP BY t.customer_id, COALESCE(p.category, 'Unknown')", connection);
    await using var reader = await command.ExecuteReaderAsync();
    while (await reader.ReadAsync())
    {
        _ = reader.GetDecimal(3);
    }
}

static async Task<List<int>> TouchedCustomersAsync(string connectionString, long above)
{
    await using var connection = new MySqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new MySqlCommand("SELECT DISTINCT customer_id FROM transactions WHERE txn_id > @above", connection);
    command.Parameters.AddWithValue("@above", above);
    var ids = new List<int>();
    await using var reader = await command.ExecuteReaderAsync();
    while (await reader.ReadAsync()) ids.Add(reader.GetInt32(0));
    return ids;
}

int IntArg(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
