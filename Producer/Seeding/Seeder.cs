using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace CustomerData.Producer.Seeding;

public enum SeedOutcome
{
    /// <summary>The database was empty and is now fully seeded.</summary>
    Seeded,
    /// <summary>A stopped seed of the same plan was completed.</summary>
    Resumed,
    /// <summary>The plan had already been loaded completely; nothing was written.</summary>
    AlreadySeeded,
    /// <summary>The database holds data the seeder did not write; it was left alone (live mode only).</summary>
    SkippedForeignData,
}

public sealed record SeedResult(SeedOutcome Outcome, SeedPlan Plan, long TransactionsLoaded, TimeSpan Elapsed);

/// <summary>What <c>producer_seed_state</c> says about the database.</summary>
public sealed record SeedState(SeedPlan Plan, bool Complete, long LoadedTransactions);

/// <summary>The database cannot be seeded with the asked plan (other data, or a stopped seed of another plan).</summary>
public sealed class SeedConflictException(string message) : Exception(message);

/// <summary>
/// Loads a <see cref="SeedPlan"/> into MySQL. A one-row table <c>producer_seed_state</c> records the plan before
/// the first row is written and "complete" after the counts are verified, so a stop at any point is seen and
/// resumed (explicit ids plus ignore-on-conflict make re-running any chunk harmless). Transactions are loaded in
/// chunks, each one statement (MySqlBulkCopy) or one transaction (multi-row INSERTs), so a chunk is all or nothing.
/// </summary>
public sealed class Seeder
{
    private const string StateTable = "producer_seed_state";
    private const int InsertRowsPerStatement = 2_000;

    private readonly string _connectionString;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public Seeder(string connectionString, ILogger logger, TimeProvider? time = null)
    {
        // MySqlBulkCopy streams rows with LOAD DATA LOCAL INFILE, which the client must opt in to.
        _connectionString = new MySqlConnectionStringBuilder(connectionString) { AllowLoadLocalInfile = true }.ConnectionString;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public async Task<SeedState?> ReadStateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadStateAsync(connection, cancellationToken);
    }

