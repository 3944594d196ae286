using Aspire.Hosting.ApplicationModel;
using CustomerData.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CustomerData.AppHost;

/// <summary>
/// The stack on a container runtime (and the deployment manifest): MySQL 8, Kafka in KRaft mode,
/// Cassandra 5 and MinIO, with pinned image tags, named data volumes and secret parameters.
/// </summary>
public static class ContainerStack
{
    // Pinned tags: an upgrade is a reviewed change, never a surprise at the next pull.
    public const string MySqlImage = "mysql";
    public const string MySqlTag = "8.4.3";
    public const string KafkaImage = "apache/kafka";
    public const string KafkaTag = "3.9.1";
    public const string CassandraImage = "cassandra";
    public const string CassandraTag = "5.0.4";
    public const string MinioImage = "minio/minio";
    public const string MinioTag = "RELEASE.2025-04-22T22-12-26Z";
    public const string MinioClientImage = "minio/mc";
    public const string MinioClientTag = "RELEASE.2025-04-16T18-13-26Z";
    public const string SchemaRegistryImage = "confluentinc/cp-schema-registry";
    public const string SchemaRegistryTag = "7.9.1";

    private static readonly TimeSpan s_healthCheckTimeout = TimeSpan.FromSeconds(5);

    public static PlatformStack AddContainerStack(this IDistributedApplicationBuilder builder)
    {
        // Least privilege: the services log in as the platform user of customer_db, never as root.
        var mysqlRootPassword = builder.AddGeneratedSecret(ResourceNames.MySqlRootPassword);
        var mysqlPassword = builder.AddGeneratedSecret(ResourceNames.MySqlPassword);
        var mysql = builder.AddMySqlContainer(ResourceNames.MySql, mysqlRootPassword, mysqlPassword);

        var kafka = builder.AddKafkaContainer(ResourceNames.Kafka);

        var cassandraPassword = builder.AddGeneratedSecret(ResourceNames.CassandraPassword);
        var cassandraAdminPassword = builder.AddGeneratedSecret(ResourceNames.CassandraAdminPassword);
        var cassandra = builder.AddCassandraContainer(ResourceNames.Cassandra);
        var cassandraSetup = builder.AddCassandraSetup(ResourceNames.CassandraInit, cassandra, cassandraPassword, cassandraAdminPassword);
        var cql = cassandra.GetEndpoint(ResourceNames.TcpEndpoint);
        var cassandraConnectionString = ReferenceExpression.Create(
            $"Contact Points={cql.Property(EndpointProperty.Host)}:{cql.Property(EndpointProperty.Port)};Keyspace={PlatformNames.Keyspace};Username={ResourceNames.PlatformUser};Password={cassandraPassword}");

        // MinIO's root keys stay with MinIO and the setup job; the services get a service account limited to the bucket.
        var lakeRootUser = builder.AddParameter(ResourceNames.LakeRootUser, new GenerateParameterDefault { MinLength = 16, Special = false, Upper = false }, secret: true, persist: true);
        var lakeRootPassword = builder.AddGeneratedSecret(ResourceNames.LakeRootPassword);
        var lakeAccessKey = builder.AddParameter(ResourceNames.LakeAccessKey, new GenerateParameterDefault { MinLength = 16, Special = false, Upper = false }, secret: true, persist: true);
        var lakeSecretKey = builder.AddGeneratedSecret(ResourceNames.LakeSecretKey);
        var lake = builder.AddMinio(ResourceNames.Lake, lakeRootUser, lakeRootPassword);
        var lakeBucket = builder.AddLakeBucketSetup(ResourceNames.LakeBucket, lake, lakeRootUser, lakeRootPassword, lakeAccessKey, lakeSecretKey);
        var s3 = lake.GetEndpoint("http");

        var schemaRegistry = builder.AddSchemaRegistryContainer(ResourceNames.SchemaRegistry, kafka);

        return new PlatformStack(StackMode.Containers, mysql, kafka, cassandra, cassandraConnectionString,
            new LakeWiring(ReferenceExpression.Create($"s3://{PlatformNames.LakeBucket}"))
            {
                Server = lake,
                BucketSetup = lakeBucket,
                ServiceUrl = ReferenceExpression.Create($"{s3.Property(EndpointProperty.Url)}"),
                AccessKey = ReferenceExpression.Create($"{lakeAccessKey}"),
                SecretKey = ReferenceExpression.Create($"{lakeSecretKey}"),
            })
        {
            CassandraSetup = cassandraSetup,
            SchemaRegistry = schemaRegistry,
        };
    }

