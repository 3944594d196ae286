using System.Globalization;
using System.Numerics;
using System.Text;
using CustomerData.Contracts;
using CustomerData.Contracts.Offsets;
using CustomerData.Cql;
using CustomerData.Cql.DevServer;
using CustomerData.Migrations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MySqlConnector;

namespace CustomerData.Pipelines.Profile.Tests;

/// <summary>
/// One test's world: its own MySQL database and Cassandra keyspace on the shared real servers,
/// a pipeline runner wired as in production, and an independent expected-profile computation.
/// </summary>
public sealed class ProfileTestBed : IAsyncDisposable
{
    private readonly List<CqlSession> _sessions = [];

    private ProfileTestBed(string connectionString, string keyspace, CqlDevServer cql, MySqlDataSource dataSource)
    {
        ConnectionString = connectionString;
        Keyspace = keyspace;
        Cql = cql;
        DataSource = dataSource;
    }

    public string ConnectionString { get; }
    public string Keyspace { get; }
    public CqlDevServer Cql { get; }
    public MySqlDataSource DataSource { get; }
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    public static async Task<ProfileTestBed> CreateAsync(MariaDbFixture maria, CqlDevServerFixture cql)
    {
        var connectionString = await maria.Server.CreateDatabaseAsync("profile");
        var keyspace = "ks_" + Guid.NewGuid().ToString("N")[..12];
        var bed = new ProfileTestBed(connectionString, keyspace, cql.Server, new MySqlDataSource(connectionString));
        // The platform's schema as the AppHost has it applied: by the Migrations project, before the pipeline starts.
        var migrator = new PlatformMigrator(new MySqlSchemaTarget(connectionString), new CassandraSchemaTarget(await bed.ConnectAsync(withKeyspace: false), keyspace),
            Options.Create(new MigrationsOptions()), NullLogger<PlatformMigrator>.Instance);
        Assert.True(await migrator.ApplyAsync(CancellationToken.None), "the migration applied the schema");
        return bed;
    }

    /// <param name="withKeyspace">
    /// Put the keyspace in the connection string. Without it the pipeline names its keyspace from
    /// <see cref="ProfileOptions.Keyspace"/> and the client issues no USE, so an injected fault always
    /// lands on the pipeline's own statements (the fault tests count those).
    /// </param>
    public async Task<CqlSession> ConnectAsync(bool withKeyspace = true)
    {
        var options = CqlSessionOptions.Parse(Cql.ConnectionString(withKeyspace ? Keyspace : null));
        options.RetryBaseDelay = TimeSpan.FromMilliseconds(5);
        var session = await CqlSession.ConnectAsync(options);
        _sessions.Add(session);
        return session;
    }

