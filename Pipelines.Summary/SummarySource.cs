using System.Globalization;
using MySqlConnector;

namespace CustomerData.Pipelines.Summary;

/// <summary>The new rows above the offset, read in one statement so ids and days agree.</summary>
public sealed record NewTxnScan(long Count, long MaxId, DateTime? OldestTimestampUtc, IReadOnlyList<DateOnly> Days, IReadOnlyList<long>? Ids, bool HasUndated)
{
    /// <summary>Ids above the offset are exactly offset+1..MaxId: no gap, the offset can move to MaxId.</summary>
    public bool IsContiguousFrom(long offset) => Count == MaxId - offset;

    /// <summary>The latest valid txn_timestamp of the new rows (the freshness of what the cycle writes); null without days read.</summary>
    public DateTime? NewestTimestampUtc { get; init; }
}

/// <summary>One day of a range query: its summaries (sorted by customer_id) and how many rows failed a check.</summary>
public sealed record DayAggregate(DateOnly Day, List<DailySummary> Summaries)
{
    public long RejectedCount { get; set; }

    /// <summary>Customers whose day totals do not fit the file's INT columns (poison rows): their rows are rejected, not summarised.</summary>
    public List<int> OverflowCustomers { get; } = [];

    /// <summary>The fingerprint of every row of the day (valid or not), from the same statement as the summaries.</summary>
    public DayFingerprint Fingerprint { get; set; }
}

/// <summary>
/// Cheap fingerprint of a day's source rows: count, sums of amount, qty, customer_id and product_id, max and XOR of
/// txn_id. Any insert, delete or single-row update of a column the summary depends on changes it; the reconcile
/// pass compares it with the fingerprint stored when the day was last written.
/// </summary>
public readonly record struct DayFingerprint(long Count, decimal Amount, decimal Qty, long MaxId, decimal CustomerSum, decimal ProductSum, long IdXor)
{
    public DayFingerprint Add(DayFingerprint o) => new(Count + o.Count, Amount + o.Amount, Qty + o.Qty, Math.Max(MaxId, o.MaxId), CustomerSum + o.CustomerSum, ProductSum + o.ProductSum, IdXor ^ o.IdXor);

    public override string ToString() => string.Join('|',
        Count.ToString(CultureInfo.InvariantCulture), Amount.ToString("0.00", CultureInfo.InvariantCulture), Qty.ToString(CultureInfo.InvariantCulture),
        MaxId.ToString(CultureInfo.InvariantCulture), CustomerSum.ToString(CultureInfo.InvariantCulture), ProductSum.ToString(CultureInfo.InvariantCulture),
        IdXor.ToString(CultureInfo.InvariantCulture));
}

