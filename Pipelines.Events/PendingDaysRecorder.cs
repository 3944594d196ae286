using System.Collections.Concurrent;
using Confluent.Kafka;
using CustomerData.Lake;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// Keeps each partition's <see cref="PendingDays"/> covering the days of its batches whose lake position is not
/// published yet. A batch's write calls <see cref="DeclareAsync"/> before its files: the record is rewritten only when the
/// batch brings a day the record does not list (rare: a new day, late data), and then shrinks to the days of the batches
/// still unpublished. Writes of a partition are chained, so the last one written is the last one computed.
/// </summary>
internal sealed class PendingDaysRecorder(ILakeStorage lake, TimeProvider time)
{
    private readonly ConcurrentDictionary<TopicPartition, PartitionDays> _partitions = new();

    /// <summary>Completes once the lake's record lists the batch's days (at once when it already did).</summary>
    public Task DeclareAsync(PartitionBatch batch, IReadOnlyCollection<DateOnly> eventDays, IReadOnlyCollection<DateOnly> malformedDays)
    {
        var tp = batch.TopicPartition;
        var days = _partitions.GetOrAdd(tp, _ => new PartitionDays());
        lock (days.Lock)
        {
            days.Unpublished.RemoveAll(u => u.Batch.PositionPublished);
            if (!days.Unpublished.Any(u => u.Batch == batch)) days.Unpublished.Add((batch, eventDays, malformedDays));
            var covered = eventDays.All(days.Events.Contains) && malformedDays.All(days.Malformed.Contains);
            if (covered && !days.Last.IsFaulted && !days.Last.IsCanceled) return days.Last;
            days.Events = days.Unpublished.SelectMany(u => u.EventDays).ToHashSet();
            days.Malformed = days.Unpublished.SelectMany(u => u.MalformedDays).ToHashSet();
            var record = new PendingDays(tp.Topic, tp.Partition.Value, batch.Epoch, [.. days.Events.Order()], [.. days.Malformed.Order()], time.GetUtcNow().UtcDateTime);
            return days.Last = WriteAfterAsync(days.Last, record, batch.Fence.Token);
        }
    }

    /// <summary>The batch's position is published: its days no longer need the record (and the batch is not kept alive by it).</summary>
    public void Published(PartitionBatch batch)
    {
        if (!_partitions.TryGetValue(batch.TopicPartition, out var days)) return;
        lock (days.Lock) days.Unpublished.RemoveAll(u => u.Batch == batch);
    }

    /// <summary>The partition is (re)assigned or gone: what this member declared before says nothing about the lake's record now.</summary>
    public void Forget(TopicPartition tp) => _partitions.TryRemove(tp, out _);

    private async Task WriteAfterAsync(Task previous, PendingDays record, CancellationToken cancellationToken)
    {
        try
        {
            await previous;
        }
        catch (Exception)
        {
            // that write's batch fails and retries; this one goes on
        }
        cancellationToken.ThrowIfCancellationRequested();
        await lake.PublishAsync(record.Key, record.ToJson(), cancellationToken);
    }

    private sealed class PartitionDays
    {
        public readonly Lock Lock = new();
        public HashSet<DateOnly> Events = [];
        public HashSet<DateOnly> Malformed = [];
        public readonly List<(PartitionBatch Batch, IReadOnlyCollection<DateOnly> EventDays, IReadOnlyCollection<DateOnly> MalformedDays)> Unpublished = [];
        public Task Last = Task.CompletedTask;
    }
}
