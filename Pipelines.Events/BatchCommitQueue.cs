using System.Diagnostics;
using Confluent.Kafka;
using CustomerData.Contracts.Quality;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// The batch commit queue: closed batches are written on the pool (up to <see cref="EventsOptions.MaxBatchesInFlight"/>
/// at once, consuming goes on meanwhile) and committed on the consume thread strictly in closing order, each after its
/// files and lake position are durable. A failed batch, and every batch closed after it, waits for a retry
/// (<see cref="RetryBackoff"/>) while the assignment is paused; nothing later is committed before it.
/// </summary>
internal sealed class BatchCommitQueue(
    Func<PartitionBatch, Task<int>> startWrite,
    PartitionTracking partitions,
    IngestionState state,
    EventsOptions options,
    RetryBackoff backoff,
    WaitBounds bounds,
    TimeProvider time,
    ILogger logger)
{
    private readonly Queue<InFlightWrite> _inflight = new();
    private readonly List<PartitionBatch> _failed = [];

    public bool HasInFlight => _inflight.Count > 0;

    /// <summary>Batches waiting for a retry (a failed one and every one closed after it).</summary>
    public bool HasFailed => _failed.Count > 0;

    public bool IsPaused { get; private set; }

    /// <summary>A closed batch: its write starts (or, behind a failed batch, it waits for the retry).</summary>
    public void Close(IConsumer<byte[]?, byte[]?> consumer, PartitionBatch batch)
    {
        if (_failed.Count > 0)
        {
            _failed.Add(batch);
            return;
        }
        var write = startWrite(batch);
        _inflight.Enqueue(new InFlightWrite(batch, write, time.GetUtcNow(), time.GetTimestamp()));
        CompleteWrites(consumer, drain: false);
    }

    /// <summary>
    /// Commits the finished writes at the head of the queue; waits while too many are in flight, or for all of them
    /// when draining, never past <paramref name="deadline"/> (default: the write-wait bound). A write running longer
    /// than the bound counts as failed (retried later, nothing committed); when draining it is left in the queue.
    /// </summary>
    public void CompleteWrites(IConsumer<byte[]?, byte[]?> consumer, bool drain, DateTimeOffset? deadline = null)
    {
        var until = deadline ?? bounds.Deadline();
        while (_inflight.Count > 0)
        {
            var head = _inflight.Peek();
            if (_failed.Count == 0 && !head.Write.IsCompleted)
            {
                var running = time.GetElapsedTime(head.Started);
                if (!drain && running < bounds.WriteWait && _inflight.Count <= Math.Max(1, options.MaxBatchesInFlight)) return;
                var wait = WaitBounds.Min(bounds.WriteWait - running, bounds.Until(until));
                if (!((IAsyncResult)head.Write).AsyncWaitHandle.WaitOne(wait) && drain) return;
            }
            _inflight.Dequeue();
            if (_failed.Count > 0)
            {
                // An earlier batch failed: later ones wait for the retry too, so commits stay in order.
                _failed.Add(head.Batch);
                continue;
            }
            if (!Commit(consumer, head.Batch, head.Write, head.StartedAt, head.Started))
            {
                _failed.Add(head.Batch);
                logger.LogRetryScheduled(backoff.Restart().TotalSeconds, _failed.Count);
                Pause(consumer);
            }
        }
    }

    /// <summary>Writes and commits the waiting batches in order once the backoff is due; the first failure schedules the next attempt.</summary>
    public void RetryFailed(IConsumer<byte[]?, byte[]?> consumer)
    {
        if (_failed.Count == 0 || !backoff.IsDue) return;
        var deadline = bounds.Deadline();
        while (_failed.Count > 0)
        {
            if (!TryWriteAndCommit(consumer, _failed[0], deadline))
            {
                logger.LogRetryScheduled(backoff.Again().TotalSeconds, _failed.Count);
                return;
            }
            _failed.RemoveAt(0);
        }
        state.Recover();
        Resume(consumer);
        logger.LogRecovered();
    }

    /// <summary>Removes the closed batches (in flight or waiting for a retry) of the matching partitions from the queue, keeping the others in order.</summary>
    public List<PartitionBatch> TakeBatches(Func<TopicPartition, bool> matches)
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

    public void Pause(IConsumer<byte[]?, byte[]?> consumer)
    {
        consumer.Pause(consumer.Assignment);
        IsPaused = true;
    }

    /// <summary>Resumes the assignment, except partitions still waiting for their clean-up.</summary>
    public void Resume(IConsumer<byte[]?, byte[]?> consumer)
    {
        consumer.Resume(consumer.Assignment.Where(tp => !partitions.AwaitingCleanup.Contains(tp)).ToList());
        IsPaused = false;
    }

    private bool TryWriteAndCommit(IConsumer<byte[]?, byte[]?> consumer, PartitionBatch batch, DateTimeOffset deadline)
    {
        var startedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        // A write that timed out may still be running: wait for it rather than racing it with a second one.
        var write = batch.Write is { IsFaulted: false, IsCanceled: false } running ? running : startWrite(batch);
        ((IAsyncResult)write).AsyncWaitHandle.WaitOne(WaitBounds.Min(bounds.WriteWait, bounds.Until(deadline)));
        return Commit(consumer, batch, write, startedAt, started);
    }

    private bool Commit(IConsumer<byte[]?, byte[]?> consumer, PartitionBatch batch, Task<int> write, DateTimeOffset startedAt, long started)
    {
        // The span opened with the write (its lake spans are children), or one of its own for a retry of a write still running.
        using var activity = batch.Span ?? EventsTelemetry.StartBatchSpan(batch, startedAt);
        batch.Span = null;
        activity?.SetTag("messaging.destination.name", batch.TopicPartition.Topic);
        activity?.SetTag("messaging.destination.partition.id", batch.TopicPartition.Partition.Value);
        activity?.SetTag("messaging.kafka.offset.first", batch.FirstOffset);
        activity?.SetTag("messaging.kafka.offset.last", batch.LastOffset);
        activity?.SetTag("messaging.batch.message_count", batch.Count);
        try
        {
            var files = write.IsCompleted ? write.GetAwaiter().GetResult()
                : throw new TimeoutException($"Writing the batch took longer than {bounds.WriteWait} (Events:WriteWaitTimeout); it is retried.");
            var next = new TopicPartitionOffset(batch.TopicPartition, new Offset(batch.LastOffset + 1));
            // Fence: never commit for a partition this member no longer holds (its revoke/lost handler abandons the batch).
            if (!consumer.Assignment.Contains(batch.TopicPartition)) throw new InvalidOperationException($"Partition {batch.TopicPartition} is no longer assigned to this member.");
            consumer.Commit([next]);
            var elapsed = time.GetElapsedTime(started);
            EventsTelemetry.BatchDuration.Record(elapsed.TotalSeconds);
            EventsTelemetry.RecordWritten(batch.Events.Count);
            var watermarks = consumer.GetWatermarkOffsets(batch.TopicPartition);
            if (watermarks.High != Offset.Unset)
            {
                EventsTelemetry.SetLag(batch.TopicPartition.Partition.Value, watermarks.High.Value - next.Offset.Value);
                partitions.Lag[batch.TopicPartition.Partition.Value] = Math.Max(0, watermarks.High.Value - next.Offset.Value);
            }
            state.BatchCommitted(batch.Count);
            RecordQuality(batch, startedAt);
            activity?.SetTag("events.files", files);
            logger.LogBatch(batch.TopicPartition.Topic, batch.TopicPartition.Partition.Value, batch.FirstOffset, batch.LastOffset,
                batch.Events.Count, batch.Malformed.Count, files, elapsed.TotalMilliseconds);
            ReportMalformed(batch);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            EventsTelemetry.BatchFailures.Add(1);
            logger.LogBatchFailed(ex, batch.TopicPartition.Topic, batch.TopicPartition.Partition.Value, batch.FirstOffset, batch.LastOffset);
            state.Degrade(ex.Message);
            return false;
        }
    }

    /// <summary>
    /// The committed batch's checks into <c>/quality</c> and the <c>quality.*</c> metrics: malformed messages by reason, each
    /// sample its place and the decoder's detail (never the payload), the newest Kafka time as freshness, the lag.
    /// </summary>
    private void RecordQuality(PartitionBatch batch, DateTimeOffset startedAt)
    {
        var rejects = batch.Malformed.GroupBy(m => m.Reason, StringComparer.Ordinal)
            .Select(g => new QualityReasonCount(g.Key, g.Count(),
                g.Take(options.MalformedSamplesPerBatch).Select(m => $"partition={m.Partition} offset={m.Offset} {m.Detail}").ToList()))
            .ToList();
        state.Quality.Record(new QualityCycle("batch", startedAt.UtcDateTime, time.GetUtcNow().UtcDateTime, true, batch.Count,
            rejects, [], batch.LastRecordUtc, partitions.Lag.Values.Sum()));
    }

    private void ReportMalformed(PartitionBatch batch)
    {
        if (batch.Malformed.Count == 0) return;
        foreach (var group in batch.Malformed.GroupBy(m => m.Reason))
        {
            EventsTelemetry.Malformed.Add(group.Count(), new KeyValuePair<string, object?>("reason", group.Key));
        }
        foreach (var sample in batch.Malformed.Take(options.MalformedSamplesPerBatch))
        {
            // A prefix only: enough to tell the kind of garbage, never a whole payload (it may hold personal data).
            logger.LogMalformedSample(sample.Topic, sample.Partition, sample.Offset, sample.Reason, sample.Detail,
                sample.RawBase64.Length <= 32 ? sample.RawBase64 : sample.RawBase64[..32] + "…");
        }
        var share = (double)batch.Malformed.Count / batch.Count;
        if (share > options.MalformedAlertRatio)
        {
            EventsTelemetry.MalformedAlerts.Add(1);
            logger.LogMalformedShare(batch.TopicPartition.Topic, batch.TopicPartition.Partition.Value, batch.FirstOffset, batch.Malformed.Count, batch.Count, share, options.MalformedAlertRatio);
        }
    }

    private sealed record InFlightWrite(PartitionBatch Batch, Task<int> Write, DateTimeOffset StartedAt, long Started);
}
