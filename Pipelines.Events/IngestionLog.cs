using Confluent.Kafka;

namespace CustomerData.Pipelines.Events;

/// <summary>The ingestion's log lines (source-generated), shared by its parts: all under the category of <see cref="EventsIngestionService"/>.</summary>
internal static partial class IngestionLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Topic}/{Partition} is another topic incarnation than the lake's (lake position {LakeNextOffset}, log end {LogEnd}, topic id {LakeTopicId} -> {TopicId}, cluster {LakeClusterId} -> {ClusterId}): epoch {Epoch} starts at the log start; the lake's events stay")]
    public static partial void LogNewEpoch(this ILogger logger, string topic, int partition, int epoch, long lakeNextOffset, long logEnd, string? lakeTopicId, string? topicId, string? lakeClusterId, string? clusterId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Topic}/{Partition}: the lake holds it up to offset {LakeNextOffset} but the log now starts at {LogStart}; {Lost} message(s) were deleted by retention before the lake got them. Going on from the log start")]
    public static partial void LogPastRetention(this ILogger logger, string topic, int partition, long lakeNextOffset, long logStart, long lost);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Topic}/{Partition}: the group's committed offset {GroupOffset} differs from the lake's position {LakeNextOffset} (offsets expired, reset or deleted); resuming from the lake's position")]
    public static partial void LogGroupOffsetIgnored(this ILogger logger, string topic, int partition, long groupOffset, long lakeNextOffset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Abandoned batch {Topic}/{Partition} offsets {FirstOffset}..{LastOffset} is held by the lake's position already: its files stay, the next owner resumes after it")]
    public static partial void LogAbandonedKept(this ILogger logger, string topic, int partition, long firstOffset, long lastOffset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming {Topic} in group {GroupId}")]
    public static partial void LogStarted(this ILogger logger, string topic, string groupId);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Fatal Kafka error {Code}: {Reason}; the events pipeline stops (nothing more is committed)")]
    public static partial void LogFatalConsumeError(this ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The {Handler} rebalance handler failed; consumption goes on")]
    public static partial void LogRebalanceHandlerFailed(this ILogger logger, Exception ex, string handler);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka consume error {Code}: {Reason}")]
    public static partial void LogConsumeError(this ILogger logger, Exception ex, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {Topic}/{Partition} offsets {FirstOffset}..{LastOffset}: {Events} events, {Malformed} malformed, {Files} files in {ElapsedMs} ms")]
    public static partial void LogBatch(this ILogger logger, string topic, int partition, long firstOffset, long lastOffset, int events, int malformed, int files, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Batch {Topic}/{Partition} offsets {FirstOffset}..{LastOffset} failed; consumption paused, nothing committed, will retry")]
    public static partial void LogBatchFailed(this ILogger logger, Exception ex, string topic, int partition, long firstOffset, long lastOffset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed message {Topic}/{Partition}@{Offset}: {Reason} ({Detail}); raw Base64 starts {RawBase64Prefix}")]
    public static partial void LogMalformedSample(this ILogger logger, string topic, int partition, long offset, string reason, string detail, string rawBase64Prefix);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed share of batch {Topic}/{Partition}@{FirstOffset} is {Malformed}/{Total} ({Share:P1}), above the {Threshold:P1} threshold")]
    public static partial void LogMalformedShare(this ILogger logger, string topic, int partition, long firstOffset, int malformed, int total, double share, double threshold);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retrying in {DelaySeconds} s; {Waiting} batch(es) waiting")]
    public static partial void LogRetryScheduled(this ILogger logger, double delaySeconds, int waiting);

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting batches written; consumption resumed")]
    public static partial void LogRecovered(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Clean-up of {Partitions} assigned partition(s) failed; they stay paused until it succeeds")]
    public static partial void LogCleanupFailed(this ILogger logger, Exception ex, int partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Assigned partitions (partition@resume offset): {Partitions}")]
    public static partial void LogAssigned(this ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked partitions {Partitions}; their open batches are dropped (not committed)")]
    public static partial void LogRevoked(this ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost partitions {Partitions} (not revoked: another member may own them already); {Batches} batch(es) in flight abandoned, nothing committed")]
    public static partial void LogLost(this ILogger logger, string partitions, int batches);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Abandoned batch {Topic}/{Partition} offsets {FirstOffset}..{LastOffset}: not committed, {Files} published file(s) deleted")]
    public static partial void LogAbandoned(this ILogger logger, string topic, int partition, long firstOffset, long lastOffset, int files);

    [LoggerMessage(Level = LogLevel.Error, Message = "Abandoned batch {Topic}/{Partition}@{FirstOffset}: its write is still running past the bound; its files are deleted when it stops")]
    public static partial void LogAbandonedWriteStillRunning(this ILogger logger, string topic, int partition, long firstOffset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting the files of {Batches} abandoned batch(es) takes longer than the bound; it goes on in the background")]
    public static partial void LogAbandonedDeletesSlow(this ILogger logger, int batches);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not delete {Key} of an abandoned batch; the partition's next clean-up on assignment removes it")]
    public static partial void LogAbandonedDeleteFailed(this ILogger logger, Exception ex, string key);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The events lake {LakeRoot} belongs to consumer group {OwnerGroupId}, not {GroupId}: refusing to run (a new group would store the topic a second time). Set Events:GroupId back, or Events:AdoptLake=true to take the lake over")]
    public static partial void LogLakeOwnedByAnotherGroup(this ILogger logger, string lakeRoot, string ownerGroupId, string groupId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Adopted the events lake {LakeRoot} from consumer group {OldGroupId}: group {GroupId} goes on from its committed offsets {Offsets}")]
    public static partial void LogLakeAdopted(this ILogger logger, string lakeRoot, string oldGroupId, string groupId, string offsets);

    [LoggerMessage(Level = LogLevel.Error, Message = "Checking the events lake's owning group failed; retrying")]
    public static partial void LogLakeIdentityFailed(this ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removed {Files} file(s) a crashed batch left above the lake's position ({Folders} folder(s) listed; {Unrecorded} partition(s) without a pending-days record made it list the whole areas)")]
    public static partial void LogRemovedUncommitted(this ILogger logger, int files, int folders, int unrecorded);
}