/// <summary>
/// Pipeline B's MySQL side. Every connection runs in UTC so DATE(txn_timestamp) is the UTC day.
/// The quality checks and the aggregation run in one pass over the day range in MySQL: each row gets
/// its reject reason (or none); valid rows are grouped by (day, customer, category) with exact DECIMAL
/// sums, sorted by day and customer; <see cref="CustomerFold"/> then folds a customer's few category
/// groups into one summary row and picks the top category (most rows, tie → ordinal-first name).
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
        // Judged by the row itself (the unit price it implies must be whole cents), not by the product's price today:
        // a price change must not turn earlier sales into rejects when their day is recomputed.
        $"WHEN MOD(t.amount * 100, t.qty) <> 0 THEN '{RejectReasons.AmountMismatch}' " +
        "END";

    // Grouped under a binary collation: SPEC section 9's rule is ordinal, so 'Sports' and 'sports' are two
    // categories (the table's default collation would merge them). NULL or empty is 'Unknown', as in Pipeline A.
    private const string CategoryExpression = "(COALESCE(NULLIF(p.category, ''), 'Unknown') COLLATE utf8mb4_bin)";

    /// <summary>
    /// The aggregation and checks for the UTC days in [@from, @to): one row per (day, customer, reason, category)
    /// with the row count, amount, items and distinct products; groups with a reason are rejected rows (only
    /// counted here; <see cref="RejectedOnDayQuery"/> lists them). Sorted so each (day, customer) is contiguous.
    /// </summary>
    public const string RangeQuery = $"""
        SELECT DATE(t.txn_timestamp) AS d, t.customer_id, {ReasonExpression} AS reason, {CategoryExpression} AS cat,
          COUNT(*) AS n, SUM(t.amount) AS amt, SUM(t.qty) AS items, COUNT(DISTINCT t.product_id) AS dp,
          {FingerprintColumns}
        FROM transactions t
        LEFT JOIN customers c ON c.customer_id = t.customer_id
        LEFT JOIN products p ON p.product_id = t.product_id
        WHERE t.txn_timestamp >= @from AND t.txn_timestamp < @to
        GROUP BY d, t.customer_id, reason, cat
        ORDER BY d, t.customer_id, reason, cat
        """;

    /// <summary>
    /// The fingerprint aggregates (<see cref="DayFingerprint"/>) after count: they compose over groups, so the range query
    /// yields each day's fingerprint from the very snapshot its summaries come from.
    /// </summary>
    internal const string FingerprintColumns =
        "MAX(t.txn_id) AS mx, COALESCE(SUM(t.amount), 0) AS fa, COALESCE(SUM(t.qty), 0) AS fq, COALESCE(SUM(t.customer_id), 0) AS fc, " +
        "COALESCE(SUM(t.product_id), 0) AS fp, BIT_XOR(t.txn_id) AS fx";

    /// <summary>Every dated day's fingerprint: one pass over the table, no joins (the reconcile pass).</summary>
    public const string DayFingerprintsQuery = $"""
        SELECT DATE(t.txn_timestamp) AS d, COUNT(*) AS n, {FingerprintColumns}
        FROM transactions t
        WHERE t.txn_timestamp >= {MinValidTimestamp}
        GROUP BY d
        """;

    /// <summary>The rejected rows of one day with their reason (rare: only run for days whose aggregation found some).</summary>
    public const string RejectedOnDayQuery = $"""
        SELECT t.txn_id, t.customer_id, t.product_id, t.qty, CAST(t.amount AS CHAR), CAST(t.txn_timestamp AS CHAR), {ReasonExpression} AS reason
        FROM transactions t
        LEFT JOIN customers c ON c.customer_id = t.customer_id
        LEFT JOIN products p ON p.product_id = t.product_id
        WHERE t.txn_timestamp >= @from AND t.txn_timestamp < @to
        HAVING reason IS NOT NULL
        ORDER BY t.txn_id
        """;

    /// <summary>Ranges of at least this many days are aggregated with hash joins where the server offers them (<see cref="WithHashJoins"/>).</summary>
    public const int HashJoinMinDays = 30;

    /// <summary>
    /// On MariaDB, runs <paramref name="query"/> with hash joins allowed (<c>SET STATEMENT join_cache_level=4 FOR</c>, this
    /// statement only): over a long range each row's customer and product checks then probe an in-memory hash of the
    /// small tables instead of two B-tree lookups, which takes about a quarter off a 1M-row rebuild (benchmark). A short
    /// range keeps the index lookups, which beat hashing a large customers table for a few thousand rows.
    /// MySQL has no such switch (it picks its own joins): the query runs unchanged there.
    /// </summary>
    public static string WithHashJoins(MySqlConnection connection, string query)
        => connection.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) ? "SET STATEMENT join_cache_level=4 FOR " + query : query;

    /// <summary>A UTC session (the shared <see cref="CustomerData.Pipelines.Common.SourceConnection"/>).</summary>
    public static Task<MySqlConnection> OpenAsync(MySqlDataSource dataSource, CancellationToken cancellationToken) =>
        CustomerData.Pipelines.Common.SourceConnection.OpenUtcAsync(dataSource, cancellationToken, "SESSION group_concat_max_len = 1048576");

    /// <summary>Rows above <paramref name="offset"/>: count, max id, oldest timestamp and days, in one statement; the ids too when they are not contiguous.</summary>
    public static async Task<NewTxnScan> ScanNewAsync(MySqlConnection connection, long offset, CancellationToken cancellationToken)
        => await ScanNewAsync(connection, offset, withDays: true, cancellationToken);

    /// <param name="withDays">False for a full rebuild, which recomputes every day anyway: only count, max id and (on a gap) the ids are read, skipping a grouped pass over the table.</param>
    public static async Task<NewTxnScan> ScanNewAsync(MySqlConnection connection, long offset, bool withDays, CancellationToken cancellationToken)
    {
        if (!withDays)
        {
            long total, max;
            await using (var countCommand = new MySqlCommand("SELECT COUNT(*), COALESCE(MAX(txn_id), @offset) FROM transactions WHERE txn_id > @offset", connection))
            {
                countCommand.Parameters.AddWithValue("@offset", offset);
                await using var reader = await countCommand.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                total = reader.GetInt64(0);
                max = reader.GetInt64(1);
            }
            if (total == max - offset) return new NewTxnScan(total, max, null, [], null, false);
            var all = new List<long>((int)Math.Min(total + 16, 10_000_000));
            await using var idsCommand = new MySqlCommand("SELECT txn_id FROM transactions WHERE txn_id > @offset ORDER BY txn_id", connection);
            idsCommand.Parameters.AddWithValue("@offset", offset);
            await using (var reader = await idsCommand.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) all.Add(reader.GetInt64(0));
            }
            return new NewTxnScan(all.Count, all.Count == 0 ? offset : all[^1], null, [], all, false);
        }

        long count = 0, maxId = offset;
        DateTime? oldest = null, newest = null;
        var days = new SortedSet<DateOnly>();
        var undated = false;
        await using (var command = new MySqlCommand(
            $"SELECT {DayExpression} AS d, COUNT(*), MAX(t.txn_id), MIN(CASE WHEN t.txn_timestamp >= {MinValidTimestamp} THEN t.txn_timestamp END), " +
            $"MAX(CASE WHEN t.txn_timestamp >= {MinValidTimestamp} THEN t.txn_timestamp END) " +
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
                    var last = DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc);
                    if (newest is null || last > newest) newest = last;
                }
            }
        }
        var scan = new NewTxnScan(count, maxId, oldest, [.. days], null, undated) { NewestTimestampUtc = newest };
        if (count == 0 || scan.IsContiguousFrom(offset)) return scan;

        // A gap: read ids and days again in one statement, so every id returned has its day in the set.
        var ids = new List<long>((int)Math.Min(count + 16, 10_000_000));
        days.Clear();
        undated = false;
        oldest = null;
        newest = null;
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
                if (newest is null || ts > newest) newest = ts;
            }
        }
        return new NewTxnScan(ids.Count, ids.Count == 0 ? offset : ids[^1], oldest, [.. days], ids, undated) { NewestTimestampUtc = newest };
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

    /// <summary>
    /// Aggregates and checks the days [<paramref name="first"/>, <paramref name="last"/>], streaming one entry per day
    /// of the range in day order (empty days included) as soon as the day is complete.
    /// </summary>
    public static async IAsyncEnumerable<DayAggregate> AggregateRangeAsync(
        MySqlConnection connection, DateOnly first, DateOnly last, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = last.DayNumber - first.DayNumber + 1 >= HashJoinMinDays ? WithHashJoins(connection, RangeQuery) : RangeQuery;
        await using var command = new MySqlCommand(query, connection) { CommandTimeout = 3600 };
        command.Parameters.AddWithValue("@from", first.ToDateTime(TimeOnly.MinValue));
        command.Parameters.AddWithValue("@to", last.AddDays(1).ToDateTime(TimeOnly.MinValue));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var next = first;
        DayAggregate? current = null;
        var fold = new CustomerFold();
        while (await reader.ReadAsync(cancellationToken))
        {
            var day = DateOnly.FromDateTime(reader.GetDateTime(0));
            if (current is null || current.Day != day)
            {
                if (current is not null)
                {
                    fold.Flush(current);
                    yield return current;
                }
                // Days of the range without any row still count: their partitions must go.
                for (; next < day; next = next.AddDays(1)) yield return new DayAggregate(next, []);
                current = new DayAggregate(day, []);
                next = day.AddDays(1);
            }
            current.Fingerprint = current.Fingerprint.Add(ReadFingerprint(reader, 4, 8));
            if (!reader.IsDBNull(2))
            {
                current.RejectedCount += reader.GetInt64(4);
                continue;
            }
            fold.Add(current, reader.GetInt32(1), reader.GetString(3), reader.GetInt64(4), reader.GetDecimal(5), reader.GetDecimal(6), reader.GetInt64(7));
        }
        if (current is not null)
        {
            fold.Flush(current);
            yield return current;
        }
        for (; next <= last; next = next.AddDays(1)) yield return new DayAggregate(next, []);
    }

    private static DayFingerprint ReadFingerprint(MySqlDataReader r, int count, int first) => new(
        r.GetInt64(count), r.GetDecimal(first + 1), r.GetDecimal(first + 2), r.GetInt64(first), r.GetDecimal(first + 3), r.GetDecimal(first + 4), unchecked((long)r.GetUInt64(first + 5)));

    /// <summary>The fingerprint of every UTC day that has rows with a valid timestamp.</summary>
    public static async Task<Dictionary<DateOnly, DayFingerprint>> DayFingerprintsAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(DayFingerprintsQuery, connection) { CommandTimeout = 600 };
        var result = new Dictionary<DateOnly, DayFingerprint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) result[DateOnly.FromDateTime(reader.GetDateTime(0))] = ReadFingerprint(reader, 1, 2);
        return result;
    }

    /// <summary>The rows of <paramref name="customers"/> on <paramref name="day"/> that passed every row check but whose day totals overflow.</summary>
    public static async Task<List<RejectedTxn>> OverflowRowsAsync(MySqlConnection connection, DateOnly day, IReadOnlyList<int> customers, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand($"""
            SELECT t.txn_id, t.customer_id, t.product_id, t.qty, CAST(t.amount AS CHAR), CAST(t.txn_timestamp AS CHAR), {ReasonExpression} AS reason
            FROM transactions t
            LEFT JOIN customers c ON c.customer_id = t.customer_id
            LEFT JOIN products p ON p.product_id = t.product_id
            WHERE t.txn_timestamp >= @from AND t.txn_timestamp < @to AND t.customer_id IN ({string.Join(',', customers)})
            HAVING reason IS NULL
            ORDER BY t.txn_id
            """, connection);
        command.Parameters.AddWithValue("@from", day.ToDateTime(TimeOnly.MinValue));
        command.Parameters.AddWithValue("@to", day.AddDays(1).ToDateTime(TimeOnly.MinValue));
        var result = new List<RejectedTxn>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) result.Add(ReadRejected(reader, RejectReasons.TotalOverflow));
        return result;
    }

    public static async Task<List<RejectedTxn>> RejectedOnDayAsync(MySqlConnection connection, DateOnly day, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(RejectedOnDayQuery, connection);
        command.Parameters.AddWithValue("@from", day.ToDateTime(TimeOnly.MinValue));
        command.Parameters.AddWithValue("@to", day.AddDays(1).ToDateTime(TimeOnly.MinValue));
        var result = new List<RejectedTxn>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) result.Add(ReadRejected(reader, reader.GetString(6)));
        return result;
    }

    /// <summary>The txn_id blocks (<paramref name="blockSize"/> ids each) above <paramref name="offset"/> that hold rows without a valid timestamp.</summary>
    public static async Task<List<long>> UndatedBlocksAsync(MySqlConnection connection, long offset, long blockSize, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(
            $"SELECT DISTINCT txn_id DIV @block FROM transactions WHERE txn_id > @offset AND (txn_timestamp IS NULL OR txn_timestamp < {MinValidTimestamp}) ORDER BY 1",
            connection);
        command.Parameters.AddWithValue("@offset", offset);
        command.Parameters.AddWithValue("@block", blockSize);
        var blocks = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) blocks.Add(reader.GetInt64(0));
        return blocks;
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
            while (await reader.ReadAsync(cancellationToken)) result.Add(ReadRejected(reader, reasons[reader.GetInt64(0)]));
        }
        return result;
    }

    private static RejectedTxn ReadRejected(MySqlDataReader reader, string reason) => new(
        reader.GetInt64(0),
        reader.IsDBNull(1) ? null : reader.GetInt32(1),
        reader.IsDBNull(2) ? null : reader.GetInt32(2),
        reader.IsDBNull(3) ? null : reader.GetInt32(3),
        reader.IsDBNull(4) ? null : decimal.Parse(reader.GetString(4), CultureInfo.InvariantCulture),
        reader.IsDBNull(5) ? null : reader.GetString(5),
        reason);

    /// <summary>The highest txn_id in the source (for the lag metric).</summary>
    public static async Task<long> MaxTxnIdAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand("SELECT COALESCE(MAX(txn_id), 0) FROM transactions", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// Folds the per-category groups of one (day, customer), which arrive consecutively, into one summary row.
/// Distinct products add up across categories because a product has exactly one category.
/// </summary>
internal sealed class CustomerFold
{
    private int? _customer;
    private decimal _amount;
    private decimal _items;
    private long _distinct;
    private long _count;
    private string _top = "";
    private long _topCount;

    public void Add(DayAggregate into, int customer, string category, long count, decimal amount, decimal items, long distinctProducts)
    {
        if (_customer != customer) Flush(into);
        _customer = customer;
        _amount += amount;
        _items += items;
        _distinct += distinctProducts;
        _count += count;
        if (TopCategory.Beats(category, count, _top, _topCount))
        {
            _top = category;
            _topCount = count;
        }
    }

    public void Flush(DayAggregate into)
    {
        if (_customer is { } c)
        {
            // A day total past INT (the file's column type) is a poison row, not an exception: a throw here would fail
            // every retry of the cycle. Its rows are rejected (TotalOverflow) and the rest of the day goes on.
            if (_items > int.MaxValue || _distinct > int.MaxValue)
            {
                into.OverflowCustomers.Add(c);
                into.RejectedCount += _count;
            }
            else
            {
                into.Summaries.Add(new DailySummary(c, _amount, (int)_items, (int)_distinct, _top, _count));
            }
        }
        _customer = null;
        _amount = 0;
        _items = 0;
        _distinct = 0;
        _count = 0;
        _top = "";
        _topCount = 0;
    }
}
