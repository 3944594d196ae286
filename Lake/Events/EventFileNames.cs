using System.Globalization;

namespace CustomerData.Lake;

/// <summary>Where a batch file came from, read back from its name.</summary>
public readonly record struct BatchFileName(string Topic, int Partition, long FirstOffset)
{
    /// <summary>
    /// The topic incarnation the offsets belong to (0: the first one, names without an epoch part). A topic
    /// recreated, or read from another cluster, starts its offsets again at 0: a new epoch keeps its files' names apart.
    /// </summary>
    public int Epoch { get; init; }

    /// <summary>A file the operator's replay of the malformed area wrote (<c>...-replay.parquet</c>), not a Kafka batch.</summary>
    public bool Replayed { get; init; }
}

/// <summary>
/// Names of the files in the events lake. Batch files are named from their data (topic, partition,
/// first offset zero padded, under the event_date folder), so a replay of the same batch writes the same key.
/// </summary>
public static class EventFileNames
{
    public const string BatchPrefix = "batch-";
    public const string CompactedPrefix = "compacted-g";
    public const string ManifestPrefix = "_manifest-g";
    public const string ParquetSuffix = ".parquet";
    public const string ManifestSuffix = ".json";

    /// <summary>Marks the epoch part of a batch file name: <c>...-OFFSET-eNNNNNN.parquet</c>.</summary>
    public const string EpochMarker = "-e";

    /// <summary>
    /// Ends the name of a file of replayed quarantined records: a batch name (so readers, the compactor and the lake's
    /// positions treat it as committed data of that partition) that no Kafka batch can have.
    /// </summary>
    public const string ReplayMarker = "-replay";

    /// <summary>
    /// <c>batch-TOPIC-PPPPP-OOOOOOOOOOOOOOOOOOOO.parquet</c>, or with <paramref name="epoch"/> above 0
    /// <c>batch-TOPIC-PPPPP-OOOOOOOOOOOOOOOOOOOO-eNNNNNN.parquet</c> (epoch 0 keeps the names of lakes written before epochs).
    /// </summary>
    public static string BatchFile(string topic, int partition, long firstOffset, int epoch = 0) => epoch == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{BatchPrefix}{topic}-{partition:D5}-{firstOffset:D20}{ParquetSuffix}")
        : string.Create(CultureInfo.InvariantCulture, $"{BatchPrefix}{topic}-{partition:D5}-{firstOffset:D20}{EpochMarker}{epoch:D6}{ParquetSuffix}");

    /// <summary>
    /// <c>batch-TOPIC-PPPPP-OOOOOOOOOOOOOOOOOOOO[-eNNNNNN]-replay.parquet</c>: replayed records of one partition, named
    /// from the lowest offset among them (each record is replayed once, so two replay files never share a name).
    /// </summary>
    public static string ReplayFile(string topic, int partition, long firstOffset, int epoch = 0) =>
        BatchFile(topic, partition, firstOffset, epoch)[..^ParquetSuffix.Length] + ReplayMarker + ParquetSuffix;

    public static string EventsBatchKey(DateOnly day, string topic, int partition, long firstOffset, int epoch = 0) =>
        LakeLayout.EventsPartition(day) + BatchFile(topic, partition, firstOffset, epoch);

    public static string MalformedBatchKey(DateOnly day, string topic, int partition, long firstOffset, int epoch = 0) =>
        LakeLayout.MalformedPartition(day) + BatchFile(topic, partition, firstOffset, epoch);

    public static string CompactedFile(long generation, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{CompactedPrefix}{generation:D8}-{index:D4}{ParquetSuffix}");

    /// <summary>An output of one compaction attempt: the attempt token keeps two compactors of the same generation from overwriting each other's files.</summary>
    public static string CompactedFile(long generation, string attempt, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{CompactedPrefix}{generation:D8}-{attempt}-{index:D4}{ParquetSuffix}");

    public static string ManifestFile(long generation) =>
        string.Create(CultureInfo.InvariantCulture, $"{ManifestPrefix}{generation:D8}{ManifestSuffix}");

    public static bool TryParseBatch(string fileName, out BatchFileName batch)
    {
        batch = default;
        if (!fileName.StartsWith(BatchPrefix, StringComparison.Ordinal) || !fileName.EndsWith(ParquetSuffix, StringComparison.Ordinal)) return false;
        var core = fileName[BatchPrefix.Length..^ParquetSuffix.Length];
        var replayed = core.EndsWith(ReplayMarker, StringComparison.Ordinal);
        if (replayed) core = core[..^ReplayMarker.Length];
        // An epoch part ends in "-eNNNNNN"; a name without one ends in 20 offset digits, so the two never mix up.
        var epoch = 0;
        if (core.Length > 8 && core.AsSpan(core.Length - 8, 2).SequenceEqual(EpochMarker))
        {
            if (!int.TryParse(core.AsSpan(core.Length - 6), NumberStyles.None, CultureInfo.InvariantCulture, out epoch) || epoch == 0) return false;
            core = core[..^8];
        }
        // topic-PPPPP-OOOOOOOOOOOOOOOOOOOO: parse from the right, topics may hold '-'.
        if (core.Length < 20 + 1 + 5 + 1 + 1) return false;
        var offsetText = core[^20..];
        var partitionText = core[^26..^21];
        if (core[^21] != '-' || core[^27] != '-') return false;
        if (!long.TryParse(offsetText, NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            || !int.TryParse(partitionText, NumberStyles.None, CultureInfo.InvariantCulture, out var partition)) return false;
        batch = new BatchFileName(core[..^27], partition, offset) { Epoch = epoch, Replayed = replayed };
        return true;
    }

    public static bool TryParseGeneration(string fileName, string prefix, out long generation)
    {
        generation = 0;
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal) || fileName.Length < prefix.Length + 8) return false;
        return long.TryParse(fileName.AsSpan(prefix.Length, 8), NumberStyles.None, CultureInfo.InvariantCulture, out generation);
    }

    /// <summary>The day of a key under <c>events/event_date=YYYY-MM-DD/</c> (or the malformed area).</summary>
    public static bool TryParseDay(string key, out DateOnly day) => LakeLayout.TryParseDay("/" + key, LakeLayout.EventsPartitionKey, out day);

    public static string FileName(string key) => key[(key.LastIndexOf('/') + 1)..];
}