    /// <summary>A runner as the host would build it; every call gives a fresh one (as a restarted process would have).</summary>
    public async Task<ProfileCycleRunner> CreateRunnerAsync(Action<ProfileOptions>? configure = null, ILoggerFactory? loggers = null, bool sessionKeyspace = true,
        ProfileCycleState? state = null)
    {
        var options = new ProfileOptions
        {
            Keyspace = Keyspace,
            RetryBaseDelay = TimeSpan.FromMilliseconds(5),
            CustomersPerQuery = 50, // several chunks even with small test data
            RebuildRanges = 3,
        };
        configure?.Invoke(options);
        loggers ??= NullLoggerFactory.Instance;
        var session = await ConnectAsync(sessionKeyspace);
        var store = new CassandraProfileStore(session, Options.Create(options), loggers.CreateLogger<CassandraProfileStore>());
        return new ProfileCycleRunner(new MySqlProfileSource(DataSource, options), store, Options.Create(options),
            state ?? new ProfileCycleState(Time), Time, loggers.CreateLogger<ProfileCycleRunner>());
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand("SET time_zone = '+00:00'; " + sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<long> StoredOffsetAsync()
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        return await new TxnOffsetStore(OffsetTable.Profile).ReadAsync(connection);
    }

    /// <summary>Random but reproducible source data: customers, products (with categories that differ only in case, and none), transactions.</summary>
    public async Task SeedAsync(int customers, int products, int transactions, int seed)
    {
        var random = new Random(seed);
        var sql = new StringBuilder();
        sql.Append("INSERT INTO customers (customer_id, name, email, gender, signup_date) VALUES ");
        sql.AppendJoin(',', Enumerable.Range(1, customers).Select(c =>
            $"({c}, 'Customer_{c}', 'customer_{c}@example.com', '{"MFO"[c % 3]}', '2021-0{1 + c % 9}-1{c % 10}')"));
        sql.Append(';');
        string[] categories = ["Electronics", "Grocery", "Sports", "sports", "Toys", "Home"];
        var prices = new decimal[products + 1];
        sql.Append("INSERT INTO products (product_id, name, category, price) VALUES ");
        sql.AppendJoin(',', Enumerable.Range(1, products).Select(p =>
        {
            prices[p] = Math.Round((decimal)(random.NextDouble() * 300) + 0.01m, 2);
            var category = p % 11 == 0 ? "NULL" : p % 13 == 0 ? "''" : $"'{categories[random.Next(categories.Length)]}'";
            return string.Create(CultureInfo.InvariantCulture, $"({p}, 'Product_{p}', {category}, {prices[p]})");
        }));
        sql.Append(';');
        await ExecuteAsync(sql.ToString());
        await AddTransactionsAsync(transactions, customers, products, random, prices);
    }

    /// <summary>Appends random transactions (auto-increment ids) for customers 1..<paramref name="customers"/>.</summary>
    public async Task AddTransactionsAsync(int count, int customers, int products, Random random, decimal[]? prices = null)
    {
        var sql = new StringBuilder("INSERT INTO transactions (customer_id, product_id, qty, amount, txn_timestamp) VALUES ");
        sql.AppendJoin(',', Enumerable.Range(0, count).Select(_ =>
        {
            var product = 1 + random.Next(products);
            var qty = 1 + random.Next(4);
            var price = prices?[product] ?? Math.Round((decimal)(random.NextDouble() * 300) + 0.01m, 2);
            var ts = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(random.NextInt64(6L * 365 * 86400));
            return string.Create(CultureInfo.InvariantCulture, $"({1 + random.Next(customers)}, {product}, {qty}, {qty * price}, '{ts:yyyy-MM-dd HH:mm:ss}')");
        }));
        await ExecuteAsync(sql.ToString());
    }

    /// <summary>
    /// The expected profiles, computed from the raw rows in C# independently of the pipeline's SQL
    /// (per-row walk, categories compared by bytes, average by integer arithmetic on cents).
    /// </summary>
    public async Task<Dictionary<int, CustomerProfile>> ExpectedProfilesAsync()
    {
        var customers = new Dictionary<int, (string Name, string Email, string? Gender)>();
        var byCustomer = new Dictionary<int, List<(decimal? Amount, string? Timestamp, string Category)>>();
        await using var connection = await DataSource.OpenConnectionAsync();
        await using (var zone = new MySqlCommand("SET time_zone = '+00:00'", connection)) await zone.ExecuteNonQueryAsync();
        await using (var command = new MySqlCommand(
            "SELECT customer_id, name, email, CAST(gender AS CHAR) FROM customers " +
            "WHERE email LIKE '%_@_%._%' AND (gender IS NULL OR gender IN ('M','F','O')) AND (signup_date IS NULL OR CAST(signup_date AS CHAR) <> '0000-00-00')", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                customers[reader.GetInt32(0)] = (reader.IsDBNull(1) ? "" : reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3));
            }
        }
        await using (var command = new MySqlCommand(
            "SELECT t.customer_id, t.amount, CAST(t.txn_timestamp AS CHAR), CAST(p.category AS BINARY) FROM transactions t " +
            "LEFT JOIN products p ON p.product_id = t.product_id WHERE t.customer_id IS NOT NULL", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var category = reader.IsDBNull(3) ? "" : Encoding.UTF8.GetString(reader.GetFieldValue<byte[]>(3));
                var customerId = reader.GetInt32(0);
                if (!byCustomer.TryGetValue(customerId, out var rows)) byCustomer[customerId] = rows = [];
                rows.Add((reader.IsDBNull(1) ? null : reader.GetDecimal(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    category.Length == 0 ? "Unknown" : category));
            }
        }

        var expected = new Dictionary<int, CustomerProfile>();
        foreach (var (customerId, rows) in byCustomer)
        {
            if (!customers.TryGetValue(customerId, out var customer)) continue;
            var spend = rows.Sum(r => r.Amount ?? 0m);
            var stamps = rows.Where(r => r.Timestamp is not null && !r.Timestamp.StartsWith("0000", StringComparison.Ordinal))
                .Select(r => DateTimeOffset.ParseExact(r.Timestamp!, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal))
                .ToList();
            var favorite = rows.GroupBy(r => r.Category, StringComparer.Ordinal)
                .Select(g => (Category: g.Key, Count: g.Count()))
                .OrderByDescending(g => g.Count).ThenBy(g => g.Category, StringComparer.Ordinal)
                .First().Category;
            expected[customerId] = new CustomerProfile(customerId, customer.Name, customer.Email, customer.Gender ?? "O",
                spend, rows.Count, AverageByCents(spend, rows.Count),
                stamps.Count == 0 ? null : stamps.Min(), stamps.Count == 0 ? null : stamps.Max(), favorite);
        }
        return expected;
    }

    /// <summary>spend / count to 2 decimals, half away from zero, on integers: round(|cents| / count) with the sign put back.</summary>
    private static decimal AverageByCents(decimal spend, int count)
    {
        var cents = new BigInteger(spend * 100m); // amounts have 2 decimals: exact
        var magnitude = BigInteger.Abs(cents);
        var rounded = (2 * magnitude + count) / (2 * count);
        return (decimal)(cents.Sign < 0 ? -rounded : rounded) / 100m;
    }

    /// <summary>Every row of the test's <c>customer_profile</c>, read through our client (paged).</summary>
    public async Task<Dictionary<int, CustomerProfile>> ReadTableAsync(string? keyspace = null)
    {
        var session = await ConnectAsync();
        var rows = new Dictionary<int, CustomerProfile>();
        await foreach (var row in session.QueryAsync($"SELECT * FROM \"{keyspace ?? Keyspace}\".customer_profile", options: new CqlQueryOptions { PageSize = 500 }))
        {
            var profile = CassandraProfileStore.ReadProfile(row);
            rows[profile.CustomerId] = profile;
        }
        return rows;
    }

    public static void AssertSameProfiles(IReadOnlyDictionary<int, CustomerProfile> expected, IReadOnlyDictionary<int, CustomerProfile> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (id, want) in expected)
        {
            var got = actual[id];
            // Decimal equality ignores trailing zeros; the scale of what Cassandra holds is checked separately.
            Assert.True(want == got, $"customer {id}: expected {want}, got {got}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var session in _sessions) await session.DisposeAsync();
        await DataSource.DisposeAsync();
    }
}
