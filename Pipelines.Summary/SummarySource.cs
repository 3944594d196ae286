using System.Globalization;
using MySqlConnector;

namespace CustomerData.Pipelines.Summary;

/// <summary>The new rows above the offset, read in one statement so ids and days agree.</summary>
public sealed record NewTxnScan(long Count, long MaxId, DateTime? OldestTimestampUtc, IReadOnlyList<DateOnly> Days, IReadOnlyList<long>? Ids, bool HasUndated)
{
    /// <summary>Ids above the offset are exactly offset+1..MaxId: no gap, the offset can move to MaxId.</summary>
    public bool IsContiguousFrom(long offset) => Count == MaxId - offset;
}

/// <summary>One day of a range query: its summaries (sorted by customer_id) and the ids rejected on it.</summary>
public sealed record DayAggregate(DateOnly Day, List<DailySummary> Summaries, List<(long TxnId, string Reason)> Rejected);

/// <summary>
/// Pipeline B's MySQL side. Every connection runs in UTC so DATE(txn_timestamp) is the UTC day.
/// The quality checks and the aggregation run in one pass over the day range: each row gets its
/// reject reason (or none) in SQL; valid rows are grouped by (day, customer, category) and window
/// functions fold the categories into one row per (day, customer) with the top category
/// (most rows, tie → ordinal-first name, i.e. binary collation).
/// </summary>
public static class SummarySource
{
    /// <summary>Oldest value MySQL's TIMESTAMP can hold; anything below (the zero timestamp) is invalid.</summary>
    private const string MinValidTimestamp = "'1970-01-01 00:00:01'";

    private const string DayExpression =
        $"CASE WHEN t.txn_timestamp IS NULL OR t.txn_timestamp < {MinValidTimestamp} THEN NULL ELSE DATE(t.txn_timestamp) END";

    /// <summary>The first failing check of a dated row (rows without a day are handled apart), or NULL.</summary>
    internal const string ReasonExpression =
        "CASE " +
        $"WHEN t.customer_id IS NULL THEN '{RejectReasons.MissingCustomerId}' " +
        $"WHEN c.customer_id IS NULL THEN '{RejectReasons.UnknownCustomer}' " +
        $"WHEN t.product_id IS NULL THEN '{RejectReasons.MissingProductId}' " +
        $"WHEN p.product_id IS NULL THEN '{RejectReasons.UnknownProduct}' " +
        $"WHEN t.qty IS NULL OR t.qty <= 0 THEN '{RejectReasons.NonPositiveQty}' " +
        $"WHEN t.amount IS NULL OR t.amount <= 0 THEN '{RejectReasons.NonPositiveAmount}' " +
        $"WHEN t.amount <> t.qty * p.price THEN '{RejectReasons.AmountMismatch}' " +
        "END";

    private const string CategoryExpression = "COALESCE(NULLIF(TRIM(p.category), ''), 'Unknown')";

    /// <summary>The aggregation and checks for the UTC days in [@from, @to).</summary>
    public const string RangeQuery = $"""
        SELECT d, customer_id, reason, category, total_amount, total_items, distinct_products, txn_count, ids FROM (
          SELECT d, customer_id, reason, cat AS category, ids,
            SUM(amt) OVER (PARTITION BY d, customer_id, reason) AS total_amount,
            SUM(items) OVER (PARTITION BY d, customer_id, reason) AS total_items,
            SUM(dp) OVER (PARTITION BY d, customer_id, reason) AS distinct_products,
            SUM(n) OVER (PARTITION BY d, customer_id, reason) AS txn_count,
            ROW_NUMBER() OVER (PARTITION BY d, customer_id, reason ORDER BY n DESC, CAST(cat AS BINARY)) AS rn
          FROM (
            SELECT DATE(t.txn_timestamp) AS d, t.customer_id,
              {ReasonExpression} AS reason,
              CASE WHEN ({ReasonExpression}) IS NULL THEN {CategoryExpression} ELSE '' END AS cat,
              COUNT(*) AS n, SUM(t.amount) AS amt, SUM(t.qty) AS items,
              -- a product has one category, so distinct products per customer-day = sum over its categories
              COUNT(DISTINCT t.product_id) AS dp,
              GROUP_CONCAT(CASE WHEN ({ReasonExpression}) IS NOT NULL THEN t.txn_id END) AS ids
            FROM transactions t
            LEFT JOIN customers c ON c.customer_id = t.customer_id
            LEFT JOIN products p ON p.product_id = t.product_id
            WHERE t.txn_timestamp >= @from AND t.txn_timestamp < @to
            -- not "category": GROUP BY would take the column p.category before the alias
            GROUP BY d, t.customer_id, reason, cat
          ) g
        ) r
        WHERE rn = 1
        ORDER BY d, customer_id
        """;

