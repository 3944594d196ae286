using System.Diagnostics;
using CustomerData.Lake;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// Pipeline C's consume loop: consumes <c>customer-events</c> on a thread of its own (Kafka's client blocks), cuts each
/// partition's messages into batches (by record time, count or bytes, so a replay cuts the same batches) and hands
/// closed batches to the <see cref="BatchCommitQueue"/>, which writes them (<see cref="BatchWriter"/>) and commits
/// in order. The <see cref="RebalanceHandler"/> decides where assigned partitions resume; the <see cref="LakeClaim"/>
/// runs first. A fatal Kafka error stops the host (health Unhealthy, exit code 1); a clean stop writes what is
/// buffered and leaves the group (<c>Close</c>).
/// </summary>
public sealed class EventsIngestionService(
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
    private readonly PartitionTracking _partitions = new();
    private bool _firstSeen;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => ConsumeLoop(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void ConsumeLoop(CancellationToken stoppingToken)
    {
        // Every wait of this loop is bounded well under max.poll.interval.ms: past it the group evicts us.
        var bounds = new WaitBounds(_options.EffectiveWriteWait(consumerFactory.Config().MaxPollIntervalMs), time);
        var backoff = new RetryBackoff(_options.RetryInitialDelay, _options.RetryMaxDelay, time);
        var claim = new LakeClaim(lake, _options, from => consumerFactory.CopyCommittedOffsets(from, _options.Topic, TimeSpan.FromSeconds(10)),
            state, backoff, bounds, time, logger);
        if (!claim.TryClaim(stoppingToken))
        {
            if (state.FatalError is not null) lifetime.StopApplication();
            return;
        }
        var writer = new BatchWriter(lake, schemas, new PendingDaysRecorder(lake, time), bounds, time, logger);
        var queue = new BatchCommitQueue(writer.Start, _partitions, state, _options, backoff, bounds, time, logger);
        using var incarnation = new TopicIncarnation(consumerFactory, time);
        var rebalance = new RebalanceHandler(lake, _options, _partitions, queue, writer, new UncommittedFiles(lake, time, logger),
            incarnation, state, backoff, bounds, time, logger);
        using var consumer = consumerFactory.Create(rebalance.OnAssigned, rebalance.OnRevoked, rebalance.OnLost);
        consumer.Subscribe(_options.Topic);
        logger.LogStarted(_options.Topic, _options.GroupId);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (queue.HasInFlight) queue.CompleteWrites(consumer, drain: false);
                if (_partitions.AwaitingCleanup.Count > 0) rebalance.RetryCleanup(consumer);
                if (queue.HasFailed) queue.RetryFailed(consumer);

                ConsumeResult<byte[]?, byte[]?>? result;
                try
                {
                    result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                }
                catch (KafkaException ex) when (ex.Error.IsFatal)
                {
                    // The client cannot go on (e.g. fenced by a newer instance): stop without committing anything more.
                    state.Fail($"fatal Kafka error {ex.Error.Code}: {ex.Error.Reason}");
                    logger.LogFatalConsumeError(ex.Error.Code, ex.Error.Reason);
                    lifetime.StopApplication();
                    return;
                }
                catch (ConsumeException ex)
                {
                    logger.LogConsumeError(ex, ex.Error.Code, ex.Error.Reason);
                    continue;
                }
                if (_partitions.AssignmentChanged)
                {
                    // Paused state follows our own bookkeeping, not whatever the previous assignment left.
                    _partitions.AssignmentChanged = false;
                    if (queue.HasFailed) queue.Pause(consumer);
                    else queue.Resume(consumer);
                }
                if (queue.HasFailed && !queue.IsPaused) queue.Pause(consumer);
                if (result is null)
                {
                    CloseCaughtUpBatches(consumer, queue);
                    continue;
                }
                if (result.IsPartitionEOF)
                {
                    _partitions.AtEnd.Add(result.TopicPartition);
                    CloseCaughtUpBatches(consumer, queue);
                    continue;
                }
                Accept(consumer, queue, result);
            }
            // A clean stop: write what is buffered so a restart starts right there.
            if (!queue.HasFailed && _partitions.AwaitingCleanup.Count == 0)
            {
                foreach (var batch in _partitions.Open.Values.Where(b => !b.IsEmpty).ToList()) queue.Close(consumer, batch);
            }
            queue.CompleteWrites(consumer, drain: true);
            // Writes still hanging after the bound are given up (their files deleted) before we leave the group.
            writer.Abandon(queue.TakeBatches(_ => true), bounds.Deadline());
        }
        finally
        {
            consumer.Close();
        }
    }

    private void Accept(IConsumer<byte[]?, byte[]?> consumer, BatchCommitQueue queue, ConsumeResult<byte[]?, byte[]?> result)
    {
        var tp = result.TopicPartition;
        var offset = result.Offset.Value;
        // (Count checks first: this runs per message, and hashing a TopicPartition hashes its topic name.)
        if (_partitions.AwaitingCleanup.Count > 0 && _partitions.AwaitingCleanup.Contains(tp)) return; // replayed from the committed offset after clean-up
        if (_partitions.NextOffset.TryGetValue(tp, out var next) && offset < next) return; // already in a batch
        if (_partitions.AtEnd.Count > 0) _partitions.AtEnd.Remove(tp);
        if (!_firstSeen)
        {
            _firstSeen = true;
            state.RecordSeen();
        }
        var kafkaUtc = result.Message.Timestamp.Type == TimestampType.NotAvailable
            ? time.GetUtcNow().UtcDateTime
            : result.Message.Timestamp.UtcDateTime;
        var open = _partitions.Open;
        if (!open.TryGetValue(tp, out var batch))
        {
            open[tp] = batch = new PartitionBatch(tp) { Plan = _partitions.Plans.GetValueOrDefault(tp) };
        }
        else if (!batch.IsEmpty && !queue.HasFailed && kafkaUtc - batch.FirstRecordUtc >= _options.MaxBatchSpan)
        {
            // Record time closes the batch before this record: data-driven, so a replay cuts it the same way.
            queue.Close(consumer, batch);
            open[tp] = batch = new PartitionBatch(tp) { Plan = batch.Plan };
        }

        batch.Add(offset, result.Message.Key, result.Message.Value, kafkaUtc, time.GetUtcNow().UtcDateTime);
        _partitions.NextOffset[tp] = offset + 1;
        if (batch.Links.Count < _options.MaxTraceLinksPerBatch && EventsTelemetry.Source.HasListeners())
        {
            var parent = KafkaTraceContext.Extract(result.Message.Headers);
            if (parent != default) batch.Links.Add(new ActivityLink(parent));
        }
        if (!queue.HasFailed && (batch.Count >= _options.MaxBatchRecords || batch.Bytes >= _options.MaxBatchBytes))
        {
            queue.Close(consumer, batch);
            open.Remove(tp);
        }
    }

    /// <summary>
    /// A slow stream: when a partition is caught up (end of log) and its batch's first record is already
    /// <see cref="EventsOptions.MaxBatchSpan"/> old, waiting longer cannot make the batch any more complete.
    /// </summary>
    private void CloseCaughtUpBatches(IConsumer<byte[]?, byte[]?> consumer, BatchCommitQueue queue)
    {
        if (queue.HasFailed || _partitions.Open.Count == 0) return;
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var batch in _partitions.Open.Values.ToList())
        {
            if (!batch.IsEmpty && _partitions.AtEnd.Contains(batch.TopicPartition) && now - batch.FirstRecordUtc >= _options.MaxBatchSpan)
            {
                queue.Close(consumer, batch);
                _partitions.Open.Remove(batch.TopicPartition);
            }
        }
    }
}
