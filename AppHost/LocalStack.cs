using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Aspire.Hosting.ApplicationModel;
using Confluent.Kafka;
using CustomerData.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CustomerData.AppHost;

/// <summary>
/// The stack without a container runtime: every server is a local process or lives in the AppHost.
/// Data lives under one folder (<see cref="PlatformStackExtensions.LocalDataFolder"/>) and survives
/// restarts; Kafka's mock cluster is in memory only.
/// </summary>
public static class LocalStack
{
    private static readonly TimeSpan s_healthCheckTimeout = TimeSpan.FromSeconds(5);

    public static PlatformStack AddLocalStack(this IDistributedApplicationBuilder builder)
    {
        var dataFolder = builder.LocalDataFolder();

        var mysqlPassword = builder.AddGeneratedSecret(ResourceNames.MySqlPassword);
        var mysql = builder.AddLocalMariaDb(ResourceNames.MySql, Path.Combine(dataFolder, "mariadb"), mysqlPassword);

        var kafka = builder.AddKafkaMockCluster(ResourceNames.Kafka);

        var cassandraPassword = builder.AddGeneratedSecret(ResourceNames.CassandraPassword);
        var cassandra = builder.AddCqlDevServer(ResourceNames.Cassandra, Path.Combine(dataFolder, "cassandra"), cassandraPassword);
        var cql = cassandra.GetEndpoint(CqlEndpoint);
        var cassandraConnectionString = ReferenceExpression.Create(
            $"Contact Points={cql.Property(EndpointProperty.IPV4Host)}:{cql.Property(EndpointProperty.Port)};Keyspace={PlatformNames.Keyspace};Username={ResourceNames.PlatformUser};Password={cassandraPassword}");

        var lake = builder.ConfiguredLake() switch
        {
            "folder" => builder.AddLakeFolder(Path.Combine(dataFolder, "lake")),
            "s3rver" => builder.AddS3rverLake(ResourceNames.Lake, Path.Combine(dataFolder, "s3rver")),
            var other => throw new InvalidOperationException($"{PlatformStackExtensions.LakeKey} must be folder or s3rver in local mode, not '{other}'."),
        };

        return new PlatformStack(StackMode.Local, mysql, kafka, cassandra, cassandraConnectionString, lake)
        {
            SchemaRegistry = builder.AddSchemaRegistryStandIn(ResourceNames.SchemaRegistry),
        };
    }

