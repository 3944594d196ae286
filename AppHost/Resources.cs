using Aspire.Hosting.ApplicationModel;
using CustomerData.Contracts;

namespace CustomerData.AppHost;

/// <summary>Names the resources and connection strings share in both modes.</summary>
public static class ResourceNames
{
    public const string MySql = "mysql";
    public const string Kafka = "kafka";
    public const string Cassandra = "cassandra";
    public const string CassandraInit = "cassandra-init";
    public const string Lake = "lake";
    public const string LakeBucket = "lake-bucket";
    public const string SchemaRegistry = "schema-registry";

    public const string MySqlPassword = "mysql-password";
    public const string MySqlRootPassword = "mysql-root-password";
    public const string CassandraAdminPassword = "cassandra-admin-password";
    public const string LakeRootUser = "lake-root-user";
    public const string LakeRootPassword = "lake-root-password";
    public const string CassandraPassword = "cassandra-password";
    public const string LakeAccessKey = "lake-access-key";
    public const string LakeSecretKey = "lake-secret-key";

    /// <summary>The login the services use for MySQL and Cassandra (the password is a secret parameter).</summary>
    public const string PlatformUser = "platform";

    public const string TcpEndpoint = "tcp";
}

/// <summary>The local stack's MariaDB: <c>mariadbd</c> run by a launcher script, with the connection string of <c>customerdb</c>.</summary>
public sealed class MariaDbServerResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public ParameterResource Password { get; } = password;
    public EndpointReference Endpoint => new(this, ResourceNames.TcpEndpoint);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Server={Endpoint.Property(EndpointProperty.IPV4Host)};Port={Endpoint.Property(EndpointProperty.Port)};User ID={ResourceNames.PlatformUser};Password={Password};Database={PlatformNames.Database}");
}

/// <summary>MySQL 8 in a container, with the connection string of <c>customerdb</c>.</summary>
public sealed class MySqlServerResource(string name, ParameterResource rootPassword, ParameterResource platformPassword)
    : ContainerResource(name), IResourceWithConnectionString
{
    /// <summary>root's password: for the operator only, never handed to a service.</summary>
    public ParameterResource RootPassword { get; } = rootPassword;
    public ParameterResource PlatformPassword { get; } = platformPassword;
    public EndpointReference Endpoint => new(this, ResourceNames.TcpEndpoint);

    /// <summary>The services' connection: the platform user, whose grants are <c>customer_db</c> alone (not root).</summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Server={Endpoint.Property(EndpointProperty.Host)};Port={Endpoint.Property(EndpointProperty.Port)};User ID={ResourceNames.PlatformUser};Password={PlatformPassword};Database={PlatformNames.Database}");
}

/// <summary>Kafka (KRaft, one node) in a container; the connection string is the host-facing bootstrap address.</summary>
public sealed class KafkaServerResource(string name) : ContainerResource(name), IResourceWithConnectionString
{
    public const string InternalEndpoint = "internal";
    public EndpointReference Endpoint => new(this, ResourceNames.TcpEndpoint);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{Endpoint.Property(EndpointProperty.Host)}:{Endpoint.Property(EndpointProperty.Port)}");
}

/// <summary>
/// librdkafka's mock cluster, hosted inside the AppHost process (local mode). Its brokers listen on
/// ephemeral loopback ports that are known only once it runs, so the connection string waits for them.
/// Topics and messages live in memory: they are gone when the AppHost stops.
/// </summary>
public sealed class KafkaMockClusterResource(string name) : Resource(name), IResourceWithConnectionString
{
    public BootstrapServersValue BootstrapServers { get; } = new($"{{{name}.bootstrapServers}}");

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{BootstrapServers}");
}

/// <summary>A value that becomes known at run time (the mock cluster's broker list).</summary>
public sealed class BootstrapServersValue(string manifestExpression) : IValueProvider, IManifestExpressionProvider
{
    private readonly TaskCompletionSource<string> _value = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string ValueExpression => manifestExpression;
    public bool IsKnown => _value.Task.IsCompletedSuccessfully;

    public void Set(string value) => _value.TrySetResult(value);
    public void Fail(Exception error) => _value.TrySetException(error);

    public async ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) =>
        await _value.Task.WaitAsync(cancellationToken);
}