    /// <summary>Confluent's schema registry; it keeps its schemas in Kafka's <c>_schemas</c> topic (so no volume of its own).</summary>
    public static IResourceBuilder<IResourceWithEndpoints> AddSchemaRegistryContainer(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<KafkaServerResource> kafka) =>
        builder.AddContainer(name, SchemaRegistryImage, SchemaRegistryTag)
            .WithHttpEndpoint(name: "http", targetPort: 8081)
            .WithEnvironment("SCHEMA_REGISTRY_HOST_NAME", name)
            .WithEnvironment("SCHEMA_REGISTRY_LISTENERS", "http://0.0.0.0:8081")
            .WithEnvironment("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS", $"PLAINTEXT://{kafka.Resource.Name}:9092")
            .WithReferenceRelationship(kafka)
            .WaitFor(kafka)
            .WithHttpHealthCheck("/subjects", endpointName: "http");

    public static IResourceBuilder<MySqlServerResource> AddMySqlContainer(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource> rootPassword,
        IResourceBuilder<ParameterResource> platformPassword)
    {
        var resource = new MySqlServerResource(name, rootPassword.Resource, platformPassword.Resource);
        var healthCheckKey = $"{name}-ping";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => new MySqlPingHealthCheck(ct => resource.ConnectionStringExpression.GetValueAsync(ct)),
            failureStatus: null, tags: null, timeout: s_healthCheckTimeout));
        return builder.AddResource(resource)
            .WithImage(MySqlImage, MySqlTag)
            .WithEndpoint(name: ResourceNames.TcpEndpoint, targetPort: 3306, scheme: "tcp")
            .WithEnvironment("MYSQL_ROOT_PASSWORD", rootPassword)
            .WithEnvironment("MYSQL_DATABASE", PlatformNames.Database)
            // The image creates this user with ALL on MYSQL_DATABASE only (customer_db), nothing server-wide.
            .WithEnvironment("MYSQL_USER", ResourceNames.PlatformUser)
            .WithEnvironment("MYSQL_PASSWORD", platformPassword)
            .WithVolume("customer-data-mysql", "/var/lib/mysql")
            .WithHealthCheck(healthCheckKey);
    }

    public static IResourceBuilder<KafkaServerResource> AddKafkaContainer(this IDistributedApplicationBuilder builder, string name)
    {
        var resource = new KafkaServerResource(name);
        var healthCheckKey = $"{name}-metadata";
        var healthCheck = new KafkaMetadataHealthCheck(ct => resource.ConnectionStringExpression.GetValueAsync(ct));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => healthCheck, failureStatus: null, tags: null, timeout: s_healthCheckTimeout));
        var hostListener = resource.Endpoint;
        return builder.AddResource(resource)
            .WithImage(KafkaImage, KafkaTag)
            // 9094 is advertised as the host-facing address (the projects run on the host);
            // 9092 serves other containers under the resource's name.
            .WithEndpoint(name: ResourceNames.TcpEndpoint, targetPort: 9094, scheme: "tcp")
            .WithEndpoint(name: KafkaServerResource.InternalEndpoint, targetPort: 9092, scheme: "tcp")
            .WithEnvironment("KAFKA_NODE_ID", "1")
            .WithEnvironment("CLUSTER_ID", "customer-data-kraft01")
            .WithEnvironment("KAFKA_PROCESS_ROLES", "broker,controller")
            .WithEnvironment("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093")
            .WithEnvironment("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
            .WithEnvironment("KAFKA_LISTENERS", "PLAINTEXT://:9092,CONTROLLER://:9093,PLAINTEXT_HOST://:9094")
            .WithEnvironment("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT")
            .WithEnvironment("KAFKA_INTER_BROKER_LISTENER_NAME", "PLAINTEXT")
            .WithEnvironment(context =>
            {
                // Run mode: the projects run on the host and reach the broker through the published port on
                // localhost (evaluated in the container's own context, the endpoint's host would be its name).
                context.EnvironmentVariables["KAFKA_ADVERTISED_LISTENERS"] = context.ExecutionContext.IsRunMode
                    ? ReferenceExpression.Create($"PLAINTEXT://{name}:9092,PLAINTEXT_HOST://localhost:{hostListener.Property(EndpointProperty.Port)}")
                    : ReferenceExpression.Create($"PLAINTEXT://{name}:9092,PLAINTEXT_HOST://{hostListener.Property(EndpointProperty.HostAndPort)}");
            })
            .WithEnvironment("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
            .WithEnvironment("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
            .WithEnvironment("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
            .WithEnvironment("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
            .WithEnvironment("KAFKA_NUM_PARTITIONS", "3")
            .WithEnvironment("KAFKA_LOG_DIRS", "/var/lib/kafka/data")
            .WithVolume("customer-data-kafka", "/var/lib/kafka/data")
            .WithHealthCheck(healthCheckKey);
    }

    public static IResourceBuilder<ContainerResource> AddCassandraContainer(this IDistributedApplicationBuilder builder, string name)
    {
        var healthCheckKey = $"{name}-cql";
        var cassandra = builder.AddContainer(name, CassandraImage, CassandraTag)
            .WithEndpoint(name: ResourceNames.TcpEndpoint, targetPort: 9042, scheme: "tcp")
            .WithEnvironment("MAX_HEAP_SIZE", "1G")
            .WithEnvironment("HEAP_NEWSIZE", "200M")
            .WithEnvironment("CASSANDRA_CLUSTER_NAME", "customer-data")
            // The image ships with AllowAllAuthenticator; logins must be checked.
            .WithEntrypoint("bash")
            .WithArgs("-c", "sed -i 's/AllowAllAuthenticator/PasswordAuthenticator/' /etc/cassandra/cassandra.yaml && exec docker-entrypoint.sh cassandra -f")
            .WithVolume("customer-data-cassandra", "/var/lib/cassandra")
            .WithHealthCheck(healthCheckKey);
        var endpoint = cassandra.GetEndpoint(ResourceNames.TcpEndpoint);
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => new CqlHandshakeHealthCheck(async ct =>
            {
                var host = await endpoint.Property(EndpointProperty.Host).GetValueAsync(ct) ?? "localhost";
                return (host, endpoint.Port);
            }),
            failureStatus: null, tags: null, timeout: s_healthCheckTimeout));
        return cassandra;
    }

    /// <summary>
    /// A one-shot job: an admin superuser with a secret password replaces the image's default <c>cassandra/cassandra</c>
    /// (disabled: no login, no superuser), the platform role logs in with only the permissions of the keyspace, and the
    /// keyspace exists. It runs at every start: the first time it logs in with the default, later as the admin.
    /// </summary>
    public static IResourceBuilder<ContainerResource> AddCassandraSetup(
        this IDistributedApplicationBuilder builder, string name,
        IResourceBuilder<ContainerResource> cassandra, IResourceBuilder<ParameterResource> password,
        IResourceBuilder<ParameterResource> adminPassword) =>
        builder.AddContainer(name, CassandraImage, CassandraTag)
            .WithEntrypoint("bash")
            .WithArgs("-c", CassandraSetupScript)
            .WithEnvironment("CASSANDRA_HOST", cassandra.Resource.Name)
            .WithEnvironment("ADMIN_USER", CassandraAdminUser)
            .WithEnvironment("ADMIN_PASSWORD", adminPassword)
            .WithEnvironment("PLATFORM_USER", ResourceNames.PlatformUser)
            .WithEnvironment("PLATFORM_PASSWORD", password)
            .WithEnvironment("KEYSPACE", PlatformNames.Keyspace)
            .WithReferenceRelationship(cassandra)
            .WaitFor(cassandra);

    public const string CassandraAdminUser = "platform_admin";

    public const string CassandraSetupScript =
        "set -e; " +
        "if cqlsh \"$CASSANDRA_HOST\" 9042 -u \"$ADMIN_USER\" -p \"$ADMIN_PASSWORD\" -e 'SELECT now() FROM system.local' >/dev/null 2>&1; then " +
        "  LOGIN=(-u \"$ADMIN_USER\" -p \"$ADMIN_PASSWORD\"); " +
        "else " +
        "  cqlsh \"$CASSANDRA_HOST\" 9042 -u cassandra -p cassandra -e \"CREATE ROLE IF NOT EXISTS $ADMIN_USER WITH PASSWORD = '$ADMIN_PASSWORD' AND LOGIN = true AND SUPERUSER = true;\"; " +
        "  LOGIN=(-u \"$ADMIN_USER\" -p \"$ADMIN_PASSWORD\"); " +
        "fi; " +
        "cqlsh \"$CASSANDRA_HOST\" 9042 \"${LOGIN[@]}\" -e \"" +
        "ALTER ROLE $ADMIN_USER WITH PASSWORD = '$ADMIN_PASSWORD'; " +
        "ALTER ROLE cassandra WITH SUPERUSER = false AND LOGIN = false; " +
        "CREATE KEYSPACE IF NOT EXISTS $KEYSPACE WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}; " +
        "CREATE ROLE IF NOT EXISTS $PLATFORM_USER WITH PASSWORD = '$PLATFORM_PASSWORD' AND LOGIN = true AND SUPERUSER = false; " +
        "ALTER ROLE $PLATFORM_USER WITH PASSWORD = '$PLATFORM_PASSWORD' AND SUPERUSER = false; " +
        "GRANT CREATE ON KEYSPACE $KEYSPACE TO $PLATFORM_USER; " +
        "GRANT ALTER ON KEYSPACE $KEYSPACE TO $PLATFORM_USER; " +
        "GRANT SELECT ON KEYSPACE $KEYSPACE TO $PLATFORM_USER; " +
        "GRANT MODIFY ON KEYSPACE $KEYSPACE TO $PLATFORM_USER;\"";

    public static IResourceBuilder<ContainerResource> AddMinio(
        this IDistributedApplicationBuilder builder, string name,
        IResourceBuilder<ParameterResource> rootUser, IResourceBuilder<ParameterResource> rootPassword) =>
        builder.AddContainer(name, MinioImage, MinioTag)
            .WithArgs("server", "/data", "--console-address", ":9001")
            .WithHttpEndpoint(name: "http", targetPort: 9000)
            .WithHttpEndpoint(name: "console", targetPort: 9001)
            .WithEnvironment("MINIO_ROOT_USER", rootUser)
            .WithEnvironment("MINIO_ROOT_PASSWORD", rootPassword)
            .WithVolume("customer-data-minio", "/data")
            .WithHttpHealthCheck("/minio/health/live", endpointName: "http");

    /// <summary>
    /// A one-shot job (MinIO's <c>mc</c>, as root): creates the lake bucket if it is missing, a policy that allows the
    /// bucket's objects and nothing else, and the services' user with that policy alone (its keys are secret parameters).
    /// </summary>
    public static IResourceBuilder<ContainerResource> AddLakeBucketSetup(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ContainerResource> minio,
        IResourceBuilder<ParameterResource> rootUser, IResourceBuilder<ParameterResource> rootPassword,
        IResourceBuilder<ParameterResource> serviceAccessKey, IResourceBuilder<ParameterResource> serviceSecretKey) =>
        builder.AddContainer(name, MinioClientImage, MinioClientTag)
            .WithEntrypoint("/bin/sh")
            .WithArgs("-c", LakeSetupScript)
            .WithEnvironment("MINIO_URL", minio.GetEndpoint("http"))
            .WithEnvironment("MINIO_USER", rootUser)
            .WithEnvironment("MINIO_PASSWORD", rootPassword)
            .WithEnvironment("SERVICE_ACCESS_KEY", serviceAccessKey)
            .WithEnvironment("SERVICE_SECRET_KEY", serviceSecretKey)
            .WithEnvironment("BUCKET", PlatformNames.LakeBucket)
            .WithReferenceRelationship(minio)
            .WaitFor(minio);

    public const string LakeSetupScript =
        "set -e; " +
        "mc alias set lake \"$MINIO_URL\" \"$MINIO_USER\" \"$MINIO_PASSWORD\"; " +
        "mc mb --ignore-existing \"lake/$BUCKET\"; " +
        "printf '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:ListBucket\",\"s3:GetBucketLocation\"],\"Resource\":[\"arn:aws:s3:::%s\"]},{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\",\"s3:DeleteObject\"],\"Resource\":[\"arn:aws:s3:::%s/*\"]}]}' \"$BUCKET\" \"$BUCKET\" > /tmp/lake-rw.json; " +
        "mc admin policy create lake lake-rw /tmp/lake-rw.json; " +
        "mc admin user add lake \"$SERVICE_ACCESS_KEY\" \"$SERVICE_SECRET_KEY\"; " +
        "mc admin policy attach lake lake-rw --user \"$SERVICE_ACCESS_KEY\" || true";
}