    /// <summary>
    /// Seeds <paramref name="plan"/>. With <paramref name="liveMode"/> a stored plan wins over the asked one (a restart
    /// resumes what was started) and foreign data is left alone; otherwise both are a <see cref="SeedConflictException"/>.
    /// </summary>
    public async Task<SeedResult> SeedAsync(SeedPlan plan, SeedLoadMethod method, int chunkRows, bool liveMode, CancellationToken cancellationToken, int parallelism = 1)
    {
        plan.Validate();
        using var activity = ProducerTelemetry.Source.StartActivity("seed");
        var stopwatch = Stopwatch.StartNew();
        await using var connection = await OpenAsync(cancellationToken);
        var state = await ReadStateAsync(connection, cancellationToken);
        var resuming = false;
        if (state is not null)
        {
            if (state.Plan != plan)
            {
                if (!liveMode)
                {
                    throw new SeedConflictException(
                        $"The database was seeded with another plan ({state.Plan}, {(state.Complete ? "complete" : $"stopped with {state.LoadedTransactions} transactions loaded")}); " +
                        "seed an empty database, or repeat that plan's options to resume it.");
                }
                _logger.LogInformation("Keeping the database's stored seed plan ({StoredPlan}) instead of {AskedPlan}", state.Plan, plan);
                plan = state.Plan;
            }
            if (state.Complete)
            {
                _logger.LogInformation("Database already seeded ({Plan}); nothing to do", plan);
                return new SeedResult(SeedOutcome.AlreadySeeded, plan, 0, stopwatch.Elapsed);
            }
            resuming = true;
            _logger.LogWarning("A previous seed stopped with {Loaded} of {Total} transactions loaded; resuming it", state.LoadedTransactions, plan.Transactions);
        }
        else
        {
            var (customers, products, transactions) = await CountRowsAsync(connection, cancellationToken);
            if (customers + products + transactions > 0)
            {
                var message = $"The database already holds {customers} customers, {products} products and {transactions} transactions " +
                              "that the seeder did not write; seeding needs an empty database.";
                if (!liveMode) throw new SeedConflictException(message);
                _logger.LogWarning("Not seeding: the database already holds {Customers} customers, {Products} products and {Transactions} transactions the seeder did not write",
                    customers, products, transactions);
                return new SeedResult(SeedOutcome.SkippedForeignData, plan, 0, stopwatch.Elapsed);
            }
            await WriteStateAsync(connection, plan, complete: false, loaded: 0, cancellationToken);
        }

        activity?.SetTag("seed.plan", plan.ToString());
        method = await ResolveMethodAsync(connection, method, cancellationToken);
        _logger.LogInformation("Seeding {Plan} with {Method}", plan, method);
        var generator = new SourceDataGenerator(plan);
        var loader = new ChunkLoader(connection, method);

        await loader.LoadAsync("customers", SeedRowReaders.Customers(generator.Customers()), cancellationToken);
        ProducerTelemetry.SeededRows.Add(plan.Customers, new KeyValuePair<string, object?>("table", "customers"));
        await loader.LoadAsync("products", SeedRowReaders.Products(generator.Products), cancellationToken);
        ProducerTelemetry.SeededRows.Add(plan.Products, new KeyValuePair<string, object?>("table", "products"));

        var chunkBlocks = Math.Max(1, chunkRows / SourceDataGenerator.Block);
        var pending = await PendingRangesAsync(connection, plan, chunkBlocks, cancellationToken);
        var loaded = plan.Transactions - pending.Sum(r => r.Last - r.First + 1);
        var loadedBefore = loaded;
        var progress = new SeedProgressReporter(_logger, plan.Transactions, loaded);
        try
        {
            // Chunks are independent (explicit ids, one statement each), so a few load side by side on their own connections.
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellationToken },
                async (range, ct) =>
                {
                    await using var chunkConnection = await OpenAsync(ct);
                    // Progress inside a chunk counts rows sent (not yet committed); the state row only ever counts committed chunks.
                    await new ChunkLoader(chunkConnection, method).LoadAsync("transactions", SeedRowReaders.Transactions(generator.Transactions(range.First, range.Last)), ct,
                        sent =>
                        {
                            var soFar = Interlocked.Read(ref loaded) + sent;
                            if (soFar < plan.Transactions) progress.Report(soFar);
                        });
                    var rows = range.Last - range.First + 1;
                    ProducerTelemetry.SeededRows.Add(rows, new KeyValuePair<string, object?>("table", "transactions"));
                    var now = Interlocked.Add(ref loaded, rows);
                    await UpdateLoadedAsync(chunkConnection, now, ct);
                    progress.Report(now);
                });
        }
        catch (Exception ex)
        {
            _logger.LogError("Seeding stopped with {Loaded} of {Total} transactions loaded ({Reason}); every loaded chunk is complete, and running the seed again resumes the rest",
                Interlocked.Read(ref loaded), plan.Transactions, ex is OperationCanceledException ? "cancelled" : ex.Message);
            throw;
        }
        progress.Finish();

        await VerifyAsync(connection, plan, cancellationToken);
        await WriteStateAsync(connection, plan, complete: true, loaded: plan.Transactions, cancellationToken);
        var loadedNow = plan.Transactions - loadedBefore;
        _logger.LogInformation("Seed complete: {Customers} customers, {Products} products, {Transactions} transactions in {Elapsed}",
            plan.Customers, plan.Products, plan.Transactions, stopwatch.Elapsed);
        return new SeedResult(resuming ? SeedOutcome.Resumed : SeedOutcome.Seeded, plan, loadedNow, stopwatch.Elapsed);
    }

    private async Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new MySqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // Seeded timestamps are UTC; TIMESTAMP columns convert from the session zone.
            await ExecuteAsync(connection, "SET time_zone = '+00:00'", cancellationToken);
            await ExecuteAsync(connection,
                $"CREATE TABLE IF NOT EXISTS {StateTable} (id TINYINT NOT NULL PRIMARY KEY, seed INT NOT NULL, customers INT NOT NULL, " +
                "products INT NOT NULL, transactions BIGINT NOT NULL, history_start DATE NOT NULL, history_end DATE NOT NULL, " +
                "status VARCHAR(16) NOT NULL, loaded_transactions BIGINT NOT NULL, updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP) " +
                "ENGINE=InnoDB", cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<SeedState?> ReadStateAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            $"SELECT seed, customers, products, transactions, history_start, history_end, status, loaded_transactions FROM {StateTable} WHERE id = 1", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        var plan = new SeedPlan(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt64(3),
            DateOnly.FromDateTime(reader.GetDateTime(4)), DateOnly.FromDateTime(reader.GetDateTime(5)));
        return new SeedState(plan, reader.GetString(6) == "complete", reader.GetInt64(7));
    }

    private static async Task WriteStateAsync(MySqlConnection connection, SeedPlan plan, bool complete, long loaded, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            $"REPLACE INTO {StateTable} (id, seed, customers, products, transactions, history_start, history_end, status, loaded_transactions) " +
            "VALUES (1, @seed, @customers, @products, @transactions, @start, @end, @status, @loaded)", connection);
        command.Parameters.AddWithValue("@seed", plan.Seed);
        command.Parameters.AddWithValue("@customers", plan.Customers);
        command.Parameters.AddWithValue("@products", plan.Products);
        command.Parameters.AddWithValue("@transactions", plan.Transactions);
        command.Parameters.AddWithValue("@start", plan.HistoryStart);
        command.Parameters.AddWithValue("@end", plan.HistoryEnd);
        command.Parameters.AddWithValue("@status", complete ? "complete" : "seeding");
        command.Parameters.AddWithValue("@loaded", loaded);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static Task UpdateLoadedAsync(MySqlConnection connection, long loaded, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, $"UPDATE {StateTable} SET loaded_transactions = GREATEST(loaded_transactions, {loaded.ToString(CultureInfo.InvariantCulture)}) WHERE id = 1", cancellationToken);

    private static async Task<(long Customers, long Products, long Transactions)> CountRowsAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            "SELECT (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM products), (SELECT COUNT(*) FROM (SELECT 1 FROM transactions LIMIT 1) t)", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <summary>
    /// The txn_id ranges still to load: every generator block whose row count is short (none after a clean stop,
    /// since chunks commit whole), merged into ranges of at most <paramref name="chunkBlocks"/> blocks.
    /// </summary>
    private static async Task<List<(long First, long Last)>> PendingRangesAsync(MySqlConnection connection, SeedPlan plan, int chunkBlocks, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<long, long>();
        await using (var command = new MySqlCommand(
                         $"SELECT (txn_id - 1) DIV {SourceDataGenerator.Block}, COUNT(*) FROM transactions WHERE txn_id BETWEEN 1 AND @n GROUP BY 1", connection))
        {
            command.Parameters.AddWithValue("@n", plan.Transactions);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) counts[reader.GetInt64(0)] = reader.GetInt64(1);
        }
        var ranges = new List<(long First, long Last)>();
        var blocks = (plan.Transactions + SourceDataGenerator.Block - 1) / SourceDataGenerator.Block;
        for (long b = 0; b < blocks; b++)
        {
            var first = b * SourceDataGenerator.Block + 1;
            var last = Math.Min(plan.Transactions, first + SourceDataGenerator.Block - 1);
            if (counts.GetValueOrDefault(b) == last - first + 1) continue;
            if (ranges.Count > 0 && ranges[^1].Last == first - 1 && (ranges[^1].Last - ranges[^1].First + 1) < (long)chunkBlocks * SourceDataGenerator.Block)
            {
                ranges[^1] = (ranges[^1].First, last);
            }
            else
            {
                ranges.Add((first, last));
            }
        }
        return ranges;
    }

    private static async Task VerifyAsync(MySqlConnection connection, SeedPlan plan, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            "SELECT (SELECT COUNT(*) FROM customers WHERE customer_id BETWEEN 1 AND @c), " +
            "(SELECT COUNT(*) FROM products WHERE product_id BETWEEN 1 AND @p), " +
            "(SELECT COUNT(*) FROM transactions WHERE txn_id BETWEEN 1 AND @t)", connection);
        command.Parameters.AddWithValue("@c", plan.Customers);
        command.Parameters.AddWithValue("@p", plan.Products);
        command.Parameters.AddWithValue("@t", plan.Transactions);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (c, p, t) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        if (c != plan.Customers || p != plan.Products || t != plan.Transactions)
        {
            throw new InvalidOperationException(
                $"Seed verification failed: expected {plan.Customers}/{plan.Products}/{plan.Transactions} customers/products/transactions, found {c}/{p}/{t}. " +
                "The seed stays marked incomplete; run it again to resume.");
        }
    }

    private async Task<SeedLoadMethod> ResolveMethodAsync(MySqlConnection connection, SeedLoadMethod method, CancellationToken cancellationToken)
    {
        if (method != SeedLoadMethod.Auto) return method;
        await using var command = new MySqlCommand("SELECT @@GLOBAL.local_infile", connection);
        var enabled = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 1;
        if (!enabled) _logger.LogInformation("The server has local_infile off; seeding with multi-row INSERTs instead of MySqlBulkCopy");
        return enabled ? SeedLoadMethod.BulkCopy : SeedLoadMethod.Insert;
    }

    private static async Task ExecuteAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Writes one chunk of rows atomically, by bulk copy or by multi-row INSERT IGNORE in one transaction.</summary>
    private sealed class ChunkLoader(MySqlConnection connection, SeedLoadMethod method)
    {
        public async Task LoadAsync<T>(string table, RowReader<T> rows, CancellationToken cancellationToken, Action<long>? rowsSent = null)
        {
            using var activity = ProducerTelemetry.Source.StartActivity("seed chunk");
            activity?.SetTag("db.collection.name", table);
            if (method == SeedLoadMethod.BulkCopy)
            {
                var bulkCopy = new MySqlBulkCopy(connection)
                {
                    DestinationTableName = table,
                    ConflictOption = MySqlBulkLoaderConflictOption.Ignore,
                    BulkCopyTimeout = 0,
                    NotifyAfter = 10_000,
                };
                if (rowsSent is not null) bulkCopy.MySqlRowsCopied += (_, e) => rowsSent(e.RowsCopied);
                for (var i = 0; i < rows.FieldCount; i++) bulkCopy.ColumnMappings.Add(new MySqlBulkCopyColumnMapping(i, rows.GetName(i)));
                await bulkCopy.WriteToServerAsync(rows, cancellationToken);
            }
            else
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var prefix = $"INSERT IGNORE INTO {table} ({string.Join(", ", Enumerable.Range(0, rows.FieldCount).Select(rows.GetName))}) VALUES ";
                var sql = new StringBuilder(prefix);
                var values = new List<MySqlParameter>(InsertRowsPerStatement * rows.FieldCount);
                var inStatement = 0;
                while (rows.Read())
                {
                    if (inStatement > 0) sql.Append(',');
                    AppendRow(sql, values, rows);
                    if (++inStatement == InsertRowsPerStatement)
                    {
                        await ExecuteAsync(sql.ToString(), values, transaction, cancellationToken);
                        rowsSent?.Invoke(rows.RowsRead);
                        sql.Clear().Append(prefix);
                        values.Clear();
                        inStatement = 0;
                    }
                }
                if (inStatement > 0) await ExecuteAsync(sql.ToString(), values, transaction, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            activity?.SetTag("db.rows", rows.RowsRead);
            rows.Close();
        }

        private async Task ExecuteAsync(string sql, List<MySqlParameter> values, MySqlTransaction transaction, CancellationToken cancellationToken)
        {
            await using var command = new MySqlCommand(sql, connection, transaction);
            command.Parameters.AddRange(values.ToArray());
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        /// <summary>
        /// One row of positional parameters: the statement's text (which MySqlConnector's spans carry) then holds
        /// placeholders, never a customer's name or email.
        /// </summary>
        private static void AppendRow<T>(StringBuilder sql, List<MySqlParameter> values, RowReader<T> rows)
        {
            sql.Append('(');
            for (var i = 0; i < rows.FieldCount; i++)
            {
                if (i > 0) sql.Append(',');
                sql.Append('?');
                // Whole seconds: a TIMESTAMP column would round a fraction.
                var value = rows.GetValue(i);
                values.Add(new MySqlParameter { Value = value is DateTime d ? d.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : value });
            }
            sql.Append(')');
        }
    }

    /// <summary>Logs rows, rows/s and ETA at most once a second and publishes them as gauges.</summary>
    private sealed class SeedProgressReporter(ILogger logger, long total, long alreadyLoaded)
    {
        private readonly Stopwatch _stopwatch = Stopwatch.StartNew();
        private TimeSpan _lastLog = TimeSpan.Zero;

        private readonly Lock _lock = new();

        public void Report(long loaded)
        {
            lock (_lock) ReportLocked(loaded);
        }

        private void ReportLocked(long loaded)
        {
            var elapsed = _stopwatch.Elapsed;
            var rate = (loaded - alreadyLoaded) / Math.Max(elapsed.TotalSeconds, 1e-3);
            var eta = rate > 0 ? (total - loaded) / rate : 0;
            ProducerTelemetry.ReportSeedProgress(total == 0 ? 1 : (double)loaded / total, rate, eta);
            if (elapsed - _lastLog < TimeSpan.FromSeconds(1) && loaded < total) return;
            _lastLog = elapsed;
            logger.LogInformation("Seeded {Loaded:N0}/{Total:N0} transactions ({Percent:F1} %), {RowsPerSecond:N0} rows/s, ETA {EtaSeconds:F0} s",
                loaded, total, total == 0 ? 100 : 100.0 * loaded / total, rate, eta);
        }

        public void Finish() => ProducerTelemetry.ReportSeedProgress(1, 0, 0);
    }
}
