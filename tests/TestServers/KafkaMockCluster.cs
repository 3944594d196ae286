using System.Reflection;
using System.Runtime.InteropServices;
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
    /// Makes the cluster answer the next <paramref name="errors"/>.Length requests of Kafka API <paramref name="apiKey"/>
    /// (from any client) with these errors, in order: librdkafka's <c>rd_kafka_mock_push_request_errors_array</c>.
    /// </summary>
    public void PushRequestErrors(short apiKey, params ErrorCode[] errors)
    {
        var codes = errors.Select(e => (int)e).ToArray();
        Native.rd_kafka_mock_push_request_errors_array(MockHandle(), apiKey, (nuint)codes.Length, codes);
    }

    /// <summary>
    /// Retention as the broker applies it: the partition's log now starts at <paramref name="beforeOffset"/>, the records
    /// before it are gone (the mock has no DeleteRecords API; this is librdkafka's <c>rd_kafka_mock_partition_delete_records</c>).
    /// </summary>
    public void DeleteRecords(string topic, int partition, long beforeOffset)
    {
        var error = (ErrorCode)Native.rd_kafka_mock_partition_delete_records(MockHandle(), topic, partition, beforeOffset);
        if (error != ErrorCode.NoError) throw new InvalidOperationException($"Deleting the records of {topic}/{partition} before {beforeOffset} failed: {error}");
    }

    /// <summary>Kafka API keys of the requests a test makes fail.</summary>
    public static class ApiKeys
    {
        public const short OffsetCommit = 8;
        public const short Heartbeat = 12;
    }

    private IntPtr MockHandle()
    {
        // Confluent.Kafka keeps the rd_kafka_t* in an internal SafeHandle; the mock API takes the cluster of that client.
        var property = typeof(Handle).GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("Confluent.Kafka's Handle has no LibrdkafkaHandle property any more.");
        var handle = (SafeHandle)property.GetValue(_host.Handle)!;
        var mock = Native.rd_kafka_handle_mock_cluster(handle.DangerousGetHandle());
        return mock != IntPtr.Zero ? mock : throw new InvalidOperationException("The client has no mock cluster.");
    }

    private static class Native
    {
        // The librdkafka Confluent.Kafka loaded (it loads it by full path, so a plain DllImport name does not find it).
        static Native() => NativeLibrary.SetDllImportResolver(typeof(Native).Assembly, (name, _, _) =>
            name == "librdkafka" ? NativeLibrary.Load(LoadedPath()) : IntPtr.Zero);

        private static string LoadedPath() =>
            File.ReadLines("/proc/self/maps").Select(l => l[(l.IndexOf('/') is var i and >= 0 ? i : l.Length)..])
                .FirstOrDefault(p => Path.GetFileName(p).Contains("librdkafka", StringComparison.Ordinal))
            ?? Directory.EnumerateFiles(AppContext.BaseDirectory, "librdkafka.so", SearchOption.AllDirectories).First(p => p.Contains("linux-x64", StringComparison.Ordinal));

        [DllImport("librdkafka")]
        public static extern IntPtr rd_kafka_handle_mock_cluster(IntPtr rk);

        [DllImport("librdkafka")]
        public static extern void rd_kafka_mock_push_request_errors_array(IntPtr mcluster, short apiKey, nuint count, int[] errors);

        [DllImport("librdkafka", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        public static extern int rd_kafka_mock_partition_delete_records(IntPtr mcluster, string topic, int partition, long beforeOffset);
    }

    public void Dispose() => _host.Dispose();
}
