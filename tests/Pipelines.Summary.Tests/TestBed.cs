using System.Globalization;
using System.Text;
using CustomerData.Contracts;
using CustomerData.Lake;
using CustomerData.TestServers;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace CustomerData.Pipelines.Summary.Tests;

/// <summary>A transaction row as inserted (nullable columns on purpose: bad rows are inserted directly).</summary>
public sealed record Txn(long? TxnId, int? CustomerId, int? ProductId, int? Qty, decimal? Amount, string? Timestamp);

/// <summary>One test's world: its own database on the shared MariaDB, its own lake (local folder or an s3rver prefix).</summary>
public sealed class TestBed : IAsyncDisposable
{
    public const int Customers = 40;
    public const int Products = 12;
    private static readonly string[] Categories = ["Electronics", "Grocery", "Sports", "Toys", "Beauty", "Home"];

    private readonly List<IDisposable> _owned = [];
    private readonly List<string> _folders = [];

    private TestBed(string connectionString, MySqlDataSource dataSource, S3rverServer s3, string backend)
    {
        ConnectionString = connectionString;
        DataSource = dataSource;
        S3 = s3;
        Backend = backend;
    }

    public string ConnectionString { get; }
    public MySqlDataSource DataSource { get; }
    public S3rverServer S3 { get; }
    public string Backend { get; }
    public SummaryTelemetry Telemetry { get; } = new();
    /// <summary>Product prices by id (for amount = qty × price).</summary>
    public Dictionary<int, decimal> Prices { get; } = [];

    public static async Task<TestBed> CreateAsync(MariaDbServer mariaDb, S3rverServer s3, string backend, CancellationToken ct)
    {
        var cs = await mariaDb.CreateDatabaseAsync("summary", ct);
        await SourceSchema.ApplyAsync(cs, ct);
        var bed = new TestBed(cs, new MySqlDataSource(cs), s3, backend);
        await bed.SeedReferenceDataAsync(ct);
        return bed;
    }

    private async Task SeedReferenceDataAsync(CancellationToken ct)
    {
        var sql = new StringBuilder("INSERT INTO customers (customer_id, name, email, gender, signup_date) VALUES ");
        for (var c = 1; c <= Customers; c++)
        {
            sql.Append(CultureInfo.InvariantCulture, $"{(c > 1 ? "," : "")}({c}, 'Customer_{c}', 'customer_{c}@example.com', '{"MFO"[c % 3]}', '2020-01-01')");
        }
        sql.Append("; INSERT INTO products (product_id, name, category, price) VALUES ");
        for (var p = 1; p <= Products; p++)
        {
            // Product 11 has no category and product 12 an empty one: both count as 'Unknown'.
            var category = p == 11 ? "NULL" : p == 12 ? "''" : $"'{Categories[p % Categories.Length]}'";
            var price = 1.25m + p * 3.10m;
            Prices[p] = price;
            sql.Append(CultureInfo.InvariantCulture, $"{(p > 1 ? "," : "")}({p}, 'Product_{p}', {category}, {price})");
        }
        await ExecuteAsync(sql.ToString(), ct);
    }

    public async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var connection = await DataSource.OpenConnectionAsync(ct);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task<long> ScalarAsync(string sql, CancellationToken ct)
    {
        await using var connection = await DataSource.OpenConnectionAsync(ct);
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    /// <summary>Inserts rows as given, in UTC, with a permissive sql_mode so bad values (zero timestamp) get in.</summary>
    public async Task InsertAsync(IEnumerable<Txn> rows, CancellationToken ct)
    {
        var list = rows.ToList();
        foreach (var chunk in list.Chunk(500))
        {
            var sql = new StringBuilder("SET SESSION time_zone = '+00:00', SESSION sql_mode = ''; INSERT INTO transactions (txn_id, customer_id, product_id, qty, amount, txn_timestamp) VALUES ");
            for (var i = 0; i < chunk.Length; i++)
            {
                var t = chunk[i];
                sql.Append(i > 0 ? "," : "").Append('(')
                    .Append(Sql(t.TxnId)).Append(',').Append(Sql(t.CustomerId)).Append(',').Append(Sql(t.ProductId)).Append(',')
                    .Append(Sql(t.Qty)).Append(',').Append(t.Amount is { } a ? a.ToString(CultureInfo.InvariantCulture) : "NULL").Append(',')
                    .Append(t.Timestamp is { } ts ? $"'{ts}'" : "NULL").Append(')');
            }
            await ExecuteAsync(sql.ToString(), ct);
        }
    }

    private static string Sql<T>(T? value) where T : struct => value is { } v ? Convert.ToString(v, CultureInfo.InvariantCulture)! : "NULL";

    /// <summary>Valid random transactions over <paramref name="days"/> days from <paramref name="firstDay"/>, with ties and 'Unknown' categories.</summary>
    public List<Txn> RandomValid(int count, DateOnly firstDay, int days, int seed)
    {
        var random = new Random(seed);
        var rows = new List<Txn>(count);
        for (var i = 0; i < count; i++)
        {
            var product = random.Next(1, Products + 1);
            var qty = random.Next(1, 5);
            var day = firstDay.AddDays(random.Next(days));
            var ts = day.ToDateTime(new TimeOnly(random.Next(24), random.Next(60), random.Next(60)));
            rows.Add(new Txn(null, random.Next(1, Customers + 1), product, qty, qty * Prices[product], ts.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)));
        }
        return rows;
    }

