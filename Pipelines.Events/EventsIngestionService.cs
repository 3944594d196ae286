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
/// This file is the consume loop; the batch commit queue, the rebalance handlers, the lake files of batches that are
/// not committed, and the lake claim are the other parts (<c>EventsIngestionService.*.cs</c>); where a partition
/// resumes is decided by <see cref="ResumePlan"/>.
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
    // Consumer lag of this member's partitions (the consume thread's alone): their sum is the quality report's lag.
    private readonly Dictionary<int, long> _lagByPartition = [];
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

}
