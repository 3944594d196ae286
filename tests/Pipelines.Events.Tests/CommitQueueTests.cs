using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CustomerData.Pipelines.Events.Tests;

/// <summary>The batch commit queue on its own: a real consumer of the mock cluster, writes whose outcome the test decides, the clock a fake one.</summary>
public sealed class CommitQueueTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
    private readonly IngestionState _state = new();
    private readonly EventsOptions _options = new() { MaxBatchesInFlight = 2, RetryInitialDelay = TimeSpan.FromSeconds(1), RetryMaxDelay = TimeSpan.FromSeconds(4) };
    private readonly string _topic = $"events-queue-{Guid.NewGuid():N}";
    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly List<TopicPartition> _partitions;

    public CommitQueueTests(KafkaFixture kafka)
    {
        var count = kafka.Cluster.EnsureTopic(_topic);
        Assert.True(count >= 2, "two partitions needed");
        _partitions = [new TopicPartition(_topic, 0), new TopicPartition(_topic, 1)];
        _consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = kafka.Cluster.BootstrapServers, GroupId = "g-" + _topic, EnableAutoCommit = false,
        }).Build();
        _consumer.Assign(_partitions);
    }

    private BatchCommitQueue Queue(Func<PartitionBatch, Task<int>> startWrite, RetryBackoff? backoff = null) =>
        new(startWrite, new PartitionTracking(), _state, _options, backoff ?? new RetryBackoff(_options.RetryInitialDelay, _options.RetryMaxDelay, _time),
            new WaitBounds(TimeSpan.FromSeconds(10), _time), _time, NullLogger.Instance);

    private static PartitionBatch Batch(TopicPartition tp, long first, int count)
    {
        var batch = new PartitionBatch(tp);
        for (var i = 0; i < count; i++) batch.Add(first + i, null, [1, 2, 3], DateTime.UtcNow, DateTime.UtcNow);
        return batch;
    }

    private long Committed(TopicPartition tp) => _consumer.Committed([tp], TimeSpan.FromSeconds(5)).Single().Offset.Value;

    [Fact]
    public void A_later_batch_whose_write_finishes_first_is_committed_only_after_the_earlier_one()
    {
        var writes = new Dictionary<PartitionBatch, TaskCompletionSource<int>>();
        var queue = Queue(b => (writes[b] = new TaskCompletionSource<int>()).Task);
        var first = Batch(_partitions[0], 0, 10);
        var second = Batch(_partitions[1], 0, 5);

        queue.Close(_consumer, first);
        queue.Close(_consumer, second);
        writes[second].SetResult(1);
        queue.CompleteWrites(_consumer, drain: false);
        Assert.True(Committed(_partitions[1]) < 0, "the second batch was committed before the first one's write finished");
        Assert.True(queue.HasInFlight);

        writes[first].SetResult(1);
        queue.CompleteWrites(_consumer, drain: false);
        Assert.Equal(10, Committed(_partitions[0]));
        Assert.Equal(5, Committed(_partitions[1]));
        Assert.False(queue.HasInFlight);
        Assert.Equal(2, _state.CommittedBatches);
    }

    [Fact]
    public void A_failed_write_holds_every_later_batch_and_retries_on_the_doubling_backoff_of_the_injected_clock()
    {
        var failuresLeft = 2;
        var started = new List<PartitionBatch>();
        var queue = Queue(b =>
        {
            started.Add(b);
            return b.FirstOffset == 0 && failuresLeft-- > 0 ? Task.FromException<int>(new IOException("test: lake down")) : Task.FromResult(1);
        });
        var first = Batch(_partitions[0], 0, 10);
        var second = Batch(_partitions[0], 10, 10);

        queue.Close(_consumer, first); // fails at once
        Assert.True(queue.HasFailed);
        Assert.True(queue.IsPaused);
        Assert.NotNull(_state.DegradedReason);
        queue.Close(_consumer, second); // waits behind it, not even started
        Assert.Equal([first], started);

        _time.Advance(TimeSpan.FromMilliseconds(900));
        queue.RetryFailed(_consumer);
        Assert.Single(started); // not due before the initial delay (1 s)

        _time.Advance(TimeSpan.FromMilliseconds(100));
        queue.RetryFailed(_consumer); // fails again: next attempt 2 s later
        Assert.Equal(2, started.Count);
        _time.Advance(TimeSpan.FromMilliseconds(1_900));
        queue.RetryFailed(_consumer);
        Assert.Equal(2, started.Count);
        Assert.True(Committed(_partitions[0]) < 0);

        _time.Advance(TimeSpan.FromMilliseconds(100));
        queue.RetryFailed(_consumer);
        Assert.Equal([first, first, first, second], started);
        Assert.Equal(20, Committed(_partitions[0]));
        Assert.False(queue.HasFailed);
        Assert.False(queue.IsPaused);
        Assert.Null(_state.DegradedReason);
    }

    [Fact]
    public void The_backoff_doubles_from_the_initial_delay_up_to_the_maximum_and_restarts_after_a_success()
    {
        var backoff = new RetryBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), _time);
        Assert.True(backoff.IsDue);
        Assert.Equal(TimeSpan.FromSeconds(1), backoff.Restart());
        Assert.False(backoff.IsDue);
        Assert.Equal([2, 4, 8, 16, 30, 30], Enumerable.Range(0, 6).Select(_ => backoff.Again().TotalSeconds));
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(30), backoff.NextAttemptAt);
        Assert.Equal(TimeSpan.FromSeconds(1), backoff.Restart());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(backoff.IsDue);
    }

    public void Dispose()
    {
        _consumer.Close();
        _consumer.Dispose();
    }
}
