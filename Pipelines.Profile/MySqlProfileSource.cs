using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CustomerData.Contracts;
using MySqlConnector;

namespace CustomerData.Pipelines.Profile;

/// <summary>The txn_ids above the stored offset and the customers they touch.</summary>
public sealed record TxnDelta(long StoredOffset, IReadOnlyList<long> TxnIds, IReadOnlySet<int> Customers)
{
    /// <summary>Per-bucket fingerprints of the delta rows above the requested bound, read in the delta's snapshot (null when not asked).</summary>
    public Dictionary<int, BucketFingerprint>? Fingerprints { get; init; }

    /// <summary>The highest txn_id the <see cref="Fingerprints"/> cover.</summary>
    public long FingerprintUpTo { get; init; }
}

/// <summary>Asks <see cref="MySqlProfileSource.ReadDeltaAsync"/> for the delta's fingerprints of rows above <paramref name="Above"/>.</summary>
public sealed record FingerprintRequest(int BucketSize, long Above);

/// <summary>The source tables do not have the columns (or column types) Pipeline A needs.</summary>
public sealed class SourceSchemaException(string message) : Exception(message);

/// <summary>
/// Pipeline A's reads from MySQL: the schema check, the delta above the offset, the customers and
/// the aggregation. The heavy work (join, SUM, COUNT, MIN, MAX) runs in MySQL grouped per customer and
/// category; C# only merges those small groups and picks the favorite category.
/// </summary>
public sealed partial class MySqlProfileSource(MySqlDataSource dataSource, ProfileOptions options)
{
    // Required columns and the MySQL types that map onto the CQL column they feed (SPEC section 5 A "schema").
    private static readonly (string Table, string Column, string[] Types)[] s_requiredColumns =
    [
        ("customers", "customer_id", ["int", "mediumint", "smallint", "tinyint"]),
        ("customers", "name", ["varchar", "char", "text", "tinytext", "mediumtext"]),
        ("customers", "email", ["varchar", "char", "text", "tinytext", "mediumtext"]),
        ("customers", "gender", ["enum", "varchar", "char"]),
        ("customers", "signup_date", ["date", "datetime", "timestamp", "varchar", "char"]),
        ("products", "product_id", ["int", "mediumint", "smallint", "tinyint", "bigint"]),
        ("products", "category", ["varchar", "char", "text", "tinytext", "enum"]),
        ("transactions", "txn_id", ["bigint", "int"]),
        ("transactions", "customer_id", ["int", "mediumint", "smallint", "tinyint"]),
        ("transactions", "product_id", ["int", "mediumint", "smallint", "tinyint", "bigint"]),
        ("transactions", "amount", ["decimal"]),
        ("transactions", "txn_timestamp", ["timestamp", "datetime"]),
    ];

