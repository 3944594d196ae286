using System.Buffers;
using System.Diagnostics;
using Confluent.Kafka;

namespace CustomerData.Pipelines.Events;

/// <summary>One message as consumed, its value in the batch's buffers: decoded later, by the batch's write, off the consume thread.</summary>
internal readonly record struct RawRecord(long Offset, bool HasKey, int Chunk, int Start, int Length, DateTime KafkaTimestampUtc, DateTime ReceivedUtc);

/// <summary>
/// The open batch of one Kafka partition, in offset order: the raw messages while it fills, then (once its write
/// calls <see cref="Decode"/>) the decoded events and malformed records.
/// </summary>
internal sealed class PartitionBatch(TopicPartition topicPartition)
{
    // Message values are copied into pooled 64 KiB buffers rather than kept as one array each: a batch lives for
    // seconds, and millions of small surviving arrays would make every garbage collection copy them on.
    private const int ChunkBytes = 64 * 1024;
    // Its own pool, big enough for the open and in-flight batches of a busy stream: the shared pool keeps only a few
    // arrays per size, so most chunks would be new arrays that live for a batch's seconds, get promoted, and make gen2
    // collections. It keeps at most 1024 free buffers (64 MiB); beyond that, buffers are plain garbage again.
    private static readonly ArrayPool<byte> s_chunks = ArrayPool<byte>.Create(ChunkBytes, maxArraysPerBucket: 1024);
    // Raw records in pooled blocks of 1024 (48 KiB, under the large-object threshold): one growing list would be
    // reallocated into the large-object heap a few times per batch, and large-object allocations trigger gen2 collections.
    private const int RawBlockRecords = 1024;
    private static readonly ArrayPool<RawRecord> s_rawBlocks = ArrayPool<RawRecord>.Create(RawBlockRecords, maxArraysPerBucket: 512);
    private List<RawRecord[]>? _raw = [];
    private readonly List<byte[]> _chunks = [];
    private int _chunkUsed;

    public TopicPartition TopicPartition { get; } = topicPartition;

    /// <summary>The partition's resume plan when the batch opened: its epoch names the files, its ids go into the lake position.</summary>
    public ResumePlan? Plan { get; init; }
    public int Epoch => Plan?.Epoch ?? 0;
    public long FirstOffset { get; private set; } = -1;
    public long LastOffset { get; private set; } = -1;
    public DateTime FirstRecordUtc { get; private set; }
    /// <summary>The newest Kafka message time in the batch (its freshness).</summary>
    public DateTime LastRecordUtc { get; private set; }
    public long Bytes { get; private set; }
    public List<LakeEvent> Events { get; private set; } = [];
    public List<MalformedEvent> Malformed { get; private set; } = [];
    public List<ActivityLink> Links { get; } = [];
    /// <summary>Messages in the batch (valid and malformed).</summary>
    public int Count { get; private set; }

    /// <summary>The batch's <c>events.batch</c> span from its write's start to its commit (null once ended, or when nobody listens).</summary>
    public Activity? Span { get; set; }

    /// <summary>The running or last write of this batch (a retry waits for it rather than starting a second one).</summary>
    public Task<int>? Write { get; set; }

    /// <summary>Cancelled when the batch is abandoned (its partition revoked or lost): no file of it is published afterwards.</summary>
    public CancellationTokenSource Fence { get; } = new();

    /// <summary>Set once this batch's lake position was published: the lake then holds the batch, committed to Kafka or not.</summary>
    public bool PositionPublished
    {
        get => Volatile.Read(ref _positionPublished);
        set => Volatile.Write(ref _positionPublished, value);
    }
    private bool _positionPublished;

    /// <summary>What the writes of this batch published (or were about to), so an abandoned batch deletes exactly its own files.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(string Key, byte[] Content)> Published { get; } = new();
    public bool IsEmpty => Count == 0;

    public void Add(long offset, byte[]? key, ReadOnlySpan<byte> value, DateTime kafkaTimestampUtc, DateTime receivedUtc)
    {
        var raw = _raw ?? throw new InvalidOperationException("The batch is closed and decoded.");
        if (FirstOffset < 0)
        {
            FirstOffset = offset;
            FirstRecordUtc = kafkaTimestampUtc;
        }
        LastOffset = offset;
        if (kafkaTimestampUtc > LastRecordUtc) LastRecordUtc = kafkaTimestampUtc;
        Bytes += value.Length + (key?.Length ?? 0);
        if (Count % RawBlockRecords == 0) raw.Add(s_rawBlocks.Rent(RawBlockRecords));
        var slot = Count % RawBlockRecords;
        Count++;
        if (_chunks.Count == 0 || _chunkUsed + value.Length > _chunks[^1].Length)
        {
            _chunks.Add(s_chunks.Rent(Math.Max(ChunkBytes, value.Length)));
            _chunkUsed = 0;
        }
        value.CopyTo(_chunks[^1].AsSpan(_chunkUsed));
        raw[^1][slot] = new RawRecord(offset, key is { Length: > 0 }, _chunks.Count - 1, _chunkUsed, value.Length, kafkaTimestampUtc, receivedUtc);
        _chunkUsed += value.Length;
    }

    /// <summary>
    /// Decodes the raw messages into <see cref="Events"/> and <see cref="Malformed"/> (permissive, SPEC section 5 C),
    /// once: a retried write finds them decoded. Runs on the write's thread, so the consume loop only collects bytes.
    /// </summary>
    public void Decode(WriterSchemas? schemas = null)
    {
        if (_raw is null) return;
        // Into new lists, set at the end: the batch's lists only ever hold a complete decode.
        var events = new List<LakeEvent>(Count);
        var malformed = new List<MalformedEvent>();
        for (var i = 0; i < Count; i++)
        {
            var r = _raw[i / RawBlockRecords][i % RawBlockRecords];
            var value = _chunks[r.Chunk].AsSpan(r.Start, r.Length);
            if (CustomerEventDecoder.Decode(r.HasKey, value, r.KafkaTimestampUtc, r.ReceivedUtc, schemas, out var lakeEvent, out var reason, out var detail)
                == CustomerEventDecoder.Outcome.Valid)
            {
                events.Add(lakeEvent);
            }
            else
            {
                malformed.Add(new MalformedEvent(Convert.ToBase64String(value), reason, detail, TopicPartition.Topic, TopicPartition.Partition.Value, r.Offset,
                    CustomerEventDecoder.TruncateToMicros(r.KafkaTimestampUtc), CustomerEventDecoder.TruncateToMicros(r.ReceivedUtc)));
            }
        }
        Events = events;
        Malformed = malformed;
        foreach (var block in _raw) s_rawBlocks.Return(block);
        _raw = null;
        foreach (var chunk in _chunks) s_chunks.Return(chunk);
        _chunks.Clear();
    }
}
