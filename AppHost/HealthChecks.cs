using System.Net.Sockets;
using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MySqlConnector;

namespace CustomerData.AppHost;

/// <summary>Healthy when the server accepts the platform's login and answers a ping (the database may not exist yet).</summary>
public sealed class MySqlPingHealthCheck(Func<CancellationToken, ValueTask<string?>> connectionString) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var builder = new MySqlConnectionStringBuilder(await connectionString(cancellationToken) ?? "") { Database = "", Pooling = false, ConnectionTimeout = 3 };
            await using var connection = new MySqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            return await connection.PingAsync(cancellationToken)
                ? HealthCheckResult.Healthy($"MySQL {connection.ServerVersion}")
                : HealthCheckResult.Unhealthy("The server did not answer the ping.");
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or SocketException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("MySQL is unreachable: " + ex.Message, ex);
        }
    }
}

/// <summary>Healthy when the cluster answers a metadata request with at least one broker.</summary>
public sealed class KafkaMetadataHealthCheck(Func<CancellationToken, ValueTask<string?>> bootstrapServers) : IHealthCheck, IDisposable
{
    private readonly Lock _lock = new();
    private (string Bootstrap, IAdminClient Client)? _admin;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var bootstrap = await bootstrapServers(cancellationToken);
            if (string.IsNullOrEmpty(bootstrap)) return HealthCheckResult.Unhealthy("The bootstrap address is not known yet.");
            var admin = AdminFor(bootstrap);
            // GetMetadata blocks its thread; keep it off the caller's.
            var metadata = await Task.Run(() => admin.GetMetadata(TimeSpan.FromSeconds(3)), cancellationToken);
            return metadata.Brokers.Count > 0
                ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s) at {bootstrap}")
                : HealthCheckResult.Unhealthy("The metadata lists no broker.");
        }
        catch (KafkaException ex)
        {
            return HealthCheckResult.Unhealthy("Kafka is unreachable: " + ex.Message, ex);
        }
    }

    // One client, reused: a librdkafka handle owns threads and sockets, so one per probe would leak them.
    private IAdminClient AdminFor(string bootstrap)
    {
        lock (_lock)
        {
            if (_admin is { } existing && existing.Bootstrap == bootstrap) return existing.Client;
            _admin?.Client.Dispose();
            var client = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, SocketTimeoutMs = 3000 })
                // A failed probe is reported as the check's result; librdkafka's own lines would only repeat it on stderr.
                .SetLogHandler((_, _) => { })
                .Build();
            _admin = (bootstrap, client);
            return client;
        }
    }

    public void Dispose()
    {
        lock (_lock) _admin?.Client.Dispose();
    }
}

/// <summary>
/// Healthy when the server speaks the CQL native protocol: an OPTIONS frame (v4) is answered by SUPPORTED.
/// It proves more than an open port: Cassandra listens long before it serves requests.
/// </summary>
public sealed class CqlHandshakeHealthCheck(Func<CancellationToken, ValueTask<(string Host, int Port)>> endpoint) : IHealthCheck
{
    private const byte RequestVersion4 = 0x04;
    private const byte OpcodeOptions = 0x05;
    private const byte OpcodeSupported = 0x06;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var (host, port) = await endpoint(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, timeout.Token);
            var stream = client.GetStream();
            // Header: version, flags, stream id (2 bytes), opcode, body length (4 bytes) = 0.
            await stream.WriteAsync(new byte[] { RequestVersion4, 0, 0, 1, OpcodeOptions, 0, 0, 0, 0 }, timeout.Token);
            var header = new byte[9];
            await stream.ReadExactlyAsync(header, timeout.Token);
            return header[4] == OpcodeSupported
                ? HealthCheckResult.Healthy($"CQL at {host}:{port}")
                : HealthCheckResult.Unhealthy($"CQL OPTIONS was answered with opcode 0x{header[4]:x2}, not SUPPORTED.");
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("CQL is unreachable: " + ex.Message, ex);
        }
    }
}
