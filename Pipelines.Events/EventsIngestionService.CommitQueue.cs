using System.Diagnostics;
using CustomerData.Contracts;
using CustomerData.Lake;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events;

// The batch commit queue: writes in flight, commits in closing order, retries with backoff.
public sealed partial class EventsIngestionService
{
    /// <summary>
    /// Starts writing a closed batch on the thread pool, so consuming and decoding go on meanwhile; up to
    /// <see cref="EventsOptions.MaxBatchesInFlight"/> writes run at once. Commits happen on the consume thread,
    /// strictly in closing order, each after its batch's files are durable.
    /// </summary>
    private void CloseBatch(IConsumer<byte[]?, byte[]?> consumer, PartitionBatch batch)
    {
        if (_failed.Count > 0)
        {
            _failed.Add(batch);
            return;
        }
        var write = StartWrite(batch);
        _inflight.Enqueue(new InFlightWrite(batch, write, DateTimeOffset.UtcNow, Stopwatch.GetTimestamp()));
        CompleteWrites(consumer, drain: false);
    }

    /// <summary>
    /// Commits the finished writes at the head of the queue; waits while too many are in flight, or for all of them
    /// when draining, never past <paramref name="deadline"/> (default: the write-wait bound). A write running longer
    /// than the bound counts as failed (retried later, nothing committed); when draining it is left in the queue.
    /// </summary>
    private void CompleteWrites(IConsumer<byte[]?, byte[]?> consumer, bool drain, DateTime? deadline = null)
    {
        var until = deadline ?? Deadline();
        while (_inflight.Count > 0)
        {
            var head = _inflight.Peek();
            if (_failed.Count == 0 && !head.Write.IsCompleted)
            {
                var running = Stopwatch.GetElapsedTime(head.Started);
                if (!drain && running < _writeWait && _inflight.Count <= Math.Max(1, _options.MaxBatchesInFlight)) return;
                var wait = Min(_writeWait - running, until - DateTime.UtcNow);
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
                _retryAttempt = 0;
                ScheduleRetry();
                Pause(consumer);
            }
        }
    }

    private sealed record InFlightWrite(PartitionBatch Batch, Task<int> Write, DateTimeOffset StartedAt, long Started);

