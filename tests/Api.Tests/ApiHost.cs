using CustomerData.Cql;
using CustomerData.Cql.DevServer;
using CustomerData.Lake;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CustomerData.Api.Tests;

/// <summary>
/// The real API host (WebApplicationFactory) over a lake folder (or S3) and the CQL dev server, with the profile table
/// created. Settings can be overridden per test. Logs are captured so tests can assert what was (not) logged.
/// </summary>
public sealed class ApiHost : IAsyncDisposable
{
    public const string Keyspace = "customer_data";

    private readonly WebApplicationFactory<ApiErrorMiddleware> _factory;

    private ApiHost(WebApplicationFactory<ApiErrorMiddleware> factory, CqlDevServer? cassandra, TestLake lake, string? folder, CapturedLogs logs)
    {
        _factory = factory;
        Cassandra = cassandra;
        Lake = lake;
        LakeFolder = folder;
        Logs = logs;
        Client = factory.CreateClient();
        Client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Create("api-tests-user", Security.ApiScopes.CustomersRead, Security.ApiScopes.AnalyticsRead));
    }

    /// <summary>A client with a token granting both read scopes.</summary>
    public HttpClient Client { get; }

    /// <summary>A client without a token.</summary>
    public HttpClient CreateAnonymousClient() => _factory.CreateClient();
    public CqlDevServer? Cassandra { get; }
    public TestLake Lake { get; }
    public string? LakeFolder { get; }
    public CapturedLogs Logs { get; }
    public IServiceProvider Services => _factory.Services;

    /// <summary>
    /// Starts the API. <paramref name="cassandraConnectionString"/>: null starts a dev server; a value points the API
    /// elsewhere (e.g. at a closed port, Cassandra down). <paramref name="lakeSettings"/>: null uses a fresh local folder.
    /// </summary>
    public static async Task<ApiHost> StartAsync(
        IReadOnlyDictionary<string, string?>? settings = null,
        string? cassandraConnectionString = null,
        (TestLake Lake, IReadOnlyDictionary<string, string?> Settings)? lake = null,
        bool kestrel = false,
        Action<IServiceCollection>? services = null)
    {
        CqlDevServer? cassandra = null;
        if (cassandraConnectionString is null)
        {
            cassandra = await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = 0 });
            await using var session = await CqlSession.ConnectAsync(cassandra.ConnectionString());
            await session.ExecuteAsync($"CREATE KEYSPACE IF NOT EXISTS {Keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}");
            await session.ExecuteAsync($"CREATE TABLE IF NOT EXISTS {Keyspace}.customer_profile (customer_id int PRIMARY KEY, name text, email text, gender text, " +
                "total_spend decimal, total_transactions int, avg_order_value decimal, first_purchase timestamp, last_purchase timestamp, favorite_category text)");
            cassandraConnectionString = cassandra.ConnectionString(Keyspace);
        }
        string? folder = null;
        var (testLake, lakeSettings) = lake ?? (TestLake.InTempFolder(out folder), new Dictionary<string, string?>());
        if (folder is not null) lakeSettings = new Dictionary<string, string?> { ["Lake:Root"] = folder };

        var logs = new CapturedLogs();
        var port = kestrel ? CustomerData.TestServers.ServerProcess.FreeTcpPort() : 0;
        var factory = new WebApplicationFactory<ApiErrorMiddleware>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Development");
            web.UseSetting("ConnectionStrings:cassandra", cassandraConnectionString);
            web.UseSetting("Api:RefreshInterval", "00:00:00.100");
            web.UseSetting("Cassandra:cassandra:Session:ConnectTimeout", "00:00:00.500");
            foreach (var (key, value) in TestTokens.Settings) web.UseSetting(key, value);
            // Most tests send hundreds of requests from one client; RateLimitTests sets its own limits.
            web.UseSetting("Api:RateLimit:PermitsPerSecond", "1000000");
            web.UseSetting("Api:RateLimit:Burst", "1000000");
            foreach (var (key, value) in lakeSettings) web.UseSetting(key, value);
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) web.UseSetting(key, value);
            web.ConfigureLogging(logging => logging.AddProvider(logs));
            if (services is not null) web.ConfigureServices(services); // e.g. an in-memory trace exporter
            // A port of its own (Kestrel's default 5000 would collide with anything else running here).
            if (kestrel) web.UseUrls($"http://127.0.0.1:{port}");
        });
        // Kestrel instead of the in-memory test server: its own limits and request parsing apply (long paths, NUL bytes).
        if (kestrel) factory.UseKestrel();
        var host = new ApiHost(factory, cassandra, testLake, folder, logs);
        return host;
    }

    /// <summary>Inserts a profile row as Pipeline A writes it.</summary>
    public async Task InsertProfileAsync(int customerId, string name, string email, string gender, decimal totalSpend, int transactions,
        decimal average, DateTimeOffset first, DateTimeOffset last, string category)
    {
        await using var session = await CqlSession.ConnectAsync(Cassandra!.ConnectionString(Keyspace));
        await session.ExecuteAsync(
            "INSERT INTO customer_profile (customer_id, name, email, gender, total_spend, total_transactions, avg_order_value, first_purchase, last_purchase, favorite_category) " +
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [customerId, name, email, gender, totalSpend, transactions, average, first, last, category]);
    }

    /// <summary>Waits (bounded) until the API's lake listing includes what the test just wrote.</summary>
    public async Task WaitForLakeListingAsync(Func<CustomerData.Api.Lake.LakeSnapshot, bool> condition, TimeSpan? timeout = null)
    {
        var source = Services.GetRequiredService<CustomerData.Api.Lake.LakeSnapshotSource>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!condition(source.Current))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The API's lake listing did not show the expected files in time.");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _factory.DisposeAsync();
        if (Cassandra is not null) await Cassandra.DisposeAsync();
        if (LakeFolder is not null && Directory.Exists(LakeFolder)) Directory.Delete(LakeFolder, recursive: true);
    }
}

/// <summary>Every log line of the host, for assertions.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Category, LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(string Category, LogLevel Level, string Message)> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose() { }

    private sealed class Logger(string category, System.Collections.Concurrent.ConcurrentQueue<(string, LogLevel, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Trace;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) lines.Enqueue((category, logLevel, formatter(state, exception) + (exception is null ? "" : " | " + exception)));
        }
    }
}
