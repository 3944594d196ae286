using CustomerData.Contracts;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// Builds the pipeline's Kafka clients from <c>ConnectionStrings:kafka</c> plus any librdkafka property under
/// <c>Kafka:kafka:Config</c>. Offsets are the pipeline's business: no auto commit, no auto offset store.
/// </summary>
public sealed class EventsConsumerFactory(IConfiguration configuration, IOptions<EventsOptions> options, ILoggerFactory loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("Confluent.Kafka.Consumer");

    public string BootstrapServers =>
        configuration.GetConnectionString(PlatformNames.Connections.Kafka) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException($"Kafka bootstrap servers are missing: set ConnectionStrings:{PlatformNames.Connections.Kafka}.");

    /// <summary>
    /// <c>fetch.queue.backoff.ms</c> unless configured. librdkafka postpones a partition's next fetch by it once the
    /// partition's local queue is over its thresholds; at librdkafka's 1 s default a consumer working through a backlog
    /// of many partitions spent about half its time waiting for data (benchmark: 157,000 → 322,000 events/s).
    /// </summary>
    public const int DefaultFetchQueueBackoffMs = 10;

    public ConsumerConfig Config()
    {
        var extra = configuration.GetSection($"Kafka:{PlatformNames.Connections.Kafka}:Config").Get<Dictionary<string, string>>() ?? [];
        var config = new ConsumerConfig(extra)
        {
            BootstrapServers = BootstrapServers,
            GroupId = options.Value.GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnablePartitionEof = true,
            // Eager rebalancing: a partition is revoked here before anyone else gets it, so two instances never write it at once.
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range,
            StatisticsIntervalMs = 5000,
        };
        config.FetchQueueBackoffMs ??= DefaultFetchQueueBackoffMs;
        return config;
    }

    public IConsumer<byte[]?, byte[]?> Create(
        Func<IConsumer<byte[]?, byte[]?>, List<TopicPartition>, IEnumerable<TopicPartitionOffset>> onAssigned,
        Action<IConsumer<byte[]?, byte[]?>, List<TopicPartitionOffset>> onRevoked,
        Action<IConsumer<byte[]?, byte[]?>, List<TopicPartitionOffset>> onLost) =>
        new ConsumerBuilder<byte[]?, byte[]?>(Config())
            .SetKeyDeserializer(Deserializers.ByteArray)
            .SetValueDeserializer(Deserializers.ByteArray)
            .SetPartitionsAssignedHandler(onAssigned)
            .SetPartitionsRevokedHandler(onRevoked)
            // Lost (session timed out, max.poll.interval.ms passed): another member may own them already.
            .SetPartitionsLostHandler(onLost)
            // A fatal error also surfaces from Consume, where the consume loop logs it once and stops.
            .SetErrorHandler((_, e) =>
            {
                if (!e.IsFatal) _logger.LogWarning("Kafka consumer error {Code}: {Reason}", e.Code, e.Reason);
            })
            .SetStatisticsHandler((_, json) => KafkaStatistics.Record(json))
            .Build();

    /// <summary>
    /// Copies <paramref name="fromGroup"/>'s committed offsets of <paramref name="topic"/> to this group (a standalone
    /// commit: this group must have no active member). Partitions the old group never committed are left alone.
    /// </summary>
    public IReadOnlyList<TopicPartitionOffset> CopyCommittedOffsets(string fromGroup, string topic, TimeSpan timeout)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        var metadata = admin.GetMetadata(topic, timeout).Topics.SingleOrDefault(t => t.Topic == topic);
        if (metadata is null || metadata.Error.IsError) throw new InvalidOperationException($"Topic {topic} is unknown: {metadata?.Error.Reason}");
        var partitions = metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        var oldConfig = Config();
        oldConfig.GroupId = fromGroup;
        oldConfig.StatisticsIntervalMs = 0;
        List<TopicPartitionOffset> committed;
        using (var old = new ConsumerBuilder<Ignore, Ignore>(oldConfig).Build())
        {
            committed = old.Committed(partitions, timeout).Where(c => c.Offset.Value >= 0).ToList();
        }
        if (committed.Count == 0) return committed;
        using var ours = CreateOffsetReader();
        ours.Commit(committed);
        return committed;
    }

    /// <summary>A client of the same group that never joins it: it only reads committed offsets (for the compactor).</summary>
    public IConsumer<Ignore, Ignore> CreateOffsetReader()
    {
        var config = Config();
        config.EnablePartitionEof = false;
        config.StatisticsIntervalMs = 0;
        return new ConsumerBuilder<Ignore, Ignore>(config).Build();
    }
}