    /// <summary>A connection whose session reads TIMESTAMP columns in UTC, whatever the server's zone.</summary>
    public Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken) =>
        CustomerData.Pipelines.Common.SourceConnection.OpenUtcAsync(dataSource, cancellationToken);

    /// <summary>Throws <see cref="SourceSchemaException"/> naming every required column that is missing or of a type that does not map.</summary>
    public static async Task VerifySchemaAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        var found = new Dictionary<(string, string), string>();
        await using (var command = new MySqlCommand(
            "SELECT LOWER(TABLE_NAME), LOWER(COLUMN_NAME), LOWER(DATA_TYPE) FROM information_schema.COLUMNS " +
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('customers', 'products', 'transactions')", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                found[(reader.GetString(0), reader.GetString(1))] = reader.GetString(2);
            }
        }
        var problems = new List<string>();
        foreach (var (table, column, types) in s_requiredColumns)
        {
            if (!found.TryGetValue((table, column), out var type))
            {
                problems.Add($"{table}.{column} is missing");
            }
            else if (!types.Contains(type))
            {
                problems.Add($"{table}.{column} is {type}, expected one of {string.Join('/', types)}");
            }
        }
        if (problems.Count > 0)
        {
            throw new SourceSchemaException("The MySQL source does not have the columns Pipeline A needs: " + string.Join("; ", problems) +
                ". The Migrations project applies the platform's schema (it runs first under the AppHost).");
        }
    }

    /// <summary>Deltas up to this many rows are read row by row; larger ones (a first run, a rebuild) as runs found by range counts.</summary>
    public const int RowByRowDeltaLimit = 50_000;

    /// <summary>
    /// Every txn_id above <paramref name="storedOffset"/>, ascending, and (when <paramref name="withCustomers"/>)
    /// the customers of those rows, read in one consistent snapshot.
    /// </summary>
    public static async Task<TxnDelta> ReadDeltaAsync(MySqlConnection connection, long storedOffset, bool withCustomers, DataQualityReport report, CancellationToken cancellationToken)
        => await ReadDeltaAsync(connection, storedOffset, withCustomers, report, null, cancellationToken);

    /// <param name="fingerprints">Also read the delta's bucket fingerprints, in the same snapshot as its ids and customers (so every row they cover belongs to a customer the cycle recomputes).</param>
    public static async Task<TxnDelta> ReadDeltaAsync(MySqlConnection connection, long storedOffset, bool withCustomers, DataQualityReport report,
        FingerprintRequest? fingerprints, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", cancellationToken);
        try
        {
            var ids = new TxnIdRuns();
            var customers = new HashSet<int>();
            var count = await CountRangeAsync(connection, storedOffset, long.MaxValue, cancellationToken);
            if (count.Count <= RowByRowDeltaLimit)
            {
                await ReadRowsAsync(connection, storedOffset, long.MaxValue, ids, withCustomers ? customers : null, report, cancellationToken);
            }
            else
            {
                await CollectRunsAsync(connection, storedOffset, long.MaxValue, ids, cancellationToken, count);
                await using (var command = new MySqlCommand(
                    "SELECT txn_id FROM transactions WHERE customer_id IS NULL AND txn_id > @offset ORDER BY txn_id", connection))
                {
                    command.Parameters.AddWithValue("@offset", storedOffset);
                    await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        report.Reject(QualityReasons.TransactionCustomerIdNull, $"txn_id={reader.GetInt64(0)}");
                    }
                }
                if (withCustomers)
                {
                    await using var command = new MySqlCommand(
                        "SELECT DISTINCT customer_id FROM transactions WHERE txn_id > @offset AND customer_id IS NOT NULL", connection);
                    command.Parameters.AddWithValue("@offset", storedOffset);
                    await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                    while (await reader.ReadAsync(cancellationToken)) customers.Add(reader.GetInt32(0));
                }
            }
            if (fingerprints is null) return new TxnDelta(storedOffset, ids, customers);
            var above = Math.Max(storedOffset, fingerprints.Above);
            var upTo = ids.Count > 0 ? Math.Max(above, ids[^1]) : above;
            var delta = upTo > above ? await ReadBucketFingerprintsAsync(connection, fingerprints.BucketSize, above, upTo, null, cancellationToken) : [];
            return new TxnDelta(storedOffset, ids, customers) { Fingerprints = delta, FingerprintUpTo = upTo };
        }
        finally
        {
            await ExecuteAsync(connection, "COMMIT", CancellationToken.None);
        }
    }

    private static async Task<(long Count, long Min, long Max)> CountRangeAsync(MySqlConnection connection, long above, long upTo, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            "SELECT COUNT(*), COALESCE(MIN(txn_id), 0), COALESCE(MAX(txn_id), 0) FROM transactions WHERE txn_id > @above AND txn_id <= @upTo", connection);
        command.Parameters.AddWithValue("@above", above);
        command.Parameters.AddWithValue("@upTo", upTo);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <summary>Finds the runs of ids in (above, upTo] by bisection: a range whose count equals its span has no gap.</summary>
    private static async Task CollectRunsAsync(MySqlConnection connection, long above, long upTo, TxnIdRuns runs, CancellationToken cancellationToken,
        (long Count, long Min, long Max)? known = null)
    {
        var (count, min, max) = known ?? await CountRangeAsync(connection, above, upTo, cancellationToken);
        if (count == 0) return;
        if (max - min + 1 == count)
        {
            runs.AddRun(min, max);
        }
        else if (count <= RowByRowDeltaLimit)
        {
            await ReadRowsAsync(connection, above, upTo, runs, null, null, cancellationToken);
        }
        else
        {
            var middle = min + (max - min) / 2;
            await CollectRunsAsync(connection, min - 1, middle, runs, cancellationToken);
            await CollectRunsAsync(connection, middle, max, runs, cancellationToken);
        }
    }

    private static async Task ReadRowsAsync(MySqlConnection connection, long above, long upTo, TxnIdRuns ids, HashSet<int>? customers, DataQualityReport? report, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            "SELECT txn_id, customer_id FROM transactions WHERE txn_id > @above AND txn_id <= @upTo ORDER BY txn_id", connection);
        command.Parameters.AddWithValue("@above", above);
        command.Parameters.AddWithValue("@upTo", upTo);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetInt64(0);
            ids.Add(id);
            if (reader.IsDBNull(1))
            {
                report?.Reject(QualityReasons.TransactionCustomerIdNull, $"txn_id={id}");
            }
            else
            {
                customers?.Add(reader.GetInt32(1));
            }
        }
    }

    private static async Task ExecuteAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The whole-history aggregates of <paramref name="customerIds"/>, several chunks in parallel.</summary>
    public async Task<Dictionary<int, ProfileAggregate>> AggregateCustomersAsync(IReadOnlyCollection<int> customerIds, CancellationToken cancellationToken)
    {
        var chunks = customerIds.Order().Chunk(options.CustomersPerQuery).ToList();
        var result = new Dictionary<int, ProfileAggregate>();
        await Parallel.ForEachAsync(chunks,
            new ParallelOptions { MaxDegreeOfParallelism = options.QueryParallelism, CancellationToken = cancellationToken },
            async (chunk, ct) =>
            {
                var filter = "customer_id IN (" + string.Join(',', chunk.Select(id => id.ToString(CultureInfo.InvariantCulture))) + ")";
                var part = await AggregateAsync(filter, [], ct);
                lock (result) Merge(result, part);
            });
        return result;
    }

    /// <summary>
    /// The aggregates of every customer, read as customer_id ranges in parallel (each an index range
    /// scan of the covering index). <paramref name="onRangeDone"/> reports progress.
    /// </summary>
    public async Task<Dictionary<int, ProfileAggregate>> AggregateAllAsync(Action<int, int>? onRangeDone, CancellationToken cancellationToken)
    {
        long min, max;
        await using (var connection = await OpenAsync(cancellationToken))
        await using (var command = new MySqlCommand("SELECT MIN(customer_id), MAX(customer_id) FROM transactions", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            if (reader.IsDBNull(0)) return [];
            (min, max) = (reader.GetInt32(0), reader.GetInt32(1));
        }
        var parts = options.RebuildRanges;
        var step = Math.Max(1, (max - min + parts) / parts);
        var ranges = new List<(long From, long To)>();
        for (var from = min; from <= max; from += step) ranges.Add((from, Math.Min(max, from + step - 1)));

        var result = new Dictionary<int, ProfileAggregate>();
        var done = 0;
        await Parallel.ForEachAsync(ranges,
            new ParallelOptions { MaxDegreeOfParallelism = options.QueryParallelism, CancellationToken = cancellationToken },
            async (range, ct) =>
            {
                var part = await AggregateAsync("customer_id BETWEEN @from AND @to",
                    [new MySqlParameter("@from", range.From), new MySqlParameter("@to", range.To)], ct);
                lock (result)
                {
                    Merge(result, part);
                    onRangeDone?.Invoke(++done, ranges.Count);
                }
            });
        return result;
    }

    /// <summary>Name of the covering index that lets the aggregation read only the index (SPEC section 6 regroups by customer).</summary>
    public const string CoveringIndexName = "ix_transactions_profile";

    private bool _useCoveringIndex;

    /// <summary>Creates <see cref="CoveringIndexName"/> when configured and missing; remembers whether queries may name it.</summary>
    public async Task EnsureCoveringIndexAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        if (!await CoveringIndexExistsAsync(connection, cancellationToken) && options.CreateCoveringIndex)
        {
            try
            {
                await ExecuteAsync(connection,
                    $"CREATE INDEX {CoveringIndexName} ON transactions (customer_id, product_id, amount, txn_timestamp)", cancellationToken);
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyName)
            {
                // Another instance created it at the same moment.
            }
        }
        _useCoveringIndex = await CoveringIndexExistsAsync(connection, cancellationToken);
    }

    private static async Task<bool> CoveringIndexExistsAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'transactions' AND INDEX_NAME = @name", connection);
        command.Parameters.AddWithValue("@name", CoveringIndexName);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>Largest product_id the category map covers (one byte per id); above it the aggregation joins products instead.</summary>
    public const int MaxCategoryMapBytes = 4 * 1024 * 1024;

    /// <summary>Product categories as a byte per product_id (0 = no such product), read in the aggregation's snapshot.</summary>
    private sealed record CategoryMap(byte[] Codes, string[] Names);

    private static async Task<CategoryMap?> ReadCategoryMapAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        var products = new List<(int Id, string Category)>();
        await using (var command = new MySqlCommand("SELECT product_id, category FROM products WHERE product_id > 0", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetInt64(0);
                if (id > MaxCategoryMapBytes) return null;
                var category = reader.IsDBNull(1) ? "" : reader.GetString(1);
                products.Add(((int)id, category.Length == 0 ? ProfileAggregate.UnknownCategory : category));
            }
        }
        var names = new List<string> { ProfileAggregate.UnknownCategory }; // code 0: the product does not exist
        var codes = new Dictionary<string, byte>(StringComparer.Ordinal);
        var map = new byte[products.Count == 0 ? 1 : products.Max(p => p.Id)];
        foreach (var (id, category) in products)
        {
            if (!codes.TryGetValue(category, out var code))
            {
                if (names.Count > byte.MaxValue) return null;
                codes[category] = code = (byte)names.Count;
                names.Add(category);
            }
            map[id - 1] = code;
        }
        return new CategoryMap(map, names.ToArray());
    }

    private async Task<Dictionary<int, ProfileAggregate>> AggregateAsync(string customerFilter, MySqlParameter[] parameters, CancellationToken cancellationToken)
    {
        var index = _useCoveringIndex ? $" FORCE INDEX ({CoveringIndexName})" : "";
        var result = new Dictionary<int, ProfileAggregate>();
        var zeroTimestampCustomers = new List<int>();
        await using var connection = await OpenAsync(cancellationToken);
        // Products and transactions from one snapshot: a product inserted just before its first sale is seen by both.
        await ExecuteAsync(connection, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", cancellationToken);
        try
        {
            var map = await ReadCategoryMapAsync(connection, cancellationToken);
            string sql;
            // Null counts come from COUNT(column), which costs nothing per row, unlike an expression.
            // MIN/MAX are read as text (once per group, not per row): a zero date then reads without
            // error whatever the connection string says about zero dates.
            const string aggregates = "COUNT(*), SUM(amount), CAST(MIN(txn_timestamp) AS CHAR), CAST(MAX(txn_timestamp) AS CHAR), COUNT(amount), COUNT(txn_timestamp)";
            if (map is not null)
            {
                // The category is looked up in a byte string indexed by product_id instead of a join:
                // same result, about three times faster over a million rows. GREATEST keeps a negative
                // product_id from indexing from the end (it yields NULL for a NULL product_id).
                sql = "SELECT customer_id, ASCII(SUBSTRING(@categoryMap, GREATEST(product_id, 0), 1)) AS category_code, " + aggregates +
                      " FROM transactions" + index + " WHERE " + customerFilter + " GROUP BY customer_id, category_code ORDER BY NULL";
            }
            else
            {
                // Grouping on the category's bytes keeps names that differ only in case or trailing spaces
                // apart (MySQL's collation would merge them), so the tie rule can be ordinal.
                sql = "SELECT t.customer_id, CAST(COALESCE(NULLIF(p.category, ''), 'Unknown') AS BINARY) AS category_key, " +
                      aggregates.Replace("(amount)", "(t.amount)").Replace("(txn_timestamp)", "(t.txn_timestamp)") +
                      ", SUM(p.product_id IS NULL) FROM transactions t" + index + " LEFT JOIN products p ON p.product_id = t.product_id " +
                      "WHERE t." + customerFilter + " GROUP BY t.customer_id, category_key ORDER BY NULL";
            }
            await using (var command = new MySqlCommand(sql, connection))
            {
                command.Parameters.AddRange(parameters);
                if (map is not null) command.Parameters.AddWithValue("@categoryMap", map.Codes);
                var categoryNames = new Dictionary<string, string>(StringComparer.Ordinal);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var customerId = reader.GetInt32(0);
                    var transactions = reader.GetInt64(2);
                    string category;
                    long missingProducts;
                    if (map is not null)
                    {
                        var code = reader.IsDBNull(1) ? 0 : reader.GetInt32(1);
                        category = map.Names[code];
                        missingProducts = code == 0 ? transactions : 0;
                    }
                    else
                    {
                        category = DecodeCategory(reader.GetFieldValue<byte[]>(1), categoryNames);
                        missingProducts = reader.GetInt64(8);
                    }
                    if (!result.TryGetValue(customerId, out var aggregate)) result[customerId] = aggregate = new ProfileAggregate();
                    var first = ReadTimestamp(reader, 4, out var firstIsZero);
                    var last = ReadTimestamp(reader, 5, out var lastIsZero);
                    if (firstIsZero || lastIsZero) zeroTimestampCustomers.Add(customerId);
                    aggregate.Add(category, transactions,
                        reader.IsDBNull(3) ? 0m : reader.GetDecimal(3),
                        firstIsZero ? null : first, lastIsZero ? null : last,
                        transactions - reader.GetInt64(6), transactions - reader.GetInt64(7), missingProducts);
                }
            }
            if (zeroTimestampCustomers.Count > 0)
            {
                await FixZeroTimestampsAsync(connection, zeroTimestampCustomers, result, cancellationToken);
            }
        }
        finally
        {
            await ExecuteAsync(connection, "COMMIT", CancellationToken.None);
        }
        return result;
    }

    private static readonly string[] s_timestampFormats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFF", "yyyy-MM-dd"];

    /// <summary>A TIMESTAMP read as text, in UTC (the session's zone); <paramref name="isZero"/> for MySQL's zero date (possible under a lax sql_mode).</summary>
    private static DateTime? ReadTimestamp(MySqlDataReader reader, int ordinal, out bool isZero)
    {
        isZero = false;
        if (reader.IsDBNull(ordinal)) return null;
        var text = reader.GetString(ordinal);
        if (!DateTime.TryParseExact(text, s_timestampFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var value))
        {
            isZero = true; // 0000-00-00 00:00:00 or another date no calendar has
            return null;
        }
        return DateTime.SpecifyKind(value, DateTimeKind.Utc);
    }

    /// <summary>
    /// Rare path: a zero TIMESTAMP sorts first, so MIN/MAX of those customers are read again without
    /// them, and the zero values are counted with the NULL ones (both are "no valid timestamp").
    /// </summary>
    private static async Task FixZeroTimestampsAsync(MySqlConnection connection, List<int> customerIds, Dictionary<int, ProfileAggregate> aggregates, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            "SELECT customer_id, CAST(MIN(NULLIF(txn_timestamp, 0)) AS CHAR), CAST(MAX(NULLIF(txn_timestamp, 0)) AS CHAR), COUNT(txn_timestamp) - COUNT(NULLIF(txn_timestamp, 0)) FROM transactions " +
            "WHERE customer_id IN (" + string.Join(',', customerIds.Distinct().Select(id => id.ToString(CultureInfo.InvariantCulture))) + ") GROUP BY customer_id",
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            aggregates[reader.GetInt32(0)].ReplaceTimestamps(
                ReadTimestamp(reader, 1, out _), ReadTimestamp(reader, 2, out _), reader.GetInt64(3));
        }
    }

    private static string DecodeCategory(byte[] bytes, Dictionary<string, string> interned)
    {
        var text = Encoding.UTF8.GetString(bytes);
        if (interned.TryGetValue(text, out var known)) return known;
        interned[text] = text;
        return text;
    }

    private static void Merge(Dictionary<int, ProfileAggregate> into, Dictionary<int, ProfileAggregate> part)
    {
        foreach (var (customerId, aggregate) in part)
        {
            if (into.TryGetValue(customerId, out var existing)) existing.Merge(aggregate);
            else into[customerId] = aggregate;
        }
    }

    /// <summary>The cross-process writer lock of Pipeline A for <paramref name="source"/>, or null when another instance kept it past <paramref name="wait"/>.</summary>
    public Task<CustomerData.Pipelines.Common.SourceLock?> TryLockAsync(string source, TimeSpan wait, CancellationToken cancellationToken) =>
        CustomerData.Pipelines.Common.SourceLock.TryAcquireAsync(dataSource, "profile", source, wait, cancellationToken);

    /// <summary>The reconcile pass's fingerprints over rows up to <paramref name="upTo"/> (of <paramref name="buckets"/>, or all), on a UTC connection.</summary>
    /// <remarks>With each bucket's customers part (a checksum of its <c>customers</c> rows); a bucket with customers but no transactions is there too.</remarks>
    public async Task<Dictionary<int, BucketFingerprint>> BucketFingerprintsAsync(long upTo, IReadOnlyCollection<int>? buckets, CancellationToken cancellationToken)
    {
        var size = options.Reconcile.BucketSize;
        await using var connection = await OpenAsync(cancellationToken);
        var result = await ReadBucketFingerprintsAsync(connection, size, 0, upTo, buckets, cancellationToken);
        var filter = buckets is null ? "" : $" WHERE customer_id DIV {size} IN ({string.Join(',', buckets.Select(b => b.ToString(CultureInfo.InvariantCulture)))})";
        await using var command = new MySqlCommand(
            $"SELECT customer_id DIV {size} AS bucket, BIT_XOR(CRC32(CONCAT_WS('|', customer_id, name, email, CAST(gender AS CHAR), CAST(signup_date AS CHAR)))) " +
            $"FROM customers{filter} GROUP BY bucket", connection) { CommandTimeout = 600 };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var bucket = Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
            var customersXor = unchecked((long)reader.GetUInt64(1));
            result[bucket] = (result.TryGetValue(bucket, out var f) ? f : default) with { CustomersXor = customersXor };
        }
        return result;
    }

    /// <summary>
    /// Per-bucket fingerprints of the rows with <paramref name="above"/> &lt; txn_id &lt;= <paramref name="upTo"/>
    /// (of <paramref name="buckets"/> only, when given). Rows without a customer never reach a profile and are left out.
    /// </summary>
    public static async Task<Dictionary<int, BucketFingerprint>> ReadBucketFingerprintsAsync(MySqlConnection connection, int bucketSize, long above, long upTo,
        IReadOnlyCollection<int>? buckets, CancellationToken cancellationToken)
    {
        var filter = buckets is null ? "" : $" AND customer_id DIV {bucketSize} IN ({string.Join(',', buckets.Select(b => b.ToString(CultureInfo.InvariantCulture)))})";
        await using var command = new MySqlCommand(
            $"SELECT customer_id DIV {bucketSize} AS bucket, COUNT(*), COALESCE(SUM(amount), 0), MAX(txn_id), COALESCE(SUM(product_id), 0), " +
            "SUM(customer_id), COALESCE(SUM(UNIX_TIMESTAMP(txn_timestamp)), 0), BIT_XOR(txn_id) " +
            $"FROM transactions WHERE txn_id > @above AND txn_id <= @upTo AND customer_id IS NOT NULL{filter} GROUP BY bucket", connection) { CommandTimeout = 600 };
        command.Parameters.AddWithValue("@above", above);
        command.Parameters.AddWithValue("@upTo", upTo);
        var result = new Dictionary<int, BucketFingerprint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result[Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture)] = new BucketFingerprint(
                reader.GetInt64(1), reader.GetDecimal(2), reader.GetInt64(3), reader.GetDecimal(4), reader.GetDecimal(5), reader.GetDecimal(6), unchecked((long)reader.GetUInt64(7)));
        }
        return result;
    }

    /// <summary>The highest txn_id now (the bound of a rebuild's fingerprints, read before it aggregates).</summary>
    public async Task<long> MaxTxnIdAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("SELECT COALESCE(MAX(txn_id), 0) FROM transactions", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>Rows of <c>customers</c>: those of <paramref name="customerIds"/>, or every row when null.</summary>
    public async Task<List<CustomerRecord>> ReadCustomersAsync(IReadOnlyCollection<int>? customerIds, CancellationToken cancellationToken)
    {
        const string select = "SELECT customer_id, name, email, CAST(gender AS CHAR), CAST(signup_date AS CHAR) FROM customers";
        var queries = customerIds is null
            ? [select]
            : customerIds.Order().Chunk(options.CustomersPerQuery)
                .Select(chunk => select + " WHERE customer_id IN (" + string.Join(',', chunk.Select(id => id.ToString(CultureInfo.InvariantCulture))) + ")")
                .ToList();
        var rows = new List<CustomerRecord>();
        await using var connection = await OpenAsync(cancellationToken);
        foreach (var sql in queries)
        {
            await using var command = new MySqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new CustomerRecord(
                    reader.IsDBNull(0) ? null : reader.GetInt32(0),
                    reader.IsDBNull(1) ? null : reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4)));
            }
        }
        return rows;
    }

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s.]+$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailFormat();

    /// <summary>The documented default of a NULL name.</summary>
    public const string DefaultName = "";

    /// <summary>The documented default of a NULL gender: O (other / not stated).</summary>
    public const string DefaultGender = "O";

    /// <summary>
    /// Runs the input checks of SPEC section 5 A on customer rows: rows that fail are counted, sampled and
    /// left out; NULLs in descriptive columns get the documented defaults and a warning.
    /// </summary>
    public static Dictionary<int, CustomerRecord> ValidateCustomers(IEnumerable<CustomerRecord> rows, DataQualityReport report)
    {
        var valid = new Dictionary<int, CustomerRecord>();
        var rowsById = new Dictionary<int, List<CustomerRecord>>();
        foreach (var row in rows)
        {
            if (row.CustomerId is not { } id)
            {
                report.Reject(QualityReasons.CustomerIdNull, $"email={PersonalData.DescribeEmail(row.Email)}");
                continue;
            }
            if (!rowsById.TryGetValue(id, out var list)) rowsById[id] = list = new List<CustomerRecord>(1);
            list.Add(row);
        }
        foreach (var (id, list) in rowsById)
        {
            if (list.Count > 1)
            {
                // Which row is right is unknowable: every row of that id is left out.
                report.Reject(QualityReasons.CustomerIdDuplicate, $"customer_id={id} rows={list.Count}", list.Count);
                continue;
            }
            var row = list[0];
            if (row.Email is null || !EmailFormat().IsMatch(row.Email))
            {
                report.Reject(QualityReasons.EmailInvalid, $"customer_id={id} email={PersonalData.DescribeEmail(row.Email)}");
                continue;
            }
            if (row.Gender is not null && row.Gender is not ("M" or "F" or "O"))
            {
                report.Reject(QualityReasons.GenderInvalid, $"customer_id={id} gender={PersonalData.DescribeValue("gender", row.Gender)}");
                continue;
            }
            if (row.SignupDate is not null && !IsValidDate(row.SignupDate))
            {
                report.Reject(QualityReasons.SignupDateInvalid, $"customer_id={id} signup_date={row.SignupDate}");
                continue;
            }
            var name = row.Name;
            if (name is null)
            {
                report.Warn(QualityReasons.NameNull, $"customer_id={id}");
                name = DefaultName;
            }
            var gender = row.Gender;
            if (gender is null)
            {
                report.Warn(QualityReasons.GenderNull, $"customer_id={id}");
                gender = DefaultGender;
            }
            if (row.SignupDate is null) report.Warn(QualityReasons.SignupDateNull, $"customer_id={id}");
            valid[id] = row with { Name = name, Gender = gender };
        }
        return valid;
    }

    private static bool IsValidDate(string text) =>
        text.Length >= 10
        && DateOnly.TryParseExact(text.AsSpan(0, 10), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
}
