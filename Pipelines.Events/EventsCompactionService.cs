using CustomerData.Lake;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// Runs <see cref="EventsCompactor"/> every <see cref="CompactionOptions.Interval"/> while this instance owns
/// partition 0 of the topic (one compactor per consumer group). Failures are logged and retried next pass.
/// </summary>
public sealed partial class EventsCompactionService(
    EventsCompactor compactor,
    EventsConsumerFactory consumerFactory,
    IngestionState state,
    IOptions<EventsOptions> options,
    TimeProvider time,
    ILogger<EventsCompactionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Compaction;
        if (!settings.Enabled) return;
        using var offsets = consumerFactory.CreateOffsetReader();
        using var timer = new PeriodicTimer(settings.Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!state.IsCompactionLeader) continue;
            try
            {
                await compactor.RunPassAsync(batches => CommittedOffsets(offsets, batches), stoppingToken, () => state.IsCompactionLeader);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPassFailed(ex);
            }
        }
    }

    /// <summary>The group's committed offsets of the partitions the batch files come from.</summary>
    public static IReadOnlyDictionary<(string Topic, int Partition), long> CommittedOffsets(IConsumer<Ignore, Ignore> offsets, IReadOnlyCollection<BatchFileName> batches)
    {
        var partitions = batches.Select(b => new TopicPartition(b.Topic, b.Partition)).Distinct().ToList();
        if (partitions.Count == 0) return new Dictionary<(string, int), long>();
        return offsets.Committed(partitions, TimeSpan.FromSeconds(10))
            .Where(c => c.Offset.Value >= 0)
            .ToDictionary(c => (c.Topic, c.Partition.Value), c => c.Offset.Value);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Compaction pass failed; the next pass retries")]
    private partial void LogPassFailed(Exception ex);
}
