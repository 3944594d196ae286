using CustomerData.Bench.Profile;
using CustomerData.Contracts;
using CustomerData.Cql.DevServer;
using CustomerData.Lake;
using CustomerData.TestServers;

namespace CustomerData.Bench.Faults;

/// <summary>
/// The real servers the scenarios share (tests/TestServers fixtures: MariaDB, the librdkafka mock cluster, s3rver; the CQL
/// dev server) and the configuration each platform service gets, the same keys the AppHost sets.
/// </summary>
public sealed class FaultStack : IAsyncDisposable
{
    public const int Customers = 1_000;

    private FaultStack(MariaDbServer mariaDb, KafkaMockCluster kafka, S3rverServer s3, string work)
    {
        MariaDb = mariaDb;
        Kafka = kafka;
        S3 = s3;
        S3Network = new TcpOutageProxy(s3.Port);
        Work = work;
    }

    public MariaDbServer MariaDb { get; }
    public KafkaMockCluster Kafka { get; }
    public S3rverServer S3 { get; }

    /// <summary>The services reach s3rver through this forwarder, so an S3 outage is a network one (s3rver killed mid-PUT
    /// would leave half-written objects that real S3 never has).</summary>
    public TcpOutageProxy S3Network { get; }
    public string Work { get; }

    public static async Task<FaultStack> StartAsync()
    {
        var work = Path.Combine(Path.GetTempPath(), $"cdp-faults-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        return new FaultStack(await MariaDbServer.StartAsync(), KafkaMockCluster.Start(), await S3rverServer.StartAsync(), work);
    }

    /// <summary>A new source database with the schema, 1,000 customers, 100 products and 50,000 transactions.</summary>
    public async Task<string> NewSourceAsync(string name)
    {
        var connectionString = await MariaDb.CreateDatabaseAsync(name);
        await SourceSchema.ApplyAsync(connectionString);
        await BenchData.LoadAsync(connectionString, Customers, 100, 50_000, seed: 42);
        return connectionString;
    }

    /// <summary>A CQL dev server persisting to a file, so a restart on the same port keeps the table.</summary>
    public async Task<CqlDevServer> StartCqlAsync(string dataFile, int port = 0) =>
        await CqlDevServer.StartAsync(new CqlDevServerOptions { Port = port, DataFile = dataFile, PersistInterval = TimeSpan.FromMilliseconds(500) });

    /// <summary>The platform's schema as the AppHost's migrations resource applies it before any service starts: MySQL
    /// tables and the Cassandra keyspace and tables (the pipelines verify, they do not create).</summary>
    public static async Task MigrateAsync(string mySql, CqlDevServer cql)
    {
        await using var session = await CustomerData.Cql.CqlSession.ConnectAsync(cql.ConnectionString());
        var migrator = new CustomerData.Migrations.PlatformMigrator(new CustomerData.Migrations.MySqlSchemaTarget(mySql),
            new CustomerData.Migrations.CassandraSchemaTarget(session, PlatformNames.Keyspace),
            Microsoft.Extensions.Options.Options.Create(new CustomerData.Migrations.MigrationsOptions()),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<CustomerData.Migrations.PlatformMigrator>.Instance);
        if (!await migrator.ApplyAsync(CancellationToken.None)) throw new InvalidOperationException("the migration did not apply the schema");
    }

    public string Folder(string name)
    {
        var folder = Path.Combine(Work, name);
        Directory.CreateDirectory(folder);
        return folder;
    }

    public static Dictionary<string, string?> ProfileEnvironment(string mySql, CqlDevServer cql) => new()
    {
        ["ConnectionStrings__customerdb"] = mySql,
        ["ConnectionStrings__cassandra"] = cql.ConnectionString(PlatformNames.Keyspace),
        ["Profile__Interval"] = "00:00:01",
        // Unhealthy 5 s after the last good cycle (default 5 min), so a 10-30 s fault shows on /health.
        ["Profile__MaxCycleAge"] = "00:00:05",
        ["Profile__LockTimeout"] = "00:00:05",
    };

    public static Dictionary<string, string?> SummaryEnvironment(string mySql, IReadOnlyDictionary<string, string?> lake) => new(lake)
    {
        ["ConnectionStrings__customerdb"] = mySql,
        ["Summary__Interval"] = "00:00:01",
        ["Summary__UnhealthyAfter"] = "00:00:05",
        ["Summary__LockTimeout"] = "00:00:05",
    };

    public Dictionary<string, string?> EventsEnvironment(string topic, IReadOnlyDictionary<string, string?> lake) => new(lake)
    {
        ["ConnectionStrings__kafka"] = Kafka.BootstrapServers,
        ["Events__Topic"] = topic,
        ["Events__GroupId"] = "faults-" + topic,
        // A member killed with SIGKILL leaves the group only when its session times out: the default 45 s would be most
        // of a scenario, so the scenarios use 6 s (the partitions' wait after a kill is bounded by this setting).
        ["Kafka__kafka__Config__session.timeout.ms"] = "6000",
        ["Kafka__kafka__Config__heartbeat.interval.ms"] = "1000",
    };

    public static Dictionary<string, string?> LocalLake(string folder) => new() { ["Lake__Root"] = folder };

    public Dictionary<string, string?> S3Lake(string prefix) => new()
    {
        ["Lake__Root"] = $"s3://{S3.Bucket}/{prefix}",
        ["Lake__ServiceUrl"] = $"http://127.0.0.1:{S3Network.Port}",
        ["Lake__AccessKey"] = S3rverServer.AccessKey,
        ["Lake__SecretKey"] = S3rverServer.SecretKey,
    };

    public ILakeStorage S3Storage(string prefix) => LakeStorage.Create(new LakeOptions
    {
        Root = $"s3://{S3.Bucket}/{prefix}", ServiceUrl = S3.ServiceUrl, AccessKey = S3rverServer.AccessKey, SecretKey = S3rverServer.SecretKey,
    });

    public async ValueTask DisposeAsync()
    {
        Kafka.Dispose();
        await S3Network.DisposeAsync();
        await S3.DisposeAsync();
        await MariaDb.DisposeAsync();
        try { Directory.Delete(Work, recursive: true); } catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }
}
