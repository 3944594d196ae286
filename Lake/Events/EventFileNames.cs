using System.Globalization;

namespace CustomerData.Lake;

/// <summary>Where a batch file came from, read back from its name.</summary>
public readonly record struct BatchFileName(string Topic, int Partition, long FirstOffset);

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

    public static string BatchFile(string topic, int partition, long firstOffset) =>
        string.Create(CultureInfo.InvariantCulture, $"{BatchPrefix}{topic}-{partition:D5}-{firstOffset:D20}{ParquetSuffix}");

    public static string EventsBatchKey(DateOnly day, string topic, int partition, long firstOffset) =>
        LakeLayout.EventsPartition(day) + BatchFile(topic, partition, firstOffset);

    public static string MalformedBatchKey(DateOnly day, string topic, int partition, long firstOffset) =>
        LakeLayout.MalformedPartition(day) + BatchFile(topic, partition, firstOffset);

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
        // topic-PPPPP-OOOOOOOOOOOOOOOOOOOO: parse from the right, topics may hold '-'.
        if (core.Length < 20 + 1 + 5 + 1 + 1) return false;
        var offsetText = core[^20..];
        var partitionText = core[^26..^21];
        if (core[^21] != '-' || core[^27] != '-') return false;
        if (!long.TryParse(offsetText, NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            || !int.TryParse(partitionText, NumberStyles.None, CultureInfo.InvariantCulture, out var partition)) return false;
        batch = new BatchFileName(core[..^27], partition, offset);
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
