using System.Text.Json;
using CustomerData.Lake;

namespace CustomerData.Pipelines.Events.Replay;

/// <summary>A quarantined record's identity: where Kafka had it (the timestamp keeps two topic incarnations' equal offsets apart).</summary>
public readonly record struct QuarantinedRecordId(string Topic, int Partition, long Offset, long KafkaTimestampTicks)
{
    public static QuarantinedRecordId Of(MalformedEvent record) => new(record.Topic, record.Partition, record.Offset, record.KafkaTimestamp.Ticks);
}

/// <summary>One replay output: the events file written and the quarantined records it holds.</summary>
public sealed record ReplayLedgerEntry(string Output, string Source, DateTime ReplayedUtc, List<QuarantinedRecordId> Records);

/// <summary>
/// What replays of the malformed area have released into the events lake: one entry per output file under
/// <c>events_malformed/_replayed/</c> (JSON, not under a day folder: the area's compaction and retention never see it).
/// The quarantined records stay where they are, with their reason, as the raw evidence; a record named here is never
/// replayed again, whichever malformed file (batch or compacted) holds it by then.
/// </summary>
public static class ReplayLedger
{
    public const string Folder = LakeLayout.EventsMalformed + "/_replayed/";

    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The entry's key, from the output's day and file name: deterministic, so a rerun after a crash rewrites the same one.</summary>
    public static string KeyOf(DateOnly day, string outputFileName) =>
        Folder + LakeLayout.Day(day) + "-" + outputFileName[..^EventFileNames.ParquetSuffix.Length] + ".json";

    public static async Task<HashSet<QuarantinedRecordId>> ReadReplayedAsync(ILakeStorage lake, CancellationToken cancellationToken)
    {
        var replayed = new HashSet<QuarantinedRecordId>();
        foreach (var o in await lake.ListAsync(Folder, cancellationToken))
        {
            if (!o.Key.EndsWith(".json", StringComparison.Ordinal) || await lake.ReadAsync(o.Key, cancellationToken) is not { } json) continue;
            var entry = JsonSerializer.Deserialize<ReplayLedgerEntry>(json, s_json) ?? throw new InvalidDataException($"{o.Key}: empty replay ledger entry");
            replayed.UnionWith(entry.Records);
        }
        return replayed;
    }

    public static Task WriteAsync(ILakeStorage lake, string key, ReplayLedgerEntry entry, CancellationToken cancellationToken) =>
        lake.PublishAsync(key, JsonSerializer.SerializeToUtf8Bytes(entry, s_json), cancellationToken);
}
