using System.Diagnostics;
using Confluent.Kafka;

namespace CustomerData.Pipelines.Events;

/// <summary>The open batch of one Kafka partition: decoded events and malformed records, in offset order.</summary>
internal sealed class PartitionBatch(TopicPartition topicPartition)
{
    public TopicPartition TopicPartition { get; } = topicPartition;
    public long FirstOffset { get; private set; } = -1;
    public long LastOffset { get; private set; } = -1;
    public DateTime FirstRecordUtc { get; private set; }
    public long Bytes { get; private set; }
    public List<LakeEvent> Events { get; } = [];
    public List<MalformedEvent> Malformed { get; } = [];
    public List<ActivityLink> Links { get; } = [];
    public int Count => Events.Count + Malformed.Count;

    /// <summary>The running or last write of this batch (a retry waits for it rather than starting a second one).</summary>
    public Task<int>? Write { get; set; }

    /// <summary>Cancelled when the batch is abandoned (its partition revoked or lost): no file of it is published afterwards.</summary>
    public CancellationTokenSource Fence { get; } = new();

    /// <summary>What the writes of this batch published (or were about to), so an abandoned batch deletes exactly its own files.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(string Key, byte[] Content)> Published { get; } = new();
    public bool IsEmpty => Count == 0;

    public void Track(long offset, DateTime kafkaTimestampUtc, int bytes)
    {
        if (FirstOffset < 0)
        {
            FirstOffset = offset;
            FirstRecordUtc = kafkaTimestampUtc;
        }
        LastOffset = offset;
        Bytes += bytes;
    }
}
