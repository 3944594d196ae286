using System.Globalization;
using Confluent.Kafka;
using CustomerData.Lake;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// A batch's lake side: its files (after declaring their days, see <see cref="PendingDaysRecorder"/>), then the
/// partition's lake position past it; and for a batch that will not be committed, taking back exactly the files it published.
/// </summary>
internal sealed class BatchWriter(ILakeStorage lake, WriterSchemas schemas, PendingDaysRecorder pendingDays, WaitBounds bounds, TimeProvider time, ILogger logger)
{
    // The last write started per partition: the next batch publishes its lake position only after this one did.
    private readonly Dictionary<TopicPartition, Task<int>> _lastWrite = [];

    /// <summary>Starts the batch's write on the pool (it decodes the batch first, which must not hold up the consume thread); the result is its file count.</summary>
    public Task<int> Start(PartitionBatch batch)
    {
        var tp = batch.TopicPartition;
        var previous = _lastWrite.GetValueOrDefault(tp);
        if (previous is { IsCompletedSuccessfully: true }) previous = null;
        // The write runs under the batch's span: the lake's spans of its files are the span's children.
        var outer = System.Diagnostics.Activity.Current;
        batch.Span = EventsTelemetry.StartBatchSpan(batch, time.GetUtcNow());
        System.Diagnostics.Activity.Current = batch.Span;
        var write = batch.Write = Task.Run(() => WriteBatchAsync(batch, previous));
        System.Diagnostics.Activity.Current = outer;
        _lastWrite[tp] = write;
        return write;
    }

    /// <summary>The partition is no longer this member's: nothing of it waits for an earlier write any more.</summary>
    public void Forget(TopicPartition tp)
    {
        _lastWrite.Remove(tp);
        pendingDays.Forget(tp);
    }

    /// <summary>
    /// The batch's files, then (once the partition's previous batch published its position: positions only move
    /// forward, over durable files) the partition's lake position past the batch. Only then is the batch committed to Kafka.
    /// </summary>
    private async Task<int> WriteBatchAsync(PartitionBatch batch, Task<int>? previous)
    {
        var files = await WriteFilesAsync(batch);
        if (previous is not null) await previous;
        var tp = batch.TopicPartition;
        var plan = batch.Plan ?? new ResumePlan(ResumeKind.Committed, batch.FirstOffset, 0, null, null, null);
        var position = plan.Position(tp.Topic, tp.Partition.Value, batch.LastOffset + 1, time.GetUtcNow().UtcDateTime);
        batch.Fence.Token.ThrowIfCancellationRequested();
        await lake.PublishAsync(position.Key, position.ToJson(), batch.Fence.Token);
        batch.PositionPublished = true;
        pendingDays.Published(batch);
        return files;
    }

    private async Task<int> WriteFilesAsync(PartitionBatch batch)
    {
        batch.Decode(schemas);
        var tp = batch.TopicPartition;
        var eventDays = batch.Events.GroupBy(e => e.EventDate).ToList();
        var malformedDays = batch.Malformed.GroupBy(m => m.KafkaDate).ToList();
        // Before any file: the clean-up on assignment finds uncommitted files only on the days this record lists.
        await pendingDays.DeclareAsync(batch, eventDays.Select(d => d.Key).ToList(), malformedDays.Select(d => d.Key).ToList());
        var writes = new List<Task>();
        foreach (var day in eventDays)
        {
            var rows = day.ToList();
            writes.Add(Task.Run(async () =>
            {
                var content = await EventParquet.WriteEventsAsync(rows, Math.Max(1, rows.Count), Metadata(batch));
                await PublishFencedAsync(batch, EventFileNames.EventsBatchKey(day.Key, tp.Topic, tp.Partition.Value, batch.FirstOffset, batch.Epoch), content);
            }));
        }
        foreach (var day in malformedDays)
        {
            var rows = day.ToList();
            writes.Add(Task.Run(async () =>
            {
                var content = await EventParquet.WriteMalformedAsync(rows);
                await PublishFencedAsync(batch, EventFileNames.MalformedBatchKey(day.Key, tp.Topic, tp.Partition.Value, batch.FirstOffset, batch.Epoch), content);
            }));
        }
        await Task.WhenAll(writes);
        return writes.Count;
    }

    /// <summary>Publishes one file of the batch unless the batch was abandoned; remembers it first, so an abandon can take it back.</summary>
    private Task PublishFencedAsync(PartitionBatch batch, string key, byte[] content)
    {
        batch.Fence.Token.ThrowIfCancellationRequested();
        batch.Published.Enqueue((key, content));
        return lake.PublishAsync(key, content, batch.Fence.Token);
    }

