using System.Diagnostics;
using System.Net;
using System.Text;
using CustomerData.Api.Lake;
using DuckDB.NET.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CustomerData.Bench.Api;

/// <summary>
/// Baseline 1: the API's /events and /summary questions asked bare through DuckDB.NET, in this process: one
/// database configured as the API's pool configures it (threads 1, memory limit, parquet metadata cache), one
/// duplicated connection per worker thread, the SQL of <see cref="DirectLakeQueries"/> over the same explicit files.
/// </summary>
public sealed class BareDuckDb : IDisposable
{
    private readonly DuckDBConnection _primary;
    private readonly string _lake;
    private readonly DataSize _size;

    public BareDuckDb(string lake, DataSize size)
    {
        _lake = lake;
        _size = size;
        _primary = new DuckDBConnection("DataSource=:memory:");
        _primary.Open();
        var defaults = new DuckDbSettings();
        foreach (var sql in new[] { $"SET threads = {defaults.Threads}", $"SET memory_limit = '{defaults.MemoryLimit}'", "SET parquet_metadata_cache = true" })
        {
            using var command = _primary.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }
    }

    public RunResult Run(string name, int threads, TimeSpan duration, Func<int, Func<BenchRequest>> requestsForThread)
    {
        var stats = Enumerable.Range(0, threads).Select(_ => Enum.GetValues<Kind>().Select(_ => new KindStats()).ToArray()).ToArray();
        var connections = Enumerable.Range(0, threads).Select(_ =>
        {
            var c = _primary.Duplicate();
            c.Open();
            return c;
        }).ToArray();
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            var next = requestsForThread(i);
            while (Stopwatch.GetTimestamp() < end)
            {
                var request = next();
                var kind = stats[i][(int)request.Kind];
                var sent = Stopwatch.GetTimestamp();
                var rows = Execute(connections[i], request);
                kind.Latency.RecordValue((Stopwatch.GetTimestamp() - sent) * 1_000_000 / Stopwatch.Frequency);
                if (rows > 0) kind.Ok++; else kind.NotFound++;
            }
        }) { IsBackground = true }).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        var elapsed = Stopwatch.GetElapsedTime(start);
        foreach (var c in connections) c.Dispose();
        var merged = Enum.GetValues<Kind>().Select(_ => new KindStats()).ToArray();
        foreach (var s in stats)
        {
            for (var k = 0; k < merged.Length; k++) merged[k].Add(s[k]);
        }
        return new RunResult(name, threads, false, elapsed, merged, LoadGenerator.LoadAverage());
    }

    /// <summary>Runs the request's query and reads every column of every row, as DirectLakeQueries does; returns the row count.</summary>
    private int Execute(DuckDBConnection connection, BenchRequest request)
    {
        using var command = connection.CreateCommand();
        switch (request.Kind)
        {
            case Kind.Events:
            {
                var files = EventFiles(request.From, request.To);
                if (files.Count == 0) return 0;
                command.CommandText = DirectLakeQueries.EventsSql;
                command.Parameters.Add(new DuckDBParameter("files", files));
                command.Parameters.Add(new DuckDBParameter("customer", request.CustomerId));
                command.Parameters.Add(new DuckDBParameter("limit", request.Limit));
                break;
            }
            case Kind.SummaryDay:
                command.CommandText = SummarySegment.LoadSql;
                command.Parameters.Add(new DuckDBParameter("files", new List<string> { BenchData.SummaryFile(_lake, request.Day) }));
                break;
            case Kind.SummaryCustomer:
                command.CommandText = DirectLakeQueries.SummarySql;
                command.Parameters.Add(new DuckDBParameter("files", new List<string> { BenchData.SummaryFile(_lake, request.Day) }));
                command.Parameters.Add(new DuckDBParameter("customer", request.CustomerId));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(request));
        }
        using var reader = command.ExecuteReader();
        var rows = 0;
        while (reader.Read())
        {
            for (var c = 0; c < reader.FieldCount; c++)
            {
                if (!reader.IsDBNull(c)) _ = reader.GetValue(c);
            }
            rows++;
        }
        return rows;
    }

    private List<string> EventFiles(DateOnly? from, DateOnly? to)
    {
        var files = new List<string>();
        for (var day = _size.FirstEventDay; day <= _size.LastEventDay; day = day.AddDays(1))
        {
            if ((from is null || day >= from) && (to is null || day <= to)) files.Add(BenchData.EventsFile(_lake, day));
        }
        return files;
    }

    /// <summary>DuckDB's EXPLAIN ANALYZE of one customer over one compacted events day, and of one customer over one summary day.</summary>
    public string Explain(DateOnly eventsDay, DateOnly summaryDay, int eventsCustomer, int summaryCustomer)
    {
        var text = new StringBuilder();
        var eventsFile = BenchData.EventsFile(_lake, eventsDay);
        var summaryFile = BenchData.SummaryFile(_lake, summaryDay);
        using var connection = _primary.Duplicate();
        connection.Open();
        foreach (var (title, sql, file, customer) in new[]
        {
            ($"events: customer {eventsCustomer}, one compacted day ({Rel(eventsFile)}), limit 100", DirectLakeQueries.EventsSql, eventsFile, eventsCustomer),
            ($"summary: customer {summaryCustomer}, one summary day ({Rel(summaryFile)})", DirectLakeQueries.SummarySql, summaryFile, summaryCustomer),
        })
        {
            text.AppendLine("### " + title).AppendLine();
            text.AppendLine(RowGroups(connection, file, customer)).AppendLine();
            using var command = connection.CreateCommand();
            command.CommandText = "EXPLAIN ANALYZE " + sql;
            command.Parameters.Add(new DuckDBParameter("files", new List<string> { file }));
            command.Parameters.Add(new DuckDBParameter("customer", customer));
            if (sql.Contains("$limit", StringComparison.Ordinal)) command.Parameters.Add(new DuckDBParameter("limit", 100));
            using var reader = command.ExecuteReader();
            text.AppendLine("```");
            while (reader.Read()) text.AppendLine(reader.GetString(reader.FieldCount - 1).TrimEnd());
            text.AppendLine("```").AppendLine();
            text.AppendLine(RowsScanned(connection, sql, file, customer)).AppendLine();
        }
        return text.ToString();

        string Rel(string path) => Path.GetRelativePath(_lake, path);
    }

    /// <summary>The query once more with DuckDB's JSON profile, for the rows its scan read (operator_rows_scanned).</summary>
    private string RowsScanned(DuckDBConnection connection, string sql, string file, int customer)
    {
        var profile = Path.Combine(Path.GetDirectoryName(_lake)!, "profile.json");
        Set(connection, "SET enable_profiling = 'json'");
        Set(connection, $"SET profiling_output = '{profile}'");
        using (var command = connection.CreateCommand())
        {
            command.CommandText = sql;
            command.Parameters.Add(new DuckDBParameter("files", new List<string> { file }));
            command.Parameters.Add(new DuckDBParameter("customer", customer));
            if (sql.Contains("$limit", StringComparison.Ordinal)) command.Parameters.Add(new DuckDBParameter("limit", 100));
            using var reader = command.ExecuteReader();
            while (reader.Read()) { }
        }
        Set(connection, "SET enable_profiling = 'no_output'");
        Set(connection, "PRAGMA disable_profiling");
        if (!File.Exists(profile)) return "(no JSON profile written)";
        var scans = new List<string>();
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(profile));
        void Walk(System.Text.Json.JsonElement node)
        {
            if (node.TryGetProperty("operator_type", out var type) && type.GetString() == "TABLE_SCAN")
            {
                var scanned = node.TryGetProperty("operator_rows_scanned", out var s) ? s.ToString() : "?";
                var rows = node.TryGetProperty("operator_cardinality", out var c) ? c.ToString() : "?";
                scans.Add($"TABLE_SCAN read {scanned} rows (operator_rows_scanned), returned {rows}");
            }
            if (node.TryGetProperty("children", out var children))
            {
                foreach (var child in children.EnumerateArray()) Walk(child);
            }
        }
        Walk(json.RootElement);
        var cumulative = json.RootElement.TryGetProperty("cumulative_rows_scanned", out var total) ? total.ToString() : "?";
        return $"JSON profile of the same query: {string.Join("; ", scans)}; cumulative_rows_scanned {cumulative}.";
    }

    /// <summary>How many of the file's row groups hold the customer by their customer_id min/max (those DuckDB reads).</summary>
    private static string RowGroups(DuckDBConnection connection, string file, int customer)
    {
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT count(*), sum(row_group_num_rows)::BIGINT, count(*) FILTER (WHERE TRY_CAST(stats_min AS INTEGER) <= $customer AND TRY_CAST(stats_max AS INTEGER) >= $customer), " +
            "coalesce(sum(row_group_num_rows) FILTER (WHERE TRY_CAST(stats_min AS INTEGER) <= $customer AND TRY_CAST(stats_max AS INTEGER) >= $customer), 0)::BIGINT " +
            "FROM parquet_metadata($file) WHERE path_in_schema = 'customer_id'";
        command.Parameters.Add(new DuckDBParameter("file", file));
        command.Parameters.Add(new DuckDBParameter("customer", customer));
        using var reader = command.ExecuteReader();
        reader.Read();
        return $"parquet_metadata: {reader.GetInt64(0)} row groups, {reader.GetInt64(1):N0} rows; the customer_id min/max of " +
            $"{reader.GetInt64(2)} row group(s) ({reader.GetInt64(3):N0} rows) hold customer {customer}.";
    }

    private static void Set(DuckDBConnection connection, string sql)
    {
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }
        catch (DuckDBException ex)
        {
            Console.Error.WriteLine($"{sql}: {ex.Message}");
            // An unknown profiling metric in this DuckDB version: EXPLAIN ANALYZE prints its defaults.
        }
    }

    public void Dispose() => _primary.Dispose();
}

/// <summary>
/// Baseline 2, the ceiling: a minimal-API process answering the seed mix's paths with their bodies precomputed
/// (the bytes the API sent), so only HTTP and the bytes are left.
/// </summary>
public static class CeilingServer
{
    public static async Task RunAsync(int port, string bodiesFile)
    {
        var bodies = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, byte[]>>(await File.ReadAllBytesAsync(bodiesFile))!;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(async context =>
        {
            if (context.Request.Path == "/health")
            {
                await context.Response.WriteAsync("Healthy");
                return;
            }
            if (!bodies.TryGetValue(context.Request.Path + context.Request.QueryString, out var body))
            {
                context.Response.StatusCode = 404;
                return;
            }
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body);
        });
        await app.RunAsync();
    }
}
