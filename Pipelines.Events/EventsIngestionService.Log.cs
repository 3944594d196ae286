using System.Diagnostics;
using CustomerData.Contracts;
using CustomerData.Lake;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CustomerData.Pipelines.Events;

// Log lines (source-generated).
public sealed partial class EventsIngestionService
{
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