    private static Dictionary<string, string> Metadata(PartitionBatch batch) => new()
    {
        ["kafka_topic"] = batch.TopicPartition.Topic,
        ["kafka_partition"] = batch.TopicPartition.Partition.Value.ToString(CultureInfo.InvariantCulture),
        ["kafka_first_offset"] = batch.FirstOffset.ToString(CultureInfo.InvariantCulture),
        ["kafka_epoch"] = batch.Epoch.ToString(CultureInfo.InvariantCulture),
        ["kafka_last_offset"] = batch.LastOffset.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// Gives up batches that will not be committed: the fence stops any file of theirs from being published from
    /// now on, and every file they did publish is deleted once their writes stopped, unless the object at that key
    /// is no longer the one we wrote (the partition's new owner rewrote it). Such a file would otherwise stay
    /// beside the new owner's replay, which may cut the batches at other offsets: its events would be there twice.
    /// </summary>
    public void Abandon(List<PartitionBatch> batches, DateTimeOffset deadline)
    {
        if (batches.Count == 0) return;
        foreach (var batch in batches)
        {
            batch.Fence.Cancel();
            batch.Span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "abandoned").Dispose();
            batch.Span = null;
        }
        var writes = batches.Where(b => b.Write is { IsCompleted: false }).Select(b => (Task)b.Write!).ToArray();
        if (writes.Length > 0)
        {
            ((IAsyncResult)Task.WhenAll(writes).ContinueWith(_ => { }, TaskScheduler.Default)).AsyncWaitHandle
                .WaitOne(WaitBounds.Min(bounds.WriteWait, bounds.Until(deadline)));
        }
        var deletes = new List<Task>();
        foreach (var batch in batches)
        {
            if (batch.Write is { IsCompleted: false } running)
            {
                // A write that ignores cancellation: take its files back whenever it does stop.
                logger.LogAbandonedWriteStillRunning(batch.TopicPartition.Topic, batch.TopicPartition.Partition.Value, batch.FirstOffset);
                running.ContinueWith(_ => DeleteOwnFilesAsync(batch), TaskScheduler.Default);
                continue;
            }
            deletes.Add(DeleteOwnFilesAsync(batch));
        }
        // One bound for all the deletes (they never throw): the caller may be a rebalance callback.
        if (deletes.Count > 0 && !((IAsyncResult)Task.WhenAll(deletes)).AsyncWaitHandle.WaitOne(bounds.WriteWait)) logger.LogAbandonedDeletesSlow(deletes.Count);
    }

    private async Task DeleteOwnFilesAsync(PartitionBatch batch)
    {
        var deleted = 0;
        var published = batch.Published.ToArray();
        try
        {
            var tp = batch.TopicPartition;
            // Its own position write, and only that, proves the lake holds it: a later owner's position past it
            // may come from a replay that cut these offsets differently. A publish that failed after it landed
            // leaves exactly this batch's position in the lake.
            if (batch.PositionPublished
                || await PartitionPosition.ReadAsync(lake, tp.Topic, tp.Partition.Value) is { } position
                && position.Epoch == batch.Epoch && position.NextOffset == batch.LastOffset + 1)
            {
                // Its position was published: the lake holds the batch (only the Kafka commit is missing) and the
                // partition's next owner resumes after it. Deleting the files now would lose the events.
                logger.LogAbandonedKept(tp.Topic, tp.Partition.Value, batch.FirstOffset, batch.LastOffset);
                return;
            }
        }
        catch (Exception ex)
        {
            logger.LogAbandonedDeleteFailed(ex, PartitionPosition.KeyOf(batch.TopicPartition.Topic, batch.TopicPartition.Partition.Value));
            return; // unknown whether the lake holds it: keep the files; the next owner's clean-up decides
        }
        // The latest content per key: a retry of the batch may have published it again.
        foreach (var (key, content) in published.GroupBy(p => p.Key).Select(g => g.Last()))
        {
            try
            {
                var current = await lake.ReadAsync(key);
                if (current is null || !current.AsSpan().SequenceEqual(content)) continue;
                await lake.DeleteAsync(key);
                deleted++;
            }
            catch (Exception ex)
            {
                logger.LogAbandonedDeleteFailed(ex, key);
            }
        }
        logger.LogAbandoned(batch.TopicPartition.Topic, batch.TopicPartition.Partition.Value, batch.FirstOffset, batch.LastOffset, deleted);
    }
}
