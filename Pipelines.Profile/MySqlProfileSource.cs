using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CustomerData.Contracts;
using MySqlConnector;

namespace CustomerData.Pipelines.Profile;

/// <summary>The txn_ids above the stored offset and the customers they touch.</summary>
public sealed record TxnDelta(long StoredOffset, IReadOnlyList<long> TxnIds, IReadOnlySet<int> Customers)
{
    public long MaxTxnId => TxnIds.Count == 0 ? StoredOffset : TxnIds[^1];
}

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

    /// <summary>Creates the source database and tables when missing (<see cref="SourceSchema"/>).</summary>
    public Task ApplySourceSchemaAsync(CancellationToken cancellationToken) =>
        SourceSchema.ApplyAsync(dataSource.ConnectionString, cancellationToken);

    /// <summary>A connection whose session reads TIMESTAMP columns in UTC, whatever the server's zone.</summary>
    public async Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new MySqlCommand("SET time_zone = '+00:00'", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

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
            throw new SourceSchemaException("The MySQL source does not have the columns Pipeline A needs: " + string.Join("; ", problems) + ".");
        }
    }

    /// <summary>Every txn_id above <paramref name="storedOffset"/>, ascending, and the customers of those rows.</summary>
    public static async Task<TxnDelta> ReadDeltaAsync(MySqlConnection connection, long storedOffset, DataQualityReport report, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        var customers = new HashSet<int>();
        await using var command = new MySqlCommand(
            "SELECT txn_id, customer_id FROM transactions WHERE txn_id > @offset ORDER BY txn_id", connection);
        command.Parameters.AddWithValue("@offset", storedOffset);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetInt64(0);
            ids.Add(id);
            if (reader.IsDBNull(1))
            {
                report.Reject(QualityReasons.TransactionCustomerIdNull, $"txn_id={id}");
            }
            else
            {
                customers.Add(reader.GetInt32(1));
            }
        }
        return new TxnDelta(storedOffset, ids, customers);
    }

    /// <summary>Highest txn_id visible now (0 when the table is empty).</summary>
    public static async Task<long> ReadMaxTxnIdAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand("SELECT COALESCE(MAX(txn_id), 0) FROM transactions", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
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
                var where = "t.customer_id IN (" + string.Join(',', chunk.Select(id => id.ToString(CultureInfo.InvariantCulture))) + ")";
                var part = await AggregateAsync(where, [], ct);
                lock (result) Merge(result, part);
            });
        return result;
    }

    /// <summary>
    /// The aggregates of every customer, read as txn_id ranges (as the original's JDBC partitions were)
    /// in parallel and merged by customer. <paramref name="onRangeDone"/> reports progress.
    /// </summary>
    public async Task<Dictionary<int, ProfileAggregate>> AggregateAllAsync(long maxTxnId, Action<int, int>? onRangeDone, CancellationToken cancellationToken)
    {
        var ranges = new List<(long Above, long UpTo)>();
        long step = options.TransactionsPerRange;
        for (long above = 0; above < maxTxnId; above += step)
        {
            ranges.Add((above, above + step >= maxTxnId ? long.MaxValue : above + step));
        }
        if (ranges.Count == 0) ranges.Add((0, long.MaxValue));

        var result = new Dictionary<int, ProfileAggregate>();
        var done = 0;
        await Parallel.ForEachAsync(ranges,
            new ParallelOptions { MaxDegreeOfParallelism = options.QueryParallelism, CancellationToken = cancellationToken },
            async (range, ct) =>
            {
                var part = await AggregateAsync("t.txn_id > @above AND t.txn_id <= @upTo AND t.customer_id IS NOT NULL",
                    [new MySqlParameter("@above", range.Above), new MySqlParameter("@upTo", range.UpTo)], ct);
                lock (result)
                {
                    Merge(result, part);
                    onRangeDone?.Invoke(++done, ranges.Count);
                }
            });
        return result;
    }

    private async Task<Dictionary<int, ProfileAggregate>> AggregateAsync(string where, MySqlParameter[] parameters, CancellationToken cancellationToken)
    {
        // Grouping on the category's bytes keeps names that differ only in case or trailing spaces
        // apart (MySQL's collation would merge them), so the tie rule can be ordinal.
        // A zero TIMESTAMP (non-strict sql_mode) is treated like NULL.
        var sql =
            "SELECT t.customer_id, " +
            "CAST(COALESCE(NULLIF(p.category, ''), 'Unknown') AS BINARY) AS category_key, " +
            "COUNT(*), COALESCE(SUM(t.amount), 0), " +
            "MIN(NULLIF(t.txn_timestamp, 0)), MAX(NULLIF(t.txn_timestamp, 0)), " +
            "SUM(t.amount IS NULL), SUM(t.txn_timestamp IS NULL OR t.txn_timestamp = 0), " +
            "SUM(t.product_id IS NOT NULL AND p.product_id IS NULL) " +
            "FROM transactions t LEFT JOIN products p ON p.product_id = t.product_id " +
            "WHERE " + where + " GROUP BY t.customer_id, category_key ORDER BY NULL";

        var result = new Dictionary<int, ProfileAggregate>();
        var categoryNames = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(sql, connection);
        command.Parameters.AddRange(parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var customerId = reader.GetInt32(0);
            var category = DecodeCategory(reader.GetFieldValue<byte[]>(1), categoryNames);
            if (!result.TryGetValue(customerId, out var aggregate)) result[customerId] = aggregate = new ProfileAggregate();
            aggregate.Add(category,
                reader.GetInt64(2),
                reader.GetDecimal(3),
                reader.IsDBNull(4) ? null : DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc),
                reader.IsDBNull(5) ? null : DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc),
                reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8));
        }
        return result;
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
                report.Reject(QualityReasons.CustomerIdNull, $"email={row.Email ?? "NULL"}");
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
                report.Reject(QualityReasons.EmailInvalid, $"customer_id={id} email={row.Email ?? "NULL"}");
                continue;
            }
            if (row.Gender is not null && row.Gender is not ("M" or "F" or "O"))
            {
                report.Reject(QualityReasons.GenderInvalid, $"customer_id={id} gender='{row.Gender}'");
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
