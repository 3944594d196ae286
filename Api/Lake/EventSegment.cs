using CustomerData.Api.Contract;
using DuckDB.NET.Data;

namespace CustomerData.Api.Lake;

/// <summary>
/// The events of one lake file in memory, column by column, sorted by customer_id, event_timestamp, event_id, so
/// one customer's events are a binary search away. About 40 bytes an event: ids that are canonical UUIDs are
/// kept as <see cref="Guid"/> (others as text), event types as an index into a small table.
/// </summary>
public sealed class EventSegment
{
    // epoch_us over the TIMESTAMPTZ column itself is wrong in DuckDB 1.5.6 when the query sorts (it returns about a
    // thousandth of the value); over the cast to TIMESTAMP (the same UTC instant) it is right. Tested by ContractTests.
    internal const string LoadSql =
        "SELECT customer_id, event_id, event_type, product_id, epoch_us(event_timestamp::TIMESTAMP), epoch_us(ingestion_timestamp::TIMESTAMP) " +
        "FROM read_parquet($files) ORDER BY customer_id, event_timestamp, event_id";

    private readonly int[] _customerIds;
    private readonly Guid[] _ids;
    private readonly Dictionary<int, string>? _textIds;
    private readonly byte[] _types;
    private readonly string[] _typeNames;
    private readonly int[] _productIds;
    private readonly bool[] _productMissing;
    private readonly long[] _eventMicros;
    private readonly long[] _ingestionMicros;

    private EventSegment(DateOnly day, int[] customerIds, Guid[] ids, Dictionary<int, string>? textIds, byte[] types, string[] typeNames,
        int[] productIds, bool[] productMissing, long[] eventMicros, long[] ingestionMicros)
    {
        Day = day;
        _customerIds = customerIds;
        _ids = ids;
        _textIds = textIds;
        _types = types;
        _typeNames = typeNames;
        _productIds = productIds;
        _productMissing = productMissing;
        _eventMicros = eventMicros;
        _ingestionMicros = ingestionMicros;
    }

    public DateOnly Day { get; }
    public int Rows => _customerIds.Length;

    /// <summary>Appends the customer's events of this file, in file order (event_timestamp, event_id).</summary>
    public void Collect(int customerId, List<CustomerEventDto> into)
    {
        var (start, end) = SortedRange.Of(_customerIds, customerId);
        for (var i = start; i < end; i++) into.Add(Event(i));
    }

    private CustomerEventDto Event(int i) => new(
        Day,
        _textIds is not null && _textIds.TryGetValue(i, out var text) ? text : _ids[i].ToString("D"),
        _customerIds[i],
        _typeNames[_types[i]],
        _productMissing[i] ? null : _productIds[i],
        FromMicros(_eventMicros[i]),
        FromMicros(_ingestionMicros[i]));

    public static DateTimeOffset FromMicros(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * 10);

    /// <summary>Reads the whole file through DuckDB.</summary>
    public static EventSegment Load(DuckDBConnection connection, DateOnly day, string uri)
    {
        using var command = connection.CreateCommand();
        command.CommandText = LoadSql;
        command.Parameters.Add(new DuckDBParameter("files", new List<string> { uri }));
        using var reader = command.ExecuteReader();
        var customerIds = new List<int>();
        var ids = new List<Guid>();
        Dictionary<int, string>? textIds = null;
        var types = new List<byte>();
        var typeNames = new List<string>();
        var productIds = new List<int>();
        var productMissing = new List<bool>();
        var eventMicros = new List<long>();
        var ingestionMicros = new List<long>();
        while (reader.Read())
        {
            var row = customerIds.Count;
            customerIds.Add(reader.GetInt32(0));
            var id = reader.GetString(1);
            if (Guid.TryParseExact(id, "D", out var guid) && string.Equals(guid.ToString("D"), id, StringComparison.Ordinal))
            {
                ids.Add(guid);
            }
            else
            {
                ids.Add(Guid.Empty);
                (textIds ??= [])[row] = id;
            }
            var type = reader.GetString(2);
            var typeIndex = typeNames.IndexOf(type);
            if (typeIndex < 0)
            {
                if (typeNames.Count == byte.MaxValue) throw new InvalidDataException("More than 255 distinct event types in one file.");
                typeNames.Add(type);
                typeIndex = typeNames.Count - 1;
            }
            types.Add((byte)typeIndex);
            var missing = reader.IsDBNull(3);
            productMissing.Add(missing);
            productIds.Add(missing ? 0 : reader.GetInt32(3));
            eventMicros.Add(reader.GetInt64(4));
            ingestionMicros.Add(reader.GetInt64(5));
        }
        return new EventSegment(day, [.. customerIds], [.. ids], textIds, [.. types], [.. typeNames], [.. productIds], [.. productMissing], [.. eventMicros], [.. ingestionMicros]);
    }
}

