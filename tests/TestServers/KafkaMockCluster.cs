using Confluent.Kafka;

namespace CustomerData.TestServers;

/// <summary>
/// librdkafka's built-in mock cluster: a real Kafka-protocol broker set on ephemeral loopback ports,
/// reachable from other processes through <see cref="BootstrapServers"/>. It lives as long as this
/// object (inside this process), auto-creates topics on first use and has no CreateTopics call.
/// </summary>
public sealed class KafkaMockCluster : IDisposable
{
    private readonly IProducer<byte[], byte[]> _host;

    private KafkaMockCluster(IProducer<byte[], byte[]> host, string bootstrapServers)
    {
        _host = host;
        BootstrapServers = bootstrapServers;
    }

    public string BootstrapServers { get; }

    public static KafkaMockCluster Start(int brokers = 1)
    {
        var config = new ProducerConfig();
        config.Set("test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var host = new ProducerBuilder<byte[], byte[]>(config).Build();
        using var admin = new DependentAdminClientBuilder(host.Handle).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        if (metadata.Brokers.Count == 0)
        {
            host.Dispose();
            throw new InvalidOperationException("The librdkafka mock cluster reported no broker.");
        }
        var bootstrap = string.Join(",", metadata.Brokers.Select(b => $"{b.Host}:{b.Port}"));
        return new KafkaMockCluster(host, bootstrap);
    }

    /// <summary>
    /// Makes sure <paramref name="topic"/> exists (the mock creates it on a producer's metadata request)
    /// and returns its partition count.
    /// </summary>
    public int EnsureTopic(string topic)
    {
        using var admin = new DependentAdminClientBuilder(_host.Handle).Build();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(5));
            var t = metadata.Topics.FirstOrDefault(x => x.Topic == topic);
            if (t is not null && t.Error.Code == ErrorCode.NoError && t.Partitions.Count > 0) return t.Partitions.Count;
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"Topic {topic} was not created by the mock cluster: {t?.Error}");
            }
            Thread.Sleep(100);
        }
    }

    /// <summary>
    /// Takes every broker of the cluster down (librdkafka's <c>rd_kafka_mock_broker_set_down</c>: connections closed,
    /// new ones refused) or up again. Topics and messages are kept, so a client reconnects to the same log.
    /// </summary>
    public void SetBrokersUp(bool up, int brokers = 1)
    {
        var mock = MockClusterNative.rd_kafka_handle_mock_cluster(NativeHandle(_host.Handle));
        if (mock == IntPtr.Zero) throw new InvalidOperationException("The handle has no mock cluster.");
        for (var id = 1; id <= brokers; id++)
        {
            var error = up ? MockClusterNative.rd_kafka_mock_broker_set_up(mock, id) : MockClusterNative.rd_kafka_mock_broker_set_down(mock, id);
            if (error != 0) throw new InvalidOperationException($"rd_kafka_mock_broker_set_{(up ? "up" : "down")}({id}) failed: {error}");
        }
        if (!up) return;
        // This host client reconnects with backoff too: wait until it answers metadata again, so EnsureTopic works.
        using var admin = new DependentAdminClientBuilder(_host.Handle).Build();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                admin.GetMetadata(TimeSpan.FromSeconds(2));
                return;
            }
            catch (KafkaException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
        }
    }

    public void Dispose() => _host.Dispose();

    // Confluent.Kafka keeps the rd_kafka_t pointer internal (Handle.LibrdkafkaHandle, a SafeHandle).
    private static IntPtr NativeHandle(Handle handle)
    {
        const System.Reflection.BindingFlags flags = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public;
        var value = typeof(Handle).GetProperty("LibrdkafkaHandle", flags)?.GetValue(handle) ?? typeof(Handle).GetField("LibrdkafkaHandle", flags)?.GetValue(handle);
        return value is System.Runtime.InteropServices.SafeHandle safe ? safe.DangerousGetHandle()
            : throw new InvalidOperationException("Confluent.Kafka's Handle.LibrdkafkaHandle was not found.");
    }
}

/// <summary>The mock cluster's broker controls, which Confluent.Kafka does not wrap (librdkafka's rdkafka_mock.h).</summary>
internal static partial class MockClusterNative
{
    // Confluent.Kafka loads the first of its bundled builds whose dependencies resolve (librdkafka.so needs libsasl2,
    // centos8-librdkafka.so does not); the same file must be used here, so the mock cluster is the one it created.
    static MockClusterNative() => System.Runtime.InteropServices.NativeLibrary.SetDllImportResolver(typeof(MockClusterNative).Assembly, (name, _, _) =>
    {
        if (name != "librdkafka") return IntPtr.Zero;
        var folder = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        foreach (var file in new[] { "librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so" })
        {
            if (System.Runtime.InteropServices.NativeLibrary.TryLoad(Path.Combine(folder, file), out var handle)) return handle;
        }
        return IntPtr.Zero;
    });

    [System.Runtime.InteropServices.LibraryImport("librdkafka")]
    internal static partial IntPtr rd_kafka_handle_mock_cluster(IntPtr rk);

    [System.Runtime.InteropServices.LibraryImport("librdkafka")]
    internal static partial int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);

    [System.Runtime.InteropServices.LibraryImport("librdkafka")]
    internal static partial int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);
}
