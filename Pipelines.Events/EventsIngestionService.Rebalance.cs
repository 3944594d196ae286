using System.Diagnostics;
using CustomerData.Contracts;
using CustomerData.Lake;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events;

// The rebalance handlers: where assigned partitions resume (the lake's positions), what revoked and lost ones leave.
public sealed partial class EventsIngestionService
{
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
            _lagByPartition.Remove(tp.Partition.Value);
            if (tp.Partition.Value == 0) state.IsCompactionLeader = false;
        }
        state.Quality.SetLag(_lagByPartition.Values.Sum());
        if (_failed.Count == 0 && _needsCleanup.Count == 0) state.Recover();
    }
}