/// <summary>The daily summary rows of one day's file in memory, sorted by customer_id.</summary>
public sealed class SummarySegment
{
    internal const string LoadSql =
        "SELECT customer_id, total_amount, total_items, distinct_products, top_category FROM read_parquet($files) ORDER BY customer_id";

    private readonly DailySummaryDto[] _rows;
    private readonly int[] _customerIds;

    private SummarySegment(DailySummaryDto[] rows)
    {
        _rows = rows;
        _customerIds = rows.Select(r => r.CustomerId).ToArray();
        All = new SummaryDayRows(rows);
    }

    public int Rows => _rows.Length;

    /// <summary>Every row of the day: one instance for as long as this file version is cached.</summary>
    public SummaryDayRows All { get; }

    public DailySummaryDto? Find(int customerId)
    {
        var (start, end) = SortedRange.Of(_customerIds, customerId);
        return start < end ? _rows[start] : null;
    }

    public static SummarySegment Load(DuckDBConnection connection, DateOnly day, string uri)
    {
        using var command = connection.CreateCommand();
        command.CommandText = LoadSql;
        command.Parameters.Add(new DuckDBParameter("files", new List<string> { uri }));
        using var reader = command.ExecuteReader();
        var rows = new List<DailySummaryDto>();
        var categories = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            var category = reader.GetString(4);
            if (!categories.TryGetValue(category, out var interned)) categories[category] = interned = category;
            rows.Add(ReadRow(reader, day, interned));
        }
        return new SummarySegment([.. rows]);
    }

    /// <summary>One row of <see cref="LoadSql"/>'s columns (customer_id, total_amount, total_items, distinct_products, top_category): the lake's DOUBLE as its cents.</summary>
    internal static DailySummaryDto ReadRow(System.Data.Common.DbDataReader reader, DateOnly day, string topCategory) =>
        new(day, reader.GetInt32(0), MoneyJsonConverter.FromDouble(reader.GetDouble(1)), reader.GetInt32(2), reader.GetInt32(3), topCategory);
}

/// <summary>
/// The rows of a cached summary day, with a slot for the day's answer: the rows of a file version never change, so
/// <c>GET /summary/{date}</c> serializes them (over a thousand rows, about 1 ms of CPU) once, not on every request.
/// </summary>
public sealed class SummaryDayRows(DailySummaryDto[] rows) : IReadOnlyList<DailySummaryDto>
{
    public DailySummaryDto this[int index] => rows[index];
    public int Count => rows.Length;
    public IEnumerator<DailySummaryDto> GetEnumerator() => ((IEnumerable<DailySummaryDto>)rows).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The day's answer, set by the first request that serializes it (a race only serializes twice).</summary>
    public IResult? Answer { get; set; }
}

internal static class SortedRange
{
    /// <summary>The rows [start, end) holding <paramref name="value"/> in an ascending array.</summary>
    public static (int Start, int End) Of(int[] sorted, int value)
    {
        var start = Bound(sorted, value, upper: false);
        var end = start < sorted.Length && sorted[start] == value ? Bound(sorted, value, upper: true) : start;
        return (start, end);
    }

    private static int Bound(int[] sorted, int value, bool upper)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] < value || (upper && sorted[mid] == value)) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
