using Confluent.Kafka;
using CustomerData.Lake;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// The clean-up on assignment: deletes the batch files (events and malformed) that resume plans prove uncommitted, i.e.
/// of the partition's current epoch, at or above the lake's position (a crashed or abandoned batch's leftovers, which
/// the resumed stream writes again). It lists only the day folders the partitions' <see cref="PendingDays"/> name; a
/// partition without that record (a lake written before it existed) makes it list the whole areas once, after which
/// the record exists.
/// </summary>
internal sealed class UncommittedFiles(ILakeStorage lake, TimeProvider time, ILogger logger)
{
    private static readonly string[] s_areas = [LakeLayout.EventsTable + "/", LakeLayout.EventsMalformed + "/"];

    public async Task RemoveAsync(IReadOnlyDictionary<TopicPartition, ResumePlan> plans, CancellationToken cancellationToken)
    {
        var from = plans.Where(p => p.Value.RemoveFrom is not null)
            .ToDictionary(p => (p.Key.Topic, p.Key.Partition.Value), p => (p.Value.Epoch, From: p.Value.RemoveFrom!.Value));
        if (from.Count == 0) return;
        var prefixes = new SortedSet<string>(StringComparer.Ordinal);
        var unrecorded = new List<(TopicPartition Partition, int Epoch)>();
        foreach (var (tp, plan) in plans.Where(p => p.Value.RemoveFrom is not null))
        {
            if (await PendingDays.ReadAsync(lake, tp.Topic, tp.Partition.Value, cancellationToken) is { } days)
            {
                foreach (var day in days.EventDays) prefixes.Add(LakeLayout.EventsPartition(day));
                foreach (var day in days.MalformedDays) prefixes.Add(LakeLayout.MalformedPartition(day));
            }
            else
            {
                unrecorded.Add((tp, plan.Epoch));
            }
        }
        if (unrecorded.Count > 0)
        {
            prefixes.Clear();
            prefixes.UnionWith(s_areas);
        }
        var removed = 0;
        foreach (var prefix in prefixes)
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
        // The whole areas were listed: no uncommitted file of these partitions is left anywhere, so an empty record is true.
        foreach (var (tp, epoch) in unrecorded)
        {
            var empty = new PendingDays(tp.Topic, tp.Partition.Value, epoch, [], [], time.GetUtcNow().UtcDateTime);
            await lake.PublishAsync(empty.Key, empty.ToJson(), cancellationToken);
        }
        if (removed > 0 || unrecorded.Count > 0) logger.LogRemovedUncommitted(removed, prefixes.Count, unrecorded.Count);
    }
}
