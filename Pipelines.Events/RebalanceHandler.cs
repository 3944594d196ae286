using Confluent.Kafka;
using CustomerData.Lake;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// The rebalance callbacks: where assigned partitions resume (the lake's positions, see <see cref="ResumePlan"/>) after
/// the clean-up of their uncommitted files, and what revoked and lost ones leave behind. librdkafka runs them inside
/// Consume, so an exception would end the consume loop: each callback catches everything; an assignment whose
/// clean-up failed stays paused and is retried by <see cref="RetryCleanup"/>.
/// </summary>
internal sealed class RebalanceHandler(
    ILakeStorage lake,
    EventsOptions options,
    PartitionTracking partitions,
    BatchCommitQueue queue,
    BatchWriter writer,
    UncommittedFiles uncommitted,
    TopicIncarnation incarnation,
    IngestionState state,
    RetryBackoff backoff,
    WaitBounds bounds,
    TimeProvider time,
    ILogger logger)
{
    public IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> assigned)
    {
        partitions.AssignmentChanged = true;
        try
        {
            state.IsCompactionLeader = consumer.Assignment.Concat(assigned).Any(tp => tp.Topic == options.Topic && tp.Partition.Value == 0);
            foreach (var tp in assigned) partitions.Restart(tp);
            var plans = PlanResume(consumer, assigned);
            logger.LogAssigned(string.Join(", ", plans.Select(p => $"{p.Key.Partition.Value}@{p.Value.Offset} ({p.Value.Kind}, epoch {p.Value.Epoch})")));
            return plans.Select(p => new TopicPartitionOffset(p.Key, new Offset(p.Value.Offset))).ToList();
        }
        catch (Exception ex)
        {
            // Nothing of these partitions is consumed until the plan and clean-up succeed (see RetryCleanup).
            logger.LogCleanupFailed(ex, assigned.Count);
            foreach (var tp in assigned) partitions.AwaitingCleanup.Add(tp);
            state.Degrade("clean-up after assignment failed: " + ex.Message);
            return assigned.Select(tp => new TopicPartitionOffset(tp, Offset.Unset)).ToList();
        }
    }

    public void OnRevoked(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> revoked)
    {
        try
        {
            Revoke(consumer, revoked);
        }
        catch (Exception ex)
        {
            logger.LogRebalanceHandlerFailed(ex, "revoke");
        }
    }

    /// <summary>
    /// The partitions were taken away without a revoke (session timeout, max.poll.interval.ms passed): another
    /// member may own and replay them already. Nothing of them is committed; their in-flight batches are fenced
    /// and whatever files those published are deleted, but only while the object is still the one we wrote.
    /// </summary>
    public void OnLost(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> lost)
    {
        try
        {
            Lose(consumer, lost);
        }
        catch (Exception ex)
        {
            logger.LogRebalanceHandlerFailed(ex, "lost");
        }
    }

    /// <summary>Plans and cleans up the partitions whose clean-up on assignment failed, once the backoff is due; then they are consumed.</summary>
    public void RetryCleanup(IConsumer<byte[]?, byte[]?> consumer)
    {
        var waiting = partitions.AwaitingCleanup.ToList();
        consumer.Pause(waiting);
        if (!backoff.IsDue) return;
        try
        {
            var plans = PlanResume(consumer, waiting);
            foreach (var (tp, plan) in plans)
            {
                consumer.Seek(new TopicPartitionOffset(tp, new Offset(plan.Offset)));
                partitions.AwaitingCleanup.Remove(tp);
                partitions.Open.Remove(tp);
            }
            if (!queue.HasFailed)
            {
                consumer.Resume(waiting);
                state.Recover();
            }
        }
        catch (Exception ex)
        {
            logger.LogCleanupFailed(ex, waiting.Count);
            logger.LogRetryScheduled(backoff.Again().TotalSeconds, waiting.Count);
        }
    }

    /// <summary>
    /// Decides for each partition where it resumes (see <see cref="ResumePlan.Decide"/>: the lake's position rules, not
    /// the group's committed offset), deletes the batch files it can prove uncommitted and records the partition's
    /// position (first assignment, new epoch, past retention) before any batch of it is written.
    /// </summary>
    private Dictionary<TopicPartition, ResumePlan> PlanResume(IConsumer<byte[]?, byte[]?> consumer, IReadOnlyList<TopicPartition> assigned)
    {
        var committed = consumer.Committed(assigned.ToList(), bounds.KafkaWait).ToDictionary(c => c.TopicPartition, c => c.Offset.Value);
        var (topicIds, clusterId) = incarnation.Lookup(consumer, assigned.Select(tp => tp.Topic).Distinct().ToList(), bounds.KafkaWait);
        var plans = new Dictionary<TopicPartition, ResumePlan>();
        var publish = new List<PartitionPosition>();
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var tp in assigned)
        {
            var marks = consumer.QueryWatermarkOffsets(tp, bounds.KafkaWait);
            PartitionPosition? position = null;
            bounds.Run(async ct => position = await PartitionPosition.ReadAsync(lake, tp.Topic, tp.Partition.Value, ct));
            var groupOffset = committed.GetValueOrDefault(tp, Offset.Unset.Value);
            var plan = ResumePlan.Decide(position, groupOffset, marks.Low.Value, marks.High.Value, topicIds.GetValueOrDefault(tp.Topic), clusterId);
            plans[tp] = plan;
            Report(tp, plan, position, groupOffset, marks.High.Value);
            if (position is null || plan.Kind is ResumeKind.NewEpoch or ResumeKind.PastRetention
                || position.TopicId != plan.TopicId || position.ClusterId != plan.ClusterId)
            {
                publish.Add(plan.Position(tp.Topic, tp.Partition.Value, plan.Offset, now));
            }
        }
        bounds.Run(ct => uncommitted.RemoveAsync(plans, ct));
        bounds.Run(async ct =>
        {
            foreach (var p in publish) await lake.PublishAsync(p.Key, p.ToJson(), ct);
        });
        foreach (var (tp, plan) in plans)
        {
            partitions.Plans[tp] = plan;
            partitions.NextOffset[tp] = plan.Offset;
        }
        return plans;
    }

    /// <summary>The plan's log line; past retention also counts the lost messages and degrades health.</summary>
    private void Report(TopicPartition tp, ResumePlan plan, PartitionPosition? position, long groupOffset, long logEnd)
    {
        switch (plan.Kind)
        {
            case ResumeKind.NewEpoch:
                logger.LogNewEpoch(tp.Topic, tp.Partition.Value, plan.Epoch, position!.NextOffset, logEnd, position.TopicId, plan.TopicId, position.ClusterId, plan.ClusterId);
                break;
            case ResumeKind.PastRetention:
                EventsTelemetry.OffsetsPastRetention.Add(plan.Offset - position!.NextOffset);
                logger.LogPastRetention(tp.Topic, tp.Partition.Value, position.NextOffset, plan.Offset, plan.Offset - position.NextOffset);
                state.Degrade($"partition {tp.Partition.Value}: offsets {position.NextOffset}..{plan.Offset - 1} were deleted by retention before the lake got them");
                break;
            case ResumeKind.LakePosition when groupOffset != plan.Offset:
                logger.LogGroupOffsetIgnored(tp.Topic, tp.Partition.Value, groupOffset, plan.Offset);
                break;
        }
    }

    private void Revoke(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> revokedOffsets)
    {
        // Writes in flight finish and commit while we still own their partitions, within the bound: the group
        // waits for this callback, and past max.poll.interval.ms it would evict us and hand the partitions on.
        var deadline = bounds.Deadline();
        queue.CompleteWrites(consumer, drain: true, deadline);
        // What did not finish in time (or failed) is given up: not committed, its files deleted; the next owner replays it.
        var revoked = revokedOffsets.Select(p => p.TopicPartition).ToHashSet();
        writer.Abandon(queue.TakeBatches(revoked.Contains), deadline);
        // librdkafka keeps a partition's pause flag across assignments: never hand one back paused.
        consumer.Resume(revoked);
        Forget(revoked);
        logger.LogRevoked(string.Join(", ", revokedOffsets.Select(p => p.Partition.Value)));
    }

    private void Lose(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> lostOffsets)
    {
        var lost = lostOffsets.Select(p => p.TopicPartition).ToHashSet();
        var abandoned = queue.TakeBatches(lost.Contains);
        logger.LogLost(string.Join(", ", lostOffsets.Select(p => p.Partition.Value)), abandoned.Count);
        writer.Abandon(abandoned, bounds.Deadline());
        Forget(lost);
        try
        {
            consumer.Resume(lost); // the pause flag would outlive the assignment
        }
        catch (KafkaException ex)
        {
            logger.LogConsumeError(ex, ex.Error.Code, ex.Error.Reason); // an exception here would escape Consume
        }
    }

    /// <summary>Drops the bookkeeping of partitions this member no longer holds: their open batches are dropped (the next owner replays them).</summary>
    private void Forget(IReadOnlySet<TopicPartition> gone)
    {
        foreach (var tp in gone)
        {
            partitions.Forget(tp);
            writer.Forget(tp);
            EventsTelemetry.ForgetLag(tp.Partition.Value);
            if (tp.Partition.Value == 0) state.IsCompactionLeader = false;
        }
        state.Quality.SetLag(partitions.Lag.Values.Sum());
        if (!queue.HasFailed && partitions.AwaitingCleanup.Count == 0) state.Recover();
    }
}
