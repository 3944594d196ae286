using System.Diagnostics;
using CustomerData.Contracts;
using CustomerData.Lake;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events;

// Lake files of batches that will not be committed: abandoned batches, the clean-up on assignment.
public sealed partial class EventsIngestionService
{
    /// <summary>Removes the closed batches (in flight or waiting for a retry) of the matching partitions from the queues, keeping the others in order.</summary>
    private List<PartitionBatch> TakeBatches(Func<TopicPartition, bool> matches)
    {
        var taken = new List<PartitionBatch>();
        var kept = new Queue<InFlightWrite>();
        while (_inflight.TryDequeue(out var write))
        {
            if (matches(write.Batch.TopicPartition)) taken.Add(write.Batch);
            else kept.Enqueue(write);
        }
        while (kept.TryDequeue(out var write)) _inflight.Enqueue(write);
        taken.AddRange(_failed.Where(b => matches(b.TopicPartition)));
        _failed.RemoveAll(b => matches(b.TopicPartition));
        return taken;
    }

    /// <summary>
    /// Gives up batches that will not be committed: the fence stops any file of theirs from being published from
    /// now on, and every file they did publish is deleted once their writes stopped, unless the object at that key
    /// is no longer the one we wrote (the partition's new owner rewrote it). Such a file would otherwise stay
    /// beside the new owner's replay, which may cut the batches at other offsets: its events would be there twice.
    /// </summary>
    private void Abandon(List<PartitionBatch> batches, DateTime deadline)
    {
        if (batches.Count == 0) return;
        foreach (var batch in batches)
        {
            batch.Fence.Cancel();
            batch.Span?.SetStatus(ActivityStatusCode.Error, "abandoned").Dispose();
            batch.Span = null;
        }
        var writes = batches.Where(b => b.Write is { IsCompleted: false }).Select(b => (Task)b.Write!).ToArray();
        if (writes.Length > 0) ((IAsyncResult)Task.WhenAll(writes).ContinueWith(_ => { }, TaskScheduler.Default)).AsyncWaitHandle.WaitOne(Min(_writeWait, deadline - DateTime.UtcNow));
        var deletes = new List<Task>();
        foreach (var batch in batches)
        {
            if (batch.Write is { IsCompleted: false } running)
            {
                // A write that ignores cancellation: take its files back whenever it does stop.
                LogAbandonedWriteStillRunning(batch.TopicPartition.Topic, batch.TopicPartition.Partition.Value, batch.FirstOffset);
                running.ContinueWith(_ => DeleteOwnFilesAsync(batch), TaskScheduler.Default);
                continue;
            }
            deletes.Add(DeleteOwnFilesAsync(batch));
        }
        // One bound for all the deletes (they never throw): the caller may be a rebalance callback.
        if (deletes.Count > 0 && !((IAsyncResult)Task.WhenAll(deletes)).AsyncWaitHandle.WaitOne(_writeWait)) LogAbandonedDeletesSlow(deletes.Count);
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
                LogAbandonedKept(tp.Topic, tp.Partition.Value, batch.FirstOffset, batch.LastOffset);
                return;
            }
        }
        catch (Exception ex)
        {
            LogAbandonedDeleteFailed(ex, PartitionPosition.KeyOf(batch.TopicPartition.Topic, batch.TopicPartition.Partition.Value));
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
                LogAbandonedDeleteFailed(ex, key);
            }
        }
        LogAbandoned(batch.TopicPartition.Topic, batch.TopicPartition.Partition.Value, batch.FirstOffset, batch.LastOffset, deleted);
    }

    private void RetryCleanup(IConsumer<byte[]?, byte[]?> consumer)
    {
        var waiting = _needsCleanup.Keys.ToList();
        consumer.Pause(waiting);
        if (time.GetUtcNow().UtcDateTime < _nextRetryUtc) return;
        try
        {
            var plans = PlanResume(consumer, waiting);
            foreach (var (tp, plan) in plans)
            {
                consumer.Seek(new TopicPartitionOffset(tp, new Offset(plan.Offset)));
                _needsCleanup.Remove(tp);
                _open.Remove(tp);
            }
            if (_failed.Count == 0)
            {
                consumer.Resume(waiting);
                state.Recover();
            }
        }
        catch (Exception ex)
        {
            LogCleanupFailed(ex, waiting.Count);
            _retryAttempt++;
            ScheduleRetry();
        }
    }

    /// <summary>Runs lake work from the consume thread, never longer than the write-wait bound (then cancelled and reported as failed).</summary>
    private void RunBounded(Func<CancellationToken, Task> work)
    {
        using var timeout = new CancellationTokenSource(_writeWait);
        var task = work(timeout.Token);
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(_writeWait))
        {
            timeout.Cancel();
            throw new TimeoutException($"Lake clean-up took longer than {_writeWait}.");
        }
        task.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Deletes the batch files (events and malformed) a plan proves uncommitted: of the partition's current epoch, at
    /// or above the lake's position (a crashed or abandoned batch's leftovers, which the resumed stream writes again).
    /// </summary>
    private async Task RemoveUncommittedFilesAsync(IReadOnlyDictionary<TopicPartition, ResumePlan> plans, CancellationToken cancellationToken)
    {
        var from = plans.Where(p => p.Value.RemoveFrom is not null)
            .ToDictionary(p => (p.Key.Topic, p.Key.Partition.Value), p => (p.Value.Epoch, From: p.Value.RemoveFrom!.Value));
        if (from.Count == 0) return;
        var removed = 0;
        foreach (var prefix in new[] { LakeLayout.EventsTable + "/", LakeLayout.EventsMalformed + "/" })
        {
            foreach (var o in await lake.ListAsync(prefix, cancellationToken))
            {
                if (EventFileNames.TryParseBatch(EventFileNames.FileName(o.Key), out var b)
                    && from.TryGetValue((b.Topic, b.Partition), out var c) && b.Epoch == c.Epoch && b.FirstOffset >= c.From)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await lake.DeleteAsync(o.Key, cancellationToken);
                    removed++;
                }
            }
        }
        if (removed > 0) LogRemovedUncommitted(removed);
    }
}