    public Txn Valid(int customer, int product, int qty, DateTime utc, long? id = null) =>
        new(id, customer, product, qty, qty * Prices[product], utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));

    /// <summary>A new lake for this test (every call a fresh root), on the bed's backend.</summary>
    public ILakeStorage NewLake()
    {
        if (Backend == "local")
        {
            var folder = Path.Combine(Path.GetTempPath(), "summary-lake-" + Guid.NewGuid().ToString("N"));
            _folders.Add(folder);
            return new LocalFolderLakeStorage(folder);
        }
        var lake = new S3LakeStorage(new LakeOptions
        {
            Root = $"s3://{S3.Bucket}/{Guid.NewGuid():N}",
            ServiceUrl = S3.ServiceUrl,
            AccessKey = S3rverServer.AccessKey,
            SecretKey = S3rverServer.SecretKey,
        });
        _owned.Add(lake);
        return lake;
    }

    public SummaryPipeline Pipeline(ILakeStorage lake, TimeProvider? time = null, Action<SummaryOptions>? configure = null, ILogger<SummaryPipeline>? logger = null)
    {
        var options = new SummaryOptions { GracePeriod = TimeSpan.FromSeconds(30) };
        configure?.Invoke(options);
        return new SummaryPipeline(DataSource, lake, Options.Create(options), Telemetry, logger ?? NullLogger<SummaryPipeline>.Instance, time);
    }

    public async Task<long> OffsetAsync(string source = "transactions", CancellationToken ct = default) =>
        await ScalarAsync($"SELECT COALESCE((SELECT last_txnid FROM txn_summary_offsets WHERE source = '{source}'), 0)", ct);

    /// <summary>A folder DuckDB can read the lake from: the lake itself, or a local mirror of the S3 objects (no httpfs here).</summary>
    public async Task<string> ReadableRootAsync(ILakeStorage lake, CancellationToken ct)
    {
        var folder = Path.Combine(Path.GetTempPath(), "summary-mirror-" + Guid.NewGuid().ToString("N"));
        _folders.Add(folder);
        var mirror = new LakeMirror(lake, folder);
        await mirror.SyncAsync(LakeLayout.SummaryRejects + "/", ct);
        return await mirror.SyncAsync(LakeLayout.SummaryTable + "/", ct);
    }

    /// <summary>Runs a DuckDB query and returns every row as strings (invariant culture).</summary>
    public static List<string[]> DuckQuery(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string[]>();
        while (reader.Read())
        {
            var row = new string[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)!;
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Every object of the lake with its bytes, for comparing whole lakes.</summary>
    public static async Task<SortedDictionary<string, byte[]>> SnapshotAsync(ILakeStorage lake, CancellationToken ct)
    {
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var prefix in new[] { LakeLayout.SummaryTable + "/", LakeLayout.SummaryRejects + "/" })
        {
            foreach (var o in await lake.ListAsync(prefix, ct)) result[o.Key] = (await lake.ReadAsync(o.Key, ct))!;
        }
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var d in _owned) d.Dispose();
        Telemetry.Dispose();
        await DataSource.DisposeAsync();
        foreach (var f in _folders)
        {
            if (Directory.Exists(f)) Directory.Delete(f, recursive: true);
        }
    }
}
