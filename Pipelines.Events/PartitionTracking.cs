using Confluent.Kafka;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// The consume thread's bookkeeping per assigned partition, shared by the consume loop (which fills it) and the
/// rebalance handler (which sets it up on assignment and drops it on revoke/lost). Only the consume thread touches it:
/// librdkafka runs the rebalance callbacks inside Consume.
/// </summary>
internal sealed class PartitionTracking
{
    /// <summary>The open (not yet closed) batch per partition.</summary>
    public Dictionary<TopicPartition, PartitionBatch> Open { get; } = [];

    /// <summary>The next offset a batch takes per partition: anything below was taken already (a seek replays it).</summary>
    public Dictionary<TopicPartition, long> NextOffset { get; } = [];

    /// <summary>Partitions that reported the end of their log and got nothing since.</summary>
    public HashSet<TopicPartition> AtEnd { get; } = [];

    /// <summary>Where and in which epoch each partition resumed (see <see cref="ResumePlan"/>).</summary>
    public Dictionary<TopicPartition, ResumePlan> Plans { get; } = [];

    /// <summary>Partitions held (paused, nothing taken) until their clean-up on assignment succeeds.</summary>
    public HashSet<TopicPartition> AwaitingCleanup { get; } = [];

    /// <summary>Consumer lag per partition after its last committed batch: their sum is the quality report's lag.</summary>
    public Dictionary<int, long> Lag { get; } = [];

    /// <summary>Set by the rebalance handler: the consume loop re-applies its paused state to the new assignment.</summary>
    public bool AssignmentChanged { get; set; }

    /// <summary>Starts the partition's stream afresh (its open batch dropped).</summary>
    public void Restart(TopicPartition tp)
    {
        Open.Remove(tp);
        AtEnd.Remove(tp);
        NextOffset.Remove(tp);
    }

    /// <summary>Drops everything of a partition this member no longer holds.</summary>
    public void Forget(TopicPartition tp)
    {
        Restart(tp);
        AwaitingCleanup.Remove(tp);
        Plans.Remove(tp);
        Lag.Remove(tp.Partition.Value);
    }
}