    private bool TryWriteAndCommit(IConsumer<byte[]?, byte[]?> consumer, PartitionBatch batch, DateTime deadline)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var started = Stopwatch.GetTimestamp();
        // A write that timed out may still be running: wait for it rather than racing it with a second one.
        var write = batch.Write is { IsFaulted: false, IsCanceled: false } running ? running : StartWrite(batch);
        ((IAsyncResult)write).AsyncWaitHandle.WaitOne(Min(_writeWait, deadline - DateTime.UtcNow));
        return Commit(consumer, batch, write, startedAt, started);
    }

    private DateTime Deadline() => DateTime.UtcNow + _writeWait;

    /// <summary>Bound of a Kafka request from the consume thread (committed offsets, watermarks).</summary>
    private TimeSpan KafkaWait => Min(TimeSpan.FromSeconds(10), _writeWait);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? (a < TimeSpan.Zero ? TimeSpan.Zero : a) : (b < TimeSpan.Zero ? TimeSpan.Zero : b);

    private bool Commit(IConsumer<byte[]?, byte[]?> consumer, PartitionBatch batch, Task<int> write, DateTimeOffset startedAt, long started)
    {
        // The span opened with the write (its lake spans are children), or one of its own for a retry of a write still running.
        using var activity = batch.Span ?? StartBatchSpan(batch, startedAt);
        batch.Span = null;
        activity?.SetTag("messaging.destination.name", batch.TopicPartition.Topic);
        activity?.SetTag("messaging.destination.partition.id", batch.TopicPartition.Partition.Value);
        activity?.SetTag("messaging.kafka.offset.first", batch.FirstOffset);
        activity?.SetTag("messaging.kafka.offset.last", batch.LastOffset);
        activity?.SetTag("messaging.batch.message_count", batch.Count);
        try
        {
            var files = write.IsCompleted ? write.GetAwaiter().GetResult()
                : throw new TimeoutException($"Writing the batch took longer than {_writeWait} (Events:WriteWaitTimeout); it is retried.");
            var next = new TopicPartitionOffset(batch.TopicPartition, new Offset(batch.LastOffset + 1));
            // Fence: never commit for a partition this member no longer holds (its revoke/lost handler abandons the batch).
            if (!consumer.Assignment.Contains(batch.TopicPartition)) throw new InvalidOperationException($"Partition {batch.TopicPartition} is no longer assigned to this member.");
            consumer.Commit([next]);
            var elapsed = Stopwatch.GetElapsedTime(started);
            EventsTelemetry.BatchDuration.Record(elapsed.TotalSeconds);
            EventsTelemetry.RecordWritten(batch.Events.Count);
            var watermarks = consumer.GetWatermarkOffsets(batch.TopicPartition);
            if (watermarks.High != Offset.Unset) EventsTelemetry.SetLag(batch.TopicPartition.Partition.Value, watermarks.High.Value - next.Offset.Value);
            state.BatchCommitted(batch.Count);
            activity?.SetTag("events.files", files);
            LogBatch(batch.TopicPartition.Topic, batch.TopicPartition.Partition.Value, batch.FirstOffset, batch.LastOffset,
                batch.Events.Count, batch.Malformed.Count, files, elapsed.TotalMilliseconds);
            ReportMalformed(batch);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            EventsTelemetry.BatchFailures.Add(1);
            LogBatchFailed(ex, batch.TopicPartition.Topic, batch.TopicPartition.Partition.Value, batch.FirstOffset, batch.LastOffset);
            state.Degrade(ex.Message);
            return false;
        }
    }

    /// <summary>Starts the batch's write on the pool: it decodes the batch first, which must not hold up the consume thread.</summary>
    private Task<int> StartWrite(PartitionBatch batch)
    {
        var tp = batch.TopicPartition;
        var previous = _lastWrite.GetValueOrDefault(tp);
        if (previous is { IsCompletedSuccessfully: true }) previous = null;
        // The write runs under the batch's span: the lake's spans of its files are the span's children.
        var outer = Activity.Current;
        batch.Span = StartBatchSpan(batch, DateTimeOffset.UtcNow);
        Activity.Current = batch.Span;
        var write = batch.Write = Task.Run(() => WriteBatchAsync(batch, previous));
        Activity.Current = outer;
        _lastWrite[tp] = write;
        return write;
    }

    /// <summary>The batch's root span, linked to the producers' spans its messages carried (<c>traceparent</c>).</summary>
    private static Activity? StartBatchSpan(PartitionBatch batch, DateTimeOffset startedAt)
    {
        var outer = Activity.Current;
        Activity.Current = null;
        var span = EventsTelemetry.Source.StartActivity("events.batch", ActivityKind.Consumer, parentContext: default, links: batch.Links, startTime: startedAt);
        Activity.Current = outer;
        return span;
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
        return files;
    }

    private async Task<int> WriteFilesAsync(PartitionBatch batch)
    {
        batch.Decode(schemas);
        var tp = batch.TopicPartition;
        var writes = new List<Task>();
        foreach (var day in batch.Events.GroupBy(e => e.EventDate))
        {
            var rows = day.ToList();
            writes.Add(Task.Run(async () =>
            {
                var content = await EventParquet.WriteEventsAsync(rows, Math.Max(1, rows.Count), BatchMetadata(batch));
                await PublishFencedAsync(batch, EventFileNames.EventsBatchKey(day.Key, tp.Topic, tp.Partition.Value, batch.FirstOffset, batch.Epoch), content);
            }));
        }
        foreach (var day in batch.Malformed.GroupBy(m => m.KafkaDate))
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

    private static Dictionary<string, string> BatchMetadata(PartitionBatch batch) => new()
    {
        ["kafka_topic"] = batch.TopicPartition.Topic,
        ["kafka_partition"] = batch.TopicPartition.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["kafka_first_offset"] = batch.FirstOffset.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["kafka_epoch"] = batch.Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["kafka_last_offset"] = batch.LastOffset.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private void ReportMalformed(PartitionBatch batch)
    {
        if (batch.Malformed.Count == 0) return;
        foreach (var group in batch.Malformed.GroupBy(m => m.Reason))
        {
            EventsTelemetry.Malformed.Add(group.Count(), new KeyValuePair<string, object?>("reason", group.Key));
        }
        foreach (var sample in batch.Malformed.Take(_options.MalformedSamplesPerBatch))
        {
            // A prefix only: enough to tell the kind of garbage, never a whole payload (it may hold personal data).
            LogMalformedSample(sample.Topic, sample.Partition, sample.Offset, sample.Reason, sample.Detail,
                sample.RawBase64.Length <= 32 ? sample.RawBase64 : sample.RawBase64[..32] + "…");
        }
        var share = (double)batch.Malformed.Count / batch.Count;
        if (share > _options.MalformedAlertRatio)
        {
            EventsTelemetry.MalformedAlerts.Add(1);
            LogMalformedShare(batch.TopicPartition.Topic, batch.TopicPartition.Partition.Value, batch.FirstOffset, batch.Malformed.Count, batch.Count, share, _options.MalformedAlertRatio);
        }
    }

    private void RetryFailed(IConsumer<byte[]?, byte[]?> consumer)
    {
        var deadline = Deadline();
        while (_failed.Count > 0)
        {
            if (!TryWriteAndCommit(consumer, _failed[0], deadline))
            {
                _retryAttempt++;
                ScheduleRetry();
                return;
            }
            _failed.RemoveAt(0);
        }
        state.Recover();
        Resume(consumer);
        LogRecovered();
    }

    private void ScheduleRetry()
    {
        var delay = TimeSpan.FromTicks(Math.Min(_options.RetryMaxDelay.Ticks, _options.RetryInitialDelay.Ticks << Math.Min(_retryAttempt, 20)));
        _nextRetryUtc = time.GetUtcNow().UtcDateTime + delay;
        LogRetryScheduled(delay.TotalSeconds, _failed.Count);
    }

    private void Pause(IConsumer<byte[]?, byte[]?> consumer)
    {
        consumer.Pause(consumer.Assignment);
        _paused = true;
    }

    private void Resume(IConsumer<byte[]?, byte[]?> consumer)
    {
        var resumable = consumer.Assignment.Where(tp => !_needsCleanup.ContainsKey(tp)).ToList();
        consumer.Resume(resumable);
        _paused = false;
    }
}