    /// <summary>
    /// MariaDB (<c>mariadbd</c>, Debian's mariadb-server) with its own datadir under <paramref name="dataFolder"/>,
    /// initialised on first start by <c>scripts/mariadb-local.sh</c>.
    /// </summary>
    public static IResourceBuilder<MariaDbServerResource> AddLocalMariaDb(
        this IDistributedApplicationBuilder builder, string name, string dataFolder, IResourceBuilder<ParameterResource> password)
    {
        Directory.CreateDirectory(dataFolder);
        var resource = new MariaDbServerResource(name, "bash", dataFolder, password.Resource);
        var healthCheckKey = $"{name}-ping";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => new MySqlPingHealthCheck(ct => resource.ConnectionStringExpression.GetValueAsync(ct)),
            failureStatus: null, tags: null, timeout: s_healthCheckTimeout));

        return builder.AddResource(resource)
            .WithArgs(Path.Combine(builder.AppHostDirectory, "scripts", "mariadb-local.sh"))
            .WithEndpoint(name: ResourceNames.TcpEndpoint, scheme: "tcp", env: "MARIADB_PORT")
            .WithEnvironment("MARIADB_DATA", dataFolder)
            .WithEnvironment("MARIADB_USER", ResourceNames.PlatformUser)
            .WithEnvironment("MARIADB_PASSWORD", password)
            .WithEnvironment("MARIADB_DATABASE", PlatformNames.Database)
            .WithHealthCheck(healthCheckKey)
            .WithIconName("Database")
            .ExcludeFromManifest();
    }

    /// <summary>
    /// librdkafka's mock cluster hosted in the AppHost process; projects get its bootstrap address as
    /// their <c>kafka</c> connection string. In memory: topics and messages are gone after a restart.
    /// </summary>
    public static IResourceBuilder<KafkaMockClusterResource> AddKafkaMockCluster(
        this IDistributedApplicationBuilder builder, string name, int brokers = 1)
    {
        var resource = new KafkaMockClusterResource(name);
        var healthCheckKey = $"{name}-metadata";
        var healthCheck = new KafkaMetadataHealthCheck(ct => resource.BootstrapServers.GetValueAsync(ct));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => healthCheck, failureStatus: null, tags: null, timeout: s_healthCheckTimeout));

        return builder.AddResource(resource)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "KafkaMockCluster",
                State = KnownResourceStates.NotStarted,
                Properties = [new("kafka.brokers", brokers), new("kafka.storage", "in memory (lost on restart)")],
            })
            .WithHealthCheck(healthCheckKey)
            .WithIconName("Stream")
            .OnInitializeResource((r, e, ct) => StartMockClusterAsync(r, e, brokers, ct))
            .ExcludeFromManifest();
    }

    private static async Task StartMockClusterAsync(KafkaMockClusterResource resource, InitializeResourceEvent e, int brokers, CancellationToken cancellationToken)
    {
        await e.Notifications.PublishUpdateAsync(resource, s => s with { State = KnownResourceStates.Starting });
        try
        {
            var cluster = await Task.Run(() => KafkaMockClusterHost.Start(brokers, e.Logger), cancellationToken);
            e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(cluster.Dispose);
            resource.BootstrapServers.Set(cluster.BootstrapServers);
            e.Logger.LogInformation("Kafka mock cluster listening at {BootstrapServers} ({Brokers} broker(s), in memory)", cluster.BootstrapServers, brokers);
            await e.Eventing.PublishAsync(new ConnectionStringAvailableEvent(resource, e.Services), cancellationToken);
            await e.Notifications.PublishUpdateAsync(resource, s => s with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
                Properties = [.. s.Properties, new("kafka.bootstrap_servers", cluster.BootstrapServers)],
            });
        }
        catch (Exception ex) when (ex is KafkaException or InvalidOperationException)
        {
            resource.BootstrapServers.Fail(ex);
            e.Logger.LogError(ex, "The Kafka mock cluster did not start");
            await e.Notifications.PublishUpdateAsync(resource, s => s with { State = KnownResourceStates.FailedToStart });
        }
    }

    public const string CqlEndpoint = "cql";

    /// <summary>
    /// The CQL dev server (<c>Cql.DevServer</c>), a Cassandra stand-in that keeps its data in one file.
    /// Its CQL port is fixed per run and not proxied: CQL drivers learn node addresses from the server itself.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddCqlDevServer(
        this IDistributedApplicationBuilder builder, string name, string dataFolder, IResourceBuilder<ParameterResource> password)
    {
        Directory.CreateDirectory(dataFolder);
        var port = FreeLoopbackPort();
        return builder
            .AddProject<Projects.Cql_DevServer>(name, options =>
            {
                options.ExcludeLaunchProfile = true;
                options.ExcludeKestrelEndpoints = true;
            })
            .WithHttpEndpoint(name: "http")
            .WithEndpoint(name: CqlEndpoint, scheme: "tcp", port: port, targetPort: port, isProxied: false)
            .WithEnvironment("DevServer__Port", port.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("DevServer__DataFile", Path.Combine(dataFolder, "customer_data.cql"))
            .WithEnvironment("DevServer__Username", ResourceNames.PlatformUser)
            .WithEnvironment("DevServer__Password", password)
            .WithHttpHealthCheck("/health")
            .ExcludeFromManifest();
    }

    /// <summary>
    /// The schema registry stand-in (<c>SchemaRegistry.DevServer</c>, in memory: the REST subset Confluent's client and
    /// serializer use). Dev/test only, like the CQL dev server; its schemas are gone when it stops, as the local Kafka's topics are.
    /// </summary>
    public static IResourceBuilder<IResourceWithEndpoints> AddSchemaRegistryStandIn(this IDistributedApplicationBuilder builder, string name) =>
        builder
            .AddProject<Projects.SchemaRegistry_DevServer>(name, options =>
            {
                options.ExcludeLaunchProfile = true;
                options.ExcludeKestrelEndpoints = true;
            })
            .WithHttpEndpoint(name: "http")
            .WithHttpHealthCheck("/health")
            .ExcludeFromManifest();

    /// <summary>The lake as a folder under the data folder: no server, nothing to wait for.</summary>
    public static LakeWiring AddLakeFolder(this IDistributedApplicationBuilder builder, string folder)
    {
        Directory.CreateDirectory(folder);
        return new LakeWiring(ReferenceExpression.Create($"{folder}"));
    }

    /// <summary>The lake on s3rver (npm), bucket <c>lake</c> created at start, objects kept under <paramref name="dataFolder"/>.</summary>
    public static LakeWiring AddS3rverLake(this IDistributedApplicationBuilder builder, string name, string dataFolder)
    {
        const string s3rverKey = "S3RVER"; // s3rver's fixed development credentials, not a secret
        Directory.CreateDirectory(dataFolder);
        var lake = builder.AddExecutable(name, "s3rver", dataFolder)
            .WithHttpEndpoint(name: "http", env: "S3RVER_PORT")
            // s3rver 3.7's listing continuation tokens need OpenSSL's legacy provider on Node 17+; without it every listing
            // of more than 1,000 keys (Pipeline B's lake after 1,000 days) answers 500 (found by bench/Faults).
            .WithEnvironment("NODE_OPTIONS", "--openssl-legacy-provider")
            .WithArgs(context =>
            {
                var endpoint = context.Resource is IResourceWithEndpoints r ? r.GetEndpoint("http") : throw new InvalidOperationException();
                context.Args.Add("--directory");
                context.Args.Add(dataFolder);
                context.Args.Add("--address");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--port");
                context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--configure-bucket");
                context.Args.Add(PlatformNames.LakeBucket);
            })
            .WithHttpHealthCheck("/")
            .WithIconName("Folder")
            .ExcludeFromManifest();
        var endpoint = lake.GetEndpoint("http");
        return new LakeWiring(ReferenceExpression.Create($"s3://{PlatformNames.LakeBucket}"))
        {
            Server = lake,
            ServiceUrl = ReferenceExpression.Create($"{endpoint.Property(EndpointProperty.Url)}"),
            AccessKey = ReferenceExpression.Create($"{s3rverKey}"),
            SecretKey = ReferenceExpression.Create($"{s3rverKey}"),
        };
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Owns the librdkafka handle whose <c>test.mock.num.brokers</c> setting runs the mock brokers.</summary>
public sealed class KafkaMockClusterHost : IDisposable
{
    private readonly IProducer<byte[], byte[]> _handle;

    private KafkaMockClusterHost(IProducer<byte[], byte[]> handle, string bootstrapServers)
    {
        _handle = handle;
        BootstrapServers = bootstrapServers;
    }

    public string BootstrapServers { get; }

    public static KafkaMockClusterHost Start(int brokers, ILogger logger)
    {
        var config = new ProducerConfig();
        config.Set("test.mock.num.brokers", brokers.ToString(CultureInfo.InvariantCulture));
        var handle = new ProducerBuilder<byte[], byte[]>(config)
            .SetLogHandler((_, m) => logger.LogDebug("librdkafka {Facility}: {Message}", m.Facility, m.Message))
            .Build();
        try
        {
            // The brokers' ports are ephemeral: the only way to learn them is to ask the cluster.
            using var admin = new DependentAdminClientBuilder(handle.Handle).Build();
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
            if (metadata.Brokers.Count == 0) throw new InvalidOperationException("The librdkafka mock cluster reported no broker.");
            return new KafkaMockClusterHost(handle, string.Join(",", metadata.Brokers.Select(b => $"{b.Host}:{b.Port}")));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public void Dispose() => _handle.Dispose();
}
