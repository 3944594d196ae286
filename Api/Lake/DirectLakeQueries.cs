using CustomerData.Lake;
using CustomerData.Api.Contract;
using DuckDB.NET.Data;

namespace CustomerData.Api.Lake;

/// <summary>
/// Answers every request with a DuckDB query over the explicit files of its range (never a glob over the lake):
/// the customer id and limit are parameters, the file list is the snapshot's. Files are sorted by customer_id with
/// small row groups, so DuckDB reads only the row groups whose min/max hold the customer.
/// </summary>
public sealed class DirectLakeQueries(DuckDbPool pool, ILogger<DirectLakeQueries> logger) : ILakeQueries
{
    internal const string EventsSql =
        "SELECT event_id, customer_id, event_type, product_id, epoch_us(event_timestamp::TIMESTAMP), epoch_us(ingestion_timestamp::TIMESTAMP), event_date " +
        "FROM read_parquet($files, hive_partitioning = true, hive_types_autocast = false) WHERE customer_id = $customer " +
        "ORDER BY event_timestamp, event_id LIMIT $limit";

    internal const string SummarySql =
        "SELECT customer_id, total_amount, total_items, distinct_products, top_category FROM read_parquet($files) " +
        "WHERE customer_id = $customer";

    public async Task<IReadOnlyList<DailySummaryDto>?> SummariesAsync(LakeSnapshot snapshot, DateOnly day, CancellationToken cancellationToken)
    {
        if (snapshot.SummaryFile(day) is not { } file) return null;
        return await RunAsync("summary day", [file], c => ReadSummaries(c, day, SummarySegment.LoadSql, file, null), cancellationToken);
    }

    public async Task<DailySummaryDto?> SummaryAsync(LakeSnapshot snapshot, DateOnly day, int customerId, CancellationToken cancellationToken)
    {
        if (snapshot.SummaryFile(day) is not { } file) return null;
        var rows = await RunAsync("summary customer", [file], c => ReadSummaries(c, day, SummarySql, file, customerId), cancellationToken);
        return rows.Count > 0 ? rows[0] : null;
    }

    internal const string CustomerSummariesSql =
        "SELECT customer_id, total_amount, total_items, distinct_products, top_category, \"date\" " +
        "FROM read_parquet($files, hive_partitioning = true, hive_types_autocast = false) WHERE customer_id = $customer ORDER BY \"date\"";

    public async Task<IReadOnlyList<DailySummaryDto>> CustomerSummariesAsync(LakeSnapshot snapshot, int customerId, DateOnly? from, DateOnly? to, CancellationToken cancellationToken)
    {
        var files = snapshot.SummaryDaysIn(from, to).Select(d => d.Value).ToList();
        if (files.Count == 0) return [];
        return await RunAsync("summary customer series", files, c =>
        {
            using var command = c.CreateCommand();
            command.CommandText = CustomerSummariesSql;
            command.Parameters.Add(new DuckDBParameter("files", files.Select(f => f.Uri).ToList()));
            command.Parameters.Add(new DuckDBParameter("customer", customerId));
            using var reader = command.ExecuteReader();
            var rows = new List<DailySummaryDto>();
            while (reader.Read())
            {
                rows.Add(SummarySegment.ReadRow(reader, LakeLayout.ParseDay(reader.GetString(5)), reader.GetString(4)));
            }
            return (IReadOnlyList<DailySummaryDto>)rows;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<CustomerEventDto>> EventsAsync(LakeSnapshot snapshot, int customerId, DateOnly? from, DateOnly? to, int limit, CancellationToken cancellationToken)
    {
        var files = snapshot.EventDaysIn(from, to).SelectMany(d => d.Value).ToList();
        if (files.Count == 0) return [];
        return await RunAsync("events customer", files, c =>
        {
            using var command = c.CreateCommand();
            command.CommandText = EventsSql;
            command.Parameters.Add(new DuckDBParameter("files", files.Select(f => f.Uri).ToList()));
            command.Parameters.Add(new DuckDBParameter("customer", customerId));
            command.Parameters.Add(new DuckDBParameter("limit", limit));
            using var reader = command.ExecuteReader();
            var events = new List<CustomerEventDto>();
            while (reader.Read())
            {
                events.Add(new CustomerEventDto(
                    LakeLayout.ParseDay(reader.GetString(6)),
                    reader.GetString(0), reader.GetInt32(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetInt32(3),
                    EventSegment.FromMicros(reader.GetInt64(4)), EventSegment.FromMicros(reader.GetInt64(5))));
            }
            return (IReadOnlyList<CustomerEventDto>)events;
        }, cancellationToken);
    }

    private static IReadOnlyList<DailySummaryDto> ReadSummaries(DuckDBConnection connection, DateOnly day, string sql, LakeFile file, int? customerId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.Add(new DuckDBParameter("files", new List<string> { file.Uri }));
        if (customerId is { } id) command.Parameters.Add(new DuckDBParameter("customer", id));
        using var reader = command.ExecuteReader();
        var rows = new List<DailySummaryDto>();
        while (reader.Read())
        {
            rows.Add(SummarySegment.ReadRow(reader, day, reader.GetString(4)));
        }
        return rows;
    }

    private async Task<T> RunAsync<T>(string operation, IReadOnlyList<LakeFile> files, Func<DuckDBConnection, T> query, CancellationToken cancellationToken)
    {
        try
        {
            return await pool.RunAsync(operation, query, cancellationToken);
        }
        catch (DuckDBException ex)
        {
            throw LakeErrors.Classify(files, ex, logger);
        }
    }
}
