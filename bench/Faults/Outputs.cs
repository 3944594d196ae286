using System.Globalization;
using CustomerData.Contracts;
using CustomerData.Cql;
using CustomerData.Lake;
using CustomerData.Pipelines.Events;
using CustomerData.Pipelines.Summary;
using MySqlConnector;

namespace CustomerData.Bench.Faults;

/// <summary>
/// The three outputs read back as sorted lists of rows (one text line a row), the way any reader sees them: every
/// <c>*.parquet</c> under a table (SPEC §10: a plain glob returns every row exactly once), every Cassandra row.
/// </summary>
public static class Outputs
{
    public static async Task<List<string>> SummaryRowsAsync(ILakeStorage lake)
    {
        var rows = new List<string>();
        foreach (var file in await ParquetFilesAsync(lake, LakeLayout.SummaryTable))
        {
            var day = file.Key.Split('/')[1];
            var content = await SummaryParquet.ReadAsync((await lake.ReadAsync(file.Key))!);
            for (var i = 0; i < content.RowCount; i++)
            {
                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{day} {content.CustomerIds[i]} {content.TotalAmounts[i]:R} {content.TotalItems[i]} {content.DistinctProducts[i]} {content.TopCategories[i]}"));
            }
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    /// <summary>Every event_id in the events lake, duplicates kept (a duplicate is a failure of exactly-once).</summary>
    public static async Task<List<string>> EventIdsAsync(ILakeStorage lake)
    {
        var ids = new List<string>();
        foreach (var file in await ParquetFilesAsync(lake, LakeLayout.EventsTable))
        {
            ids.AddRange((await EventParquet.ReadEventsAsync((await lake.ReadAsync(file.Key))!)).Select(e => e.EventId));
        }
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }

    public static async Task<List<string>> ProfileRowsAsync(string cassandraConnectionString)
    {
        await using var session = await CqlSession.ConnectAsync(cassandraConnectionString);
        var rows = new List<string>();
        await foreach (var row in session.QueryAsync($"SELECT * FROM {PlatformNames.Keyspace}.customer_profile"))
        {
            var cells = new string[row.FieldCount];
            for (var i = 0; i < row.FieldCount; i++) cells[i] = row.Columns[i].Name + "=" + Convert.ToString(row.GetValue(i), CultureInfo.InvariantCulture);
            Array.Sort(cells, StringComparer.Ordinal);
            rows.Add(string.Join(' ', cells));
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    /// <summary>The offset a MySQL pipeline has committed (Pipeline A: profile_offsets, B: txn_summary_offsets).</summary>
    public static async Task<long> CommittedTxnIdAsync(string connectionString, string table, string column)
    {
        try
        {
            await using var connection = new MySqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new MySqlCommand($"SELECT COALESCE(MAX({column}), 0) FROM {table}", connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.NoSuchTable)
        {
            return 0;
        }
    }

    /// <summary>"equal (N rows)" or what differs, for the report.</summary>
    public static string Compare(List<string> actual, List<string> expected, string unit)
    {
        if (actual.SequenceEqual(expected)) return $"equal ({expected.Count:N0} {unit})";
        var missing = expected.Except(actual).Count();
        var extra = actual.Except(expected).Count();
        var duplicates = actual.Count - actual.Distinct().Count();
        return $"**differs**: {actual.Count:N0} vs {expected.Count:N0} {unit}, {missing:N0} missing, {extra:N0} unexpected, {duplicates:N0} duplicates";
    }

    private static async Task<List<LakeObject>> ParquetFilesAsync(ILakeStorage lake, string table) =>
        [.. (await lake.ListAsync(table + "/")).Where(o => o.Key.EndsWith(".parquet", StringComparison.Ordinal) && o.Key.Count(c => c == '/') == 2)];
}