    /// <summary>The same aggregation without checks or the reject pass: the benchmark's baseline.</summary>
    public const string BareAggregationQuery = $"""
        SELECT d, customer_id, category, total_amount, total_items, distinct_products FROM (
          SELECT d, customer_id, cat AS category,
            SUM(amt) OVER (PARTITION BY d, customer_id) AS total_amount,
            SUM(items) OVER (PARTITION BY d, customer_id) AS total_items,
            SUM(dp) OVER (PARTITION BY d, customer_id) AS distinct_products,
            ROW_NUMBER() OVER (PARTITION BY d, customer_id ORDER BY n DESC, CAST(cat AS BINARY)) AS rn
          FROM (
            SELECT DATE(t.txn_timestamp) AS d, t.customer_id, {CategoryExpression} AS cat,
              COUNT(*) AS n, SUM(t.amount) AS amt, SUM(t.qty) AS items, COUNT(DISTINCT t.product_id) AS dp
            FROM transactions t JOIN products p ON p.product_id = t.product_id
            WHERE t.txn_timestamp >= @from AND t.txn_timestamp < @to
            GROUP BY d, t.customer_id, cat
          ) g
        ) r
        WHERE rn = 1
        ORDER BY d, customer_id
        """;

    public static async Task<MySqlConnection> OpenAsync(MySqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new MySqlCommand("SET time_zone = '+00:00', SESSION group_concat_max_len = 4294967295", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Rows above <paramref name="offset"/>: count, max id, oldest timestamp and days, in one statement; the ids too when they are not contiguous.</summary>
    public static async Task<NewTxnScan> ScanNewAsync(MySqlConnection connection, long offset, CancellationToken cancellationToken)
    {
        long count = 0, maxId = offset;
        DateTime? oldest = null;
        var days = new SortedSet<DateOnly>();
        var undated = false;
        await using (var command = new MySqlCommand(
            $"SELECT {DayExpression} AS d, COUNT(*), MAX(t.txn_id), MIN(CASE WHEN t.txn_timestamp >= {MinValidTimestamp} THEN t.txn_timestamp END) " +
            "FROM transactions t WHERE t.txn_id > @offset GROUP BY d", connection))
        {
            command.Parameters.AddWithValue("@offset", offset);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (reader.IsDBNull(0)) undated = true;
                else days.Add(DateOnly.FromDateTime(reader.GetDateTime(0)));
                count += reader.GetInt64(1);
                maxId = Math.Max(maxId, reader.GetInt64(2));
                if (!reader.IsDBNull(3))
                {
                    var ts = DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc);
                    if (oldest is null || ts < oldest) oldest = ts;
                }
            }
        }
        var scan = new NewTxnScan(count, maxId, oldest, [.. days], null, undated);
        if (count == 0 || scan.IsContiguousFrom(offset)) return scan;

        // A gap: read ids and days again in one statement, so every id returned has its day in the set.
        var ids = new List<long>((int)Math.Min(count + 16, 10_000_000));
        days.Clear();
        undated = false;
        oldest = null;
        await using (var command = new MySqlCommand(
            $"SELECT t.txn_id, {DayExpression} AS d, t.txn_timestamp >= {MinValidTimestamp} AS valid_ts, CASE WHEN t.txn_timestamp >= {MinValidTimestamp} THEN t.txn_timestamp END " +
            "FROM transactions t WHERE t.txn_id > @offset ORDER BY t.txn_id", connection))
        {
            command.Parameters.AddWithValue("@offset", offset);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
                if (reader.IsDBNull(1)) { undated = true; continue; }
                days.Add(DateOnly.FromDateTime(reader.GetDateTime(1)));
                var ts = DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc);
                if (oldest is null || ts < oldest) oldest = ts;
            }
        }
        return new NewTxnScan(ids.Count, ids.Count == 0 ? offset : ids[^1], oldest, [.. days], ids, undated);
    }

    /// <summary>The first and last UTC day that has a valid timestamp, or null when there is none.</summary>
    public static async Task<(DateOnly First, DateOnly Last)?> DayRangeAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            $"SELECT MIN(txn_timestamp), MAX(txn_timestamp) FROM transactions WHERE txn_timestamp >= {MinValidTimestamp}", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken) || reader.IsDBNull(0)) return null;
        return (DateOnly.FromDateTime(reader.GetDateTime(0)), DateOnly.FromDateTime(reader.GetDateTime(1)));
    }

    /// <summary>Aggregates and checks the days [<paramref name="first"/>, <paramref name="last"/>]; returns one entry per day of the range, empty days included.</summary>
    public static async Task<List<DayAggregate>> AggregateRangeAsync(MySqlConnection connection, DateOnly first, DateOnly last, CancellationToken cancellationToken)
    {
        var result = new List<DayAggregate>(last.DayNumber - first.DayNumber + 1);
        for (var d = first; d <= last; d = d.AddDays(1)) result.Add(new DayAggregate(d, [], []));
        await using var command = new MySqlCommand(RangeQuery, connection) { CommandTimeout = 600 };
        command.Parameters.AddWithValue("@from", first.ToDateTime(TimeOnly.MinValue));
        command.Parameters.AddWithValue("@to", last.AddDays(1).ToDateTime(TimeOnly.MinValue));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var day = result[DateOnly.FromDateTime(reader.GetDateTime(0)).DayNumber - first.DayNumber];
            if (!reader.IsDBNull(2))
            {
                var reason = reader.GetString(2);
                foreach (var id in reader.GetString(8).Split(','))
                {
                    day.Rejected.Add((long.Parse(id, CultureInfo.InvariantCulture), reason));
                }
                continue;
            }
            day.Summaries.Add(new DailySummary(
                CustomerId: reader.GetInt32(1),
                TotalAmount: reader.GetDecimal(4),
                TotalItems: checked((int)reader.GetDecimal(5)),
                DistinctProducts: checked((int)reader.GetDecimal(6)),
                TopCategory: reader.GetString(3),
                TxnCount: (long)reader.GetDecimal(7)));
        }
        return result;
    }

    /// <summary>Rows without a valid timestamp with ids in [<paramref name="firstId"/>, <paramref name="lastId"/>].</summary>
    public static async Task<List<long>> UndatedIdsAsync(MySqlConnection connection, long firstId, long lastId, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            $"SELECT txn_id FROM transactions WHERE txn_id BETWEEN @first AND @last AND (txn_timestamp IS NULL OR txn_timestamp < {MinValidTimestamp}) ORDER BY txn_id",
            connection) { CommandTimeout = 600 };
        command.Parameters.AddWithValue("@first", firstId);
        command.Parameters.AddWithValue("@last", lastId);
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetInt64(0));
        return ids;
    }

    /// <summary>The stored values of rejected rows, for the rejects report (timestamps as text: the zero timestamp has no DateTime).</summary>
    public static async Task<List<RejectedTxn>> RejectedDetailsAsync(MySqlConnection connection, IReadOnlyList<(long TxnId, string Reason)> rejected, CancellationToken cancellationToken)
    {
        var result = new List<RejectedTxn>(rejected.Count);
        var reasons = rejected.ToDictionary(r => r.TxnId, r => r.Reason);
        foreach (var chunk in rejected.Select(r => r.TxnId).Order().Chunk(1000))
        {
            await using var command = new MySqlCommand(
                "SELECT txn_id, customer_id, product_id, qty, CAST(amount AS CHAR), CAST(txn_timestamp AS CHAR) FROM transactions " +
                $"WHERE txn_id IN ({string.Join(',', chunk)}) ORDER BY txn_id", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetInt64(0);
                result.Add(new RejectedTxn(
                    id,
                    reader.IsDBNull(1) ? null : reader.GetInt32(1),
                    reader.IsDBNull(2) ? null : reader.GetInt32(2),
                    reader.IsDBNull(3) ? null : reader.GetInt32(3),
                    reader.IsDBNull(4) ? null : decimal.Parse(reader.GetString(4), CultureInfo.InvariantCulture),
                    reader.IsDBNull(5) ? null : reader.GetString(5),
                    reasons[id]));
            }
        }
        return result;
    }

    /// <summary>The highest txn_id in the source (for the lag metric).</summary>
    public static async Task<long> MaxTxnIdAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand("SELECT COALESCE(MAX(txn_id), 0) FROM transactions", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }
}
