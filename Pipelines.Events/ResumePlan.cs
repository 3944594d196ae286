using CustomerData.Lake;

namespace CustomerData.Pipelines.Events;

/// <summary>How an assigned partition goes on (see <see cref="ResumePlan.Decide"/>).</summary>
public enum ResumeKind
{
    /// <summary>The lake has no position for the partition yet: the group's committed offset (or the log start) as before.</summary>
    Committed,
    /// <summary>From the lake's position (whatever the group's committed offset says).</summary>
    LakePosition,
    /// <summary>The lake's position is older than the log start (retention deleted events the lake never got): from the log start.</summary>
    PastRetention,
    /// <summary>Another topic incarnation (recreated topic, other cluster): a new epoch from the log start.</summary>
    NewEpoch,
}

/// <summary>
/// Where consumption of one partition resumes on assignment, in which epoch, and from which offset its batch files of
/// that epoch are provably uncommitted (null: none may be deleted).
/// </summary>
public sealed record ResumePlan(ResumeKind Kind, long Offset, int Epoch, long? RemoveFrom, string? TopicId, string? ClusterId)
{
    /// <param name="lake">The lake's position of the partition, null when it has none.</param>
    /// <param name="committed">The group's committed offset, negative when there is none.</param>
    /// <param name="low">The log start (first offset the topic still holds).</param>
    /// <param name="high">The log end.</param>
    /// <param name="topicId">The topic id the broker reports now (null: unknown).</param>
    /// <param name="clusterId">The cluster id the broker reports now (null: unknown).</param>
    public static ResumePlan Decide(PartitionPosition? lake, long committed, long low, long high, string? topicId, string? clusterId)
    {
        if (lake is null)
        {
            // Only files above a committed offset are provably uncommitted; without one (a lake of before positions
            // whose offsets were lost) nothing is deleted.
            return committed >= 0
                ? new ResumePlan(ResumeKind.Committed, Math.Max(committed, low), 0, committed, topicId, clusterId)
                : new ResumePlan(ResumeKind.Committed, low, 0, null, topicId, clusterId);
        }
        var otherTopic = Differs(lake.TopicId, topicId) || Differs(lake.ClusterId, clusterId) || high < lake.NextOffset;
        if (otherTopic)
        {
            // Offsets start again: the old epoch's files (all of them) stay, the new epoch's names never meet them.
            return new ResumePlan(ResumeKind.NewEpoch, low, lake.Epoch + 1, null, topicId, clusterId);
        }
        var ids = (topicId ?? lake.TopicId, clusterId ?? lake.ClusterId);
        return lake.NextOffset < low
            ? new ResumePlan(ResumeKind.PastRetention, low, lake.Epoch, lake.NextOffset, ids.Item1, ids.Item2)
            : new ResumePlan(ResumeKind.LakePosition, lake.NextOffset, lake.Epoch, lake.NextOffset, ids.Item1, ids.Item2);
    }

    private static bool Differs(string? recorded, string? now) => recorded is not null && now is not null && recorded != now;

    public PartitionPosition Position(string topic, int partition, long nextOffset, DateTime nowUtc) =>
        new(topic, partition, Epoch, nextOffset, TopicId, ClusterId, nowUtc);
}
