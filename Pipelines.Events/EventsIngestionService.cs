using System.Diagnostics;
using CustomerData.Contracts;
using CustomerData.Lake;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// Pipeline C: consumes <c>customer-events</c>, decodes permissively, writes one Parquet file per
/// (partition batch, event_date) named from the data, and commits the partition's offset only after the
/// files are durable. Each partition batches on its own, so a replay cuts the same batches and rewrites the
/// same keys; on assignment, files a crashed batch left above the committed offset are removed.
/// A failing write pauses consumption and is retried with backoff; nothing is committed until it succeeds.
/// </summary>
public sealed partial class EventsIngestionService(
    EventsConsumerFactory consumerFactory,
    ILakeStorage lake,
    IOptions<EventsOptions> options,
    IngestionState state,
    WriterSchemas schemas,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<EventsIngestionService> logger) : BackgroundService
{
    private readonly EventsOptions _options = options.Value;
    private readonly Dictionary<TopicPartition, PartitionBatch> _open = [];
    private readonly Dictionary<TopicPartition, long> _nextOffset = [];
    private readonly HashSet<TopicPartition> _atEnd = [];
    private readonly List<PartitionBatch> _failed = [];
    private readonly Queue<InFlightWrite> _inflight = new();
    private readonly Dictionary<TopicPartition, Offset> _needsCleanup = [];
    private readonly Dictionary<TopicPartition, ResumePlan> _plans = [];
    // The last write started per partition: the next batch publishes its lake position only after this one did.
    private readonly Dictionary<TopicPartition, Task<int>> _lastWrite = [];
    private readonly TopicIncarnation _incarnation = new(consumerFactory, time);
    private int _retryAttempt;
    private DateTime _nextRetryUtc;
    private bool _paused;
    private bool _assignmentChanged;
    private bool _firstSeen;
    private TimeSpan _writeWait = TimeSpan.FromSeconds(60);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => ConsumeLoop(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void ConsumeLoop(CancellationToken stoppingToken)
    {
        // Every wait of this loop is bounded well under max.poll.interval.ms: past it the group evicts us.
        _writeWait = _options.EffectiveWriteWait(consumerFactory.Config().MaxPollIntervalMs);
        if (!ClaimLake(stoppingToken)) return;
        using var consumer = consumerFactory.Create(
            (c, partitions) => OnAssigned(c, partitions),
            (c, partitions) => OnRevoked(c, partitions),
            (c, partitions) => OnLost(c, partitions));
        consumer.Subscribe(_options.Topic);
        LogStarted(_options.Topic, _options.GroupId);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (_inflight.Count > 0) CompleteWrites(consumer, drain: false);
                if (_needsCleanup.Count > 0) RetryCleanup(consumer);
                if (_failed.Count > 0 && time.GetUtcNow().UtcDateTime >= _nextRetryUtc) RetryFailed(consumer);

                ConsumeResult<byte[]?, byte[]?>? result;
                try
                {
                    result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                }
                catch (KafkaException ex) when (ex.Error.IsFatal)
                {
                    // The client cannot go on (e.g. fenced by a newer instance): stop without committing anything more.
                    state.Fail($"fatal Kafka error {ex.Error.Code}: {ex.Error.Reason}");
                    LogFatalConsumeError(ex.Error.Code, ex.Error.Reason);
                    lifetime.StopApplication();
                    return;
                }
                catch (ConsumeException ex)
                {
                    LogConsumeError(ex, ex.Error.Code, ex.Error.Reason);
                    continue;
                }
                if (_assignmentChanged)
                {
                    // Paused state follows our own bookkeeping, not whatever the previous assignment left.
                    _assignmentChanged = false;
                    if (_failed.Count > 0) Pause(consumer);
                    else Resume(consumer);
                }
                if (_failed.Count > 0 && !_paused) Pause(consumer);
                if (result is null)
                {
                    CloseCaughtUpBatches(consumer);
                    continue;
                }
                if (result.IsPartitionEOF)
                {
                    _atEnd.Add(result.TopicPartition);
                    CloseCaughtUpBatches(consumer);
                    continue;
                }
                Accept(consumer, result);
            }
            // A clean stop: write what is buffered so a restart starts right there.
            if (_failed.Count == 0 && _needsCleanup.Count == 0)
            {
                foreach (var batch in _open.Values.Where(b => !b.IsEmpty).ToList()) CloseBatch(consumer, batch);
            }
            CompleteWrites(consumer, drain: true);
            // Writes still hanging after the bound are given up (their files deleted) before we leave the group.
            Abandon(TakeBatches(_ => true), Deadline());
        }
        finally
        {
            consumer.Close();
            _incarnation.Dispose();
        }
    }

    /// <summary>
    /// Makes sure the lake belongs to this consumer group (see <see cref="LakeIdentity"/>). Another group's lake:
    /// refuse to run (health Unhealthy, the host stops) unless <see cref="EventsOptions.AdoptLake"/>, which first
    /// copies the old group's committed offsets to this group and then records this group as the owner.
    /// </summary>
    private bool ClaimLake(CancellationToken stoppingToken)
    {
        var ours = new LakeIdentity(_options.GroupId, _options.Topic, DateTime.UtcNow);
        for (var attempt = 0; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                var owner = LakeIdentity.ReadOrClaimAsync(lake, ours, stoppingToken).WaitAsync(_writeWait, stoppingToken).GetAwaiter().GetResult();
                if (owner.GroupId == _options.GroupId)
                {
                    if (attempt > 0) state.Recover();
                    return true;
                }
                if (!_options.AdoptLake || _options.Topic.StartsWith('^'))
                {
                    state.Fail($"the events lake {lake.RootUri} belongs to consumer group '{owner.GroupId}' ({LakeIdentity.Key}), not '{_options.GroupId}'; "
                        + $"this group would replay the topic and store events a second time. Set Events:GroupId back to '{owner.GroupId}', "
                        + "or Events:AdoptLake=true (plain topic only) to go on where that group stopped, after stopping its instances.");
                    LogLakeOwnedByAnotherGroup(lake.RootUri, owner.GroupId, _options.GroupId);
                    lifetime.StopApplication();
                    return false;
                }
                var copied = consumerFactory.CopyCommittedOffsets(owner.GroupId, _options.Topic, TimeSpan.FromSeconds(10));
                lake.PublishAsync(LakeIdentity.Key, (ours with { AdoptedFrom = owner.GroupId }).ToJson(), stoppingToken).WaitAsync(_writeWait, stoppingToken).GetAwaiter().GetResult();
                LogLakeAdopted(lake.RootUri, owner.GroupId, _options.GroupId, string.Join(", ", copied.Select(c => $"{c.Partition.Value}@{c.Offset.Value}")));
                if (attempt > 0) state.Recover();
                return true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                state.Degrade("checking the lake's owning group failed: " + ex.Message);
                LogLakeIdentityFailed(ex);
                stoppingToken.WaitHandle.WaitOne(TimeSpan.FromTicks(Math.Min(_options.RetryMaxDelay.Ticks, _options.RetryInitialDelay.Ticks << Math.Min(attempt, 20))));
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return false;
    }

    private void Accept(IConsumer<byte[]?, byte[]?> consumer, ConsumeResult<byte[]?, byte[]?> result)
    {
        var tp = result.TopicPartition;
        var offset = result.Offset.Value;
        // (Count checks first: this runs per message, and hashing a TopicPartition hashes its topic name.)
        if (_needsCleanup.Count > 0 && _needsCleanup.ContainsKey(tp)) return; // replayed from the committed offset after clean-up
        if (_nextOffset.TryGetValue(tp, out var next) && offset < next) return; // already in a batch
        if (_atEnd.Count > 0) _atEnd.Remove(tp);
        if (!_firstSeen)
        {
            _firstSeen = true;
            state.RecordSeen();
        }
        var kafkaUtc = result.Message.Timestamp.Type == TimestampType.NotAvailable
            ? time.GetUtcNow().UtcDateTime
            : result.Message.Timestamp.UtcDateTime;
        if (!_open.TryGetValue(tp, out var batch))
        {
            _open[tp] = batch = new PartitionBatch(tp) { Plan = _plans.GetValueOrDefault(tp) };
        }
        else if (!batch.IsEmpty && _failed.Count == 0 && kafkaUtc - batch.FirstRecordUtc >= _options.MaxBatchSpan)
        {
            // Record time closes the batch before this record: data-driven, so a replay cuts it the same way.
            CloseBatch(consumer, batch);
            _open[tp] = batch = new PartitionBatch(tp) { Plan = batch.Plan };
        }

        batch.Add(offset, result.Message.Key, result.Message.Value, kafkaUtc, time.GetUtcNow().UtcDateTime);
        _nextOffset[tp] = offset + 1;
        if (batch.Links.Count < _options.MaxTraceLinksPerBatch && EventsTelemetry.Source.HasListeners())
        {
            var parent = KafkaTraceContext.Extract(result.Message.Headers);
            if (parent != default) batch.Links.Add(new ActivityLink(parent));
        }
        if (_failed.Count == 0 && (batch.Count >= _options.MaxBatchRecords || batch.Bytes >= _options.MaxBatchBytes))
        {
            CloseBatch(consumer, batch);
            _open.Remove(tp);
        }
    }

    /// <summary>
    /// A slow stream: when a partition is caught up (end of log) and its batch's first record is already
    /// <see cref="EventsOptions.MaxBatchSpan"/> old, waiting longer cannot make the batch any more complete.
    /// </summary>
    private void CloseCaughtUpBatches(IConsumer<byte[]?, byte[]?> consumer)
    {
        if (_failed.Count > 0 || _open.Count == 0) return;
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var batch in _open.Values.ToList())
        {
            if (!batch.IsEmpty && _atEnd.Contains(batch.TopicPartition) && now - batch.FirstRecordUtc >= _options.MaxBatchSpan)
            {
                CloseBatch(consumer, batch);
                _open.Remove(batch.TopicPartition);
            }
        }
    }

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
        using var activity = EventsTelemetry.Source.StartActivity("events.batch", ActivityKind.Consumer, parentContext: default, links: batch.Links, startTime: startedAt);
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
        var write = batch.Write = Task.Run(() => WriteBatchAsync(batch, previous));
        _lastWrite[tp] = write;
        return write;
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

    private IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions)
    {
        // An exception thrown here would escape Consume and end the consume loop: everything is caught.
        _assignmentChanged = true;
        try
        {
            state.IsCompactionLeader = consumer.Assignment.Concat(partitions).Any(tp => tp.Topic == _options.Topic && tp.Partition.Value == 0);
            foreach (var tp in partitions)
            {
                _open.Remove(tp);
                _atEnd.Remove(tp);
                _nextOffset.Remove(tp);
            }
            var plans = PlanResume(consumer, partitions);
            LogAssigned(string.Join(", ", plans.Select(p => $"{p.Key.Partition.Value}@{p.Value.Offset} ({p.Value.Kind}, epoch {p.Value.Epoch})")));
            return plans.Select(p => new TopicPartitionOffset(p.Key, new Offset(p.Value.Offset))).ToList();
        }
        catch (Exception ex)
        {
            // Nothing of these partitions is consumed until the plan and clean-up succeed (see RetryCleanup).
            LogCleanupFailed(ex, partitions.Count);
            foreach (var tp in partitions) _needsCleanup[tp] = Offset.Unset;
            state.Degrade("clean-up after assignment failed: " + ex.Message);
            return partitions.Select(tp => new TopicPartitionOffset(tp, Offset.Unset)).ToList();
        }
    }

    /// <summary>
    /// Decides for each partition where it resumes (see <see cref="ResumePlan.Decide"/>: the lake's position rules, not
    /// the group's committed offset), deletes the batch files it can prove uncommitted and records the partition's
    /// position (first assignment, new epoch, past retention) before any batch of it is written.
    /// </summary>
    private Dictionary<TopicPartition, ResumePlan> PlanResume(IConsumer<byte[]?, byte[]?> consumer, IReadOnlyList<TopicPartition> partitions)
    {
        var committed = consumer.Committed(partitions.ToList(), KafkaWait).ToDictionary(c => c.TopicPartition, c => c.Offset.Value);
        var (topicIds, clusterId) = _incarnation.Lookup(consumer, partitions.Select(tp => tp.Topic).Distinct().ToList(), KafkaWait);
        var plans = new Dictionary<TopicPartition, ResumePlan>();
        var publish = new List<PartitionPosition>();
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var tp in partitions)
        {
            var marks = consumer.QueryWatermarkOffsets(tp, KafkaWait);
            PartitionPosition? position = null;
            RunBounded(async ct => position = await PartitionPosition.ReadAsync(lake, tp.Topic, tp.Partition.Value, ct));
            var groupOffset = committed.GetValueOrDefault(tp, Offset.Unset.Value);
            var plan = ResumePlan.Decide(position, groupOffset, marks.Low.Value, marks.High.Value, topicIds.GetValueOrDefault(tp.Topic), clusterId);
            plans[tp] = plan;
            switch (plan.Kind)
            {
                case ResumeKind.NewEpoch:
                    LogNewEpoch(tp.Topic, tp.Partition.Value, plan.Epoch, position!.NextOffset, marks.High.Value, position.TopicId, plan.TopicId, position.ClusterId, plan.ClusterId);
                    break;
                case ResumeKind.PastRetention:
                    EventsTelemetry.OffsetsPastRetention.Add(plan.Offset - position!.NextOffset);
                    LogPastRetention(tp.Topic, tp.Partition.Value, position.NextOffset, plan.Offset, plan.Offset - position.NextOffset);
                    state.Degrade($"partition {tp.Partition.Value}: offsets {position.NextOffset}..{plan.Offset - 1} were deleted by retention before the lake got them");
                    break;
                case ResumeKind.LakePosition when groupOffset != plan.Offset:
                    LogGroupOffsetIgnored(tp.Topic, tp.Partition.Value, groupOffset, plan.Offset);
                    break;
            }
            if (position is null || plan.Kind is ResumeKind.NewEpoch or ResumeKind.PastRetention
                || position.TopicId != plan.TopicId || position.ClusterId != plan.ClusterId)
            {
                publish.Add(plan.Position(tp.Topic, tp.Partition.Value, plan.Offset, now));
            }
        }
        RunBounded(ct => RemoveUncommittedFilesAsync(plans, ct));
        RunBounded(async ct =>
        {
            foreach (var p in publish) await lake.PublishAsync(p.Key, p.ToJson(), ct);
        });
        foreach (var (tp, plan) in plans)
        {
            _plans[tp] = plan;
            _nextOffset[tp] = plan.Offset;
        }
        return plans;
    }

    private void OnRevoked(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        // An exception thrown here would escape Consume and end the consume loop: everything is caught.
        try
        {
            Revoke(consumer, partitions);
        }
        catch (Exception ex)
        {
            LogRebalanceHandlerFailed(ex, "revoke");
        }
    }

    private void Revoke(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        // Writes in flight finish and commit while we still own their partitions, within the bound: the group
        // waits for this callback, and past max.poll.interval.ms it would evict us and hand the partitions on.
        var deadline = Deadline();
        CompleteWrites(consumer, drain: true, deadline);
        // What did not finish in time (or failed) is given up: not committed, its files deleted; the next owner replays it.
        var revoked = partitions.Select(p => p.TopicPartition).ToHashSet();
        Abandon(TakeBatches(revoked.Contains), deadline);
        // librdkafka keeps a partition's pause flag across assignments: never hand one back paused.
        consumer.Resume(revoked);
        Forget(revoked);
        LogRevoked(string.Join(", ", partitions.Select(p => p.Partition.Value)));
    }

    /// <summary>
    /// The partitions were taken away without a revoke (session timeout, max.poll.interval.ms passed): another
    /// member may own and replay them already. Nothing of them is committed; their in-flight batches are fenced
    /// and whatever files those published are deleted, but only while the object is still the one we wrote.
    /// </summary>
    private void OnLost(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        try
        {
            Lose(consumer, partitions);
        }
        catch (Exception ex)
        {
            LogRebalanceHandlerFailed(ex, "lost");
        }
    }

    private void Lose(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        var lost = partitions.Select(p => p.TopicPartition).ToHashSet();
        var abandoned = TakeBatches(lost.Contains);
        LogLost(string.Join(", ", partitions.Select(p => p.Partition.Value)), abandoned.Count);
        Abandon(abandoned, Deadline());
        Forget(lost);
        try
        {
            consumer.Resume(lost); // the pause flag would outlive the assignment
        }
        catch (KafkaException ex)
        {
            LogConsumeError(ex, ex.Error.Code, ex.Error.Reason); // an exception here would escape Consume
        }
    }

    /// <summary>Drops the bookkeeping of partitions this member no longer holds: their open batches are dropped (the next owner replays them).</summary>
    private void Forget(IReadOnlySet<TopicPartition> partitions)
    {
        foreach (var tp in partitions)
        {
            _open.Remove(tp);
            _atEnd.Remove(tp);
            _nextOffset.Remove(tp);
            _needsCleanup.Remove(tp);
            _plans.Remove(tp);
            _lastWrite.Remove(tp);
            EventsTelemetry.ForgetLag(tp.Partition.Value);
            if (tp.Partition.Value == 0) state.IsCompactionLeader = false;
        }
        if (_failed.Count == 0 && _needsCleanup.Count == 0) state.Recover();
    }

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
        foreach (var batch in batches) batch.Fence.Cancel();
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
            if (await PartitionPosition.ReadAsync(lake, tp.Topic, tp.Partition.Value) is { } position
                && position.Holds(new BatchFileName(tp.Topic, tp.Partition.Value, batch.FirstOffset) { Epoch = batch.Epoch }))
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Topic}/{Partition} is another topic incarnation than the lake's (lake position {LakeNextOffset}, log end {LogEnd}, topic id {LakeTopicId} -> {TopicId}, cluster {LakeClusterId} -> {ClusterId}): epoch {Epoch} starts at the log start; the lake's events stay")]
    private partial void LogNewEpoch(string topic, int partition, int epoch, long lakeNextOffset, long logEnd, string? lakeTopicId, string? topicId, string? lakeClusterId, string? clusterId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Topic}/{Partition}: the lake holds it up to offset {LakeNextOffset} but the log now starts at {LogStart}; {Lost} message(s) were deleted by retention before the lake got them. Going on from the log start")]
    private partial void LogPastRetention(string topic, int partition, long lakeNextOffset, long logStart, long lost);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Topic}/{Partition}: the group's committed offset {GroupOffset} differs from the lake's position {LakeNextOffset} (offsets expired, reset or deleted); resuming from the lake's position")]
    private partial void LogGroupOffsetIgnored(string topic, int partition, long groupOffset, long lakeNextOffset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Abandoned batch {Topic}/{Partition} offsets {FirstOffset}..{LastOffset} is held by the lake's position already: its files stay, the next owner resumes after it")]
    private partial void LogAbandonedKept(string topic, int partition, long firstOffset, long lastOffset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming {Topic} in group {GroupId}")]
    private partial void LogStarted(string topic, string groupId);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Fatal Kafka error {Code}: {Reason}; the events pipeline stops (nothing more is committed)")]
    private partial void LogFatalConsumeError(ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The {Handler} rebalance handler failed; consumption goes on")]
    private partial void LogRebalanceHandlerFailed(Exception ex, string handler);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka consume error {Code}: {Reason}")]
    private partial void LogConsumeError(Exception ex, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {Topic}/{Partition} offsets {FirstOffset}..{LastOffset}: {Events} events, {Malformed} malformed, {Files} files in {ElapsedMs} ms")]
    private partial void LogBatch(string topic, int partition, long firstOffset, long lastOffset, int events, int malformed, int files, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Batch {Topic}/{Partition} offsets {FirstOffset}..{LastOffset} failed; consumption paused, nothing committed, will retry")]
    private partial void LogBatchFailed(Exception ex, string topic, int partition, long firstOffset, long lastOffset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed message {Topic}/{Partition}@{Offset}: {Reason} ({Detail}); raw Base64 starts {RawBase64Prefix}")]
    private partial void LogMalformedSample(string topic, int partition, long offset, string reason, string detail, string rawBase64Prefix);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed share of batch {Topic}/{Partition}@{FirstOffset} is {Malformed}/{Total} ({Share:P1}), above the {Threshold:P1} threshold")]
    private partial void LogMalformedShare(string topic, int partition, long firstOffset, int malformed, int total, double share, double threshold);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retrying in {DelaySeconds} s; {Waiting} batch(es) waiting")]
    private partial void LogRetryScheduled(double delaySeconds, int waiting);

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting batches written; consumption resumed")]
    private partial void LogRecovered();

    [LoggerMessage(Level = LogLevel.Error, Message = "Clean-up of {Partitions} assigned partition(s) failed; they stay paused until it succeeds")]
    private partial void LogCleanupFailed(Exception ex, int partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Assigned partitions (partition@resume offset): {Partitions}")]
    private partial void LogAssigned(string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked partitions {Partitions}; their open batches are dropped (not committed)")]
    private partial void LogRevoked(string partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost partitions {Partitions} (not revoked: another member may own them already); {Batches} batch(es) in flight abandoned, nothing committed")]
    private partial void LogLost(string partitions, int batches);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Abandoned batch {Topic}/{Partition} offsets {FirstOffset}..{LastOffset}: not committed, {Files} published file(s) deleted")]
    private partial void LogAbandoned(string topic, int partition, long firstOffset, long lastOffset, int files);

    [LoggerMessage(Level = LogLevel.Error, Message = "Abandoned batch {Topic}/{Partition}@{FirstOffset}: its write is still running past the bound; its files are deleted when it stops")]
    private partial void LogAbandonedWriteStillRunning(string topic, int partition, long firstOffset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting the files of {Batches} abandoned batch(es) takes longer than the bound; it goes on in the background")]
    private partial void LogAbandonedDeletesSlow(int batches);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not delete {Key} of an abandoned batch; the partition's next clean-up on assignment removes it")]
    private partial void LogAbandonedDeleteFailed(Exception ex, string key);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The events lake {LakeRoot} belongs to consumer group {OwnerGroupId}, not {GroupId}: refusing to run (a new group would store the topic a second time). Set Events:GroupId back, or Events:AdoptLake=true to take the lake over")]
    private partial void LogLakeOwnedByAnotherGroup(string lakeRoot, string ownerGroupId, string groupId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Adopted the events lake {LakeRoot} from consumer group {OldGroupId}: group {GroupId} goes on from its committed offsets {Offsets}")]
    private partial void LogLakeAdopted(string lakeRoot, string oldGroupId, string groupId, string offsets);

    [LoggerMessage(Level = LogLevel.Error, Message = "Checking the events lake's owning group failed; retrying")]
    private partial void LogLakeIdentityFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removed {Files} file(s) a crashed batch left above the committed offset")]
    private partial void LogRemovedUncommitted(int files);
}
