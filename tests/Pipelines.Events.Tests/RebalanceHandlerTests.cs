using Confluent.Kafka;
using CustomerData.Contracts;
using CustomerData.Lake;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>The rebalance handler on its own: its callbacks called directly with a real consumer of the mock cluster and a real lake folder.</summary>
public sealed class RebalanceHandlerTests(KafkaFixture kafka) : IDisposable
{
    private static readonly DateOnly Day = new(2025, 12, 9);
    private readonly TempLake _folder = new();
    private readonly string _topic = $"events-handler-{Guid.NewGuid():N}";
    private readonly IngestionState _state = new();
    private readonly PartitionTracking _partitions = new();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly List<IDisposable> _disposables = [];

    private (RebalanceHandler Handler, IConsumer<byte[]?, byte[]?> Consumer) Create(ILakeStorage lake)
    {
        var options = new EventsOptions { Topic = _topic, GroupId = "g-" + _topic };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{PlatformNames.Connections.Kafka}"] = kafka.Cluster.BootstrapServers,
        }).Build();
        var factory = new EventsConsumerFactory(configuration, Options.Create(options), NullLoggerFactory.Instance);
        var consumer = new ConsumerBuilder<byte[]?, byte[]?>(factory.Config()).Build();
        var time = TimeProvider.System;
        var bounds = new WaitBounds(TimeSpan.FromSeconds(10), time);
        var backoff = new RetryBackoff(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(100), time);
        var logger = new LoggerFactory([_logs]).CreateLogger<EventsIngestionService>();
        var schemas = new WriterSchemas(null, TimeSpan.FromSeconds(1));
        var writer = new BatchWriter(lake, schemas, new PendingDaysRecorder(lake, time), bounds, time, logger);
        var queue = new BatchCommitQueue(writer.Start, _partitions, _state, options, backoff, bounds, time, logger);
        var incarnation = new TopicIncarnation(factory, time);
        _disposables.AddRange([consumer, incarnation, schemas]);
        return (new RebalanceHandler(lake, options, _partitions, queue, writer, new UncommittedFiles(lake, time, logger), incarnation,
            _state, backoff, bounds, time, logger), consumer);
    }

    private async Task<TopicPartition> ProduceAsync(int messages)
    {
        kafka.Cluster.EnsureTopic(_topic);
        var tp = new TopicPartition(_topic, 0);
        using var producer = TestEvents.Producer(kafka.Cluster.BootstrapServers);
        for (var i = 0; i < messages; i++) await producer.ProduceAsync(tp, TestEvents.Message($"e-{i}", 1, Day.ToDateTime(new TimeOnly(12, 0), DateTimeKind.Utc)));
        return tp;
    }

    private static async Task<byte[]> OneEventFileAsync() =>
        await EventParquet.WriteEventsAsync([new LakeEvent("x", 1, "LIKE", null, Day.ToDateTime(new TimeOnly(12, 0), DateTimeKind.Utc), DateTime.UtcNow)], 10);

    [Fact]
    public async Task The_lake_position_wins_over_the_group_offset_and_only_the_batch_files_at_or_above_it_on_the_recorded_days_are_removed()
    {
        var ct = TestContext.Current.CancellationToken;
        var tp = await ProduceAsync(30);
        var lake = new ListingCountingLakeStorage(new LocalFolderLakeStorage(_folder.Root));
        await lake.PublishAsync(PartitionPosition.KeyOf(_topic, 0), new PartitionPosition(_topic, 0, 0, 20, null, null, DateTime.UtcNow).ToJson(), ct);
        await lake.PublishAsync(PendingDays.KeyOf(_topic, 0), new PendingDays(_topic, 0, 0, [Day], [Day], DateTime.UtcNow).ToJson(), ct);
        var committed = EventFileNames.EventsBatchKey(Day, _topic, 0, 10);
        var uncommitted = EventFileNames.EventsBatchKey(Day, _topic, 0, 20);
        var otherPartition = EventFileNames.EventsBatchKey(Day, _topic, 1, 25);
        foreach (var key in new[] { committed, uncommitted, otherPartition }) await lake.PublishAsync(key, await OneEventFileAsync(), ct);
        var (handler, consumer) = Create(lake);

        var resume = handler.OnAssigned(consumer, [tp]).Single();

        Assert.Equal(20, resume.Offset.Value); // the group has no committed offset at all
        Assert.Equal(ResumeKind.LakePosition, _partitions.Plans[tp].Kind);
        Assert.Equal(20, _partitions.NextOffset[tp]);
        Assert.Null(await lake.ReadAsync(uncommitted, ct));
        Assert.NotNull(await lake.ReadAsync(committed, ct));
        Assert.NotNull(await lake.ReadAsync(otherPartition, ct)); // not this assignment's partition
        Assert.Equal([LakeLayout.EventsPartition(Day), LakeLayout.MalformedPartition(Day)], lake.Listed.Order(StringComparer.Ordinal));
        Assert.Empty(_partitions.AwaitingCleanup);
    }

    [Fact]
    public async Task An_assignment_whose_lake_cannot_be_read_is_held_and_degraded_without_throwing_and_goes_on_once_the_lake_is_back()
    {
        var ct = TestContext.Current.CancellationToken;
        var tp = await ProduceAsync(5);
        var lake = new FailingReadsLakeStorage(new LocalFolderLakeStorage(_folder.Root), key => key.StartsWith(PartitionPosition.Folder, StringComparison.Ordinal));
        var (handler, consumer) = Create(lake);
        consumer.Assign(tp); // what librdkafka does with the handler's answer

        var resume = handler.OnAssigned(consumer, [tp]).Single();

        Assert.Equal(Offset.Unset, resume.Offset);
        Assert.Contains(tp, _partitions.AwaitingCleanup);
        Assert.Contains("clean-up after assignment failed", _state.DegradedReason);
        Assert.Single(_logs.Lines, l => l.Message.Contains("Clean-up of 1 assigned partition(s) failed", StringComparison.Ordinal));

        handler.RetryCleanup(consumer); // the lake still fails: held, retried later
        Assert.Contains(tp, _partitions.AwaitingCleanup);

        lake.Failing = false;
        await Task.Delay(150, ct); // past the backoff (at most 100 ms)
        handler.RetryCleanup(consumer);
        Assert.Empty(_partitions.AwaitingCleanup);
        Assert.Null(_state.DegradedReason);
        Assert.Equal(0, _partitions.Plans[tp].Offset);
        Assert.Equal(0, (await PartitionPosition.ReadAsync(lake, _topic, 0, ct))!.NextOffset);
    }

    [Fact]
    public void Revoke_lost_and_assigned_handlers_whose_consumer_fails_log_it_and_never_throw()
    {
        var (handler, consumer) = Create(new LocalFolderLakeStorage(_folder.Root));
        consumer.Dispose(); // every call on it now throws
        var tp = new TopicPartition(_topic, 0);

        handler.OnRevoked(consumer, [new TopicPartitionOffset(tp, 5)]);
        handler.OnLost(consumer, [new TopicPartitionOffset(tp, 5)]);
        var resume = handler.OnAssigned(consumer, [tp]);

        Assert.Equal(Offset.Unset, resume.Single().Offset);
        Assert.Single(_logs.Lines, l => l.Level == LogLevel.Error && l.Message.Contains("The revoke rebalance handler failed", StringComparison.Ordinal));
        Assert.Single(_logs.Lines, l => l.Level == LogLevel.Error && l.Message.Contains("The lost rebalance handler failed", StringComparison.Ordinal));
        Assert.Contains(tp, _partitions.AwaitingCleanup);
    }

    public void Dispose()
    {
        foreach (var d in _disposables) d.Dispose();
        _folder.Dispose();
    }
}
