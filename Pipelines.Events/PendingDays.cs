using System.Globalization;
using System.Text.Json;
using CustomerData.Lake;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// The days a partition's batches not yet held by its lake position may have files in: <c>events/_pending_days/TOPIC-PPPPP.json</c>,
/// written before any file of a batch on a day it does not list yet. The clean-up on assignment lists only these day
/// folders rather than the whole lake (an uncommitted file can only be on such a day). Not a <c>*.parquet</c> file and
/// not under a day folder, so no glob of the table and no day listing picks it up.
/// </summary>
/// <param name="EventDays">Days of <c>events/</c> (event dates).</param>
/// <param name="MalformedDays">Days of <c>events_malformed/</c> (Kafka-timestamp dates).</param>
public sealed record PendingDays(string Topic, int Partition, int Epoch, IReadOnlyList<DateOnly> EventDays, IReadOnlyList<DateOnly> MalformedDays, DateTime UpdatedUtc)
{
    public const string Folder = LakeLayout.EventsTable + "/_pending_days/";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string KeyOf(string topic, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{Folder}{topic}-{partition:D5}.json");

    public string Key => KeyOf(Topic, Partition);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, s_json);

    public static PendingDays FromJson(byte[] json) =>
        JsonSerializer.Deserialize<PendingDays>(json, s_json) ?? throw new InvalidDataException("empty pending days");

    public static async Task<PendingDays?> ReadAsync(ILakeStorage lake, string topic, int partition, CancellationToken cancellationToken = default) =>
        await lake.ReadAsync(KeyOf(topic, partition), cancellationToken) is { } bytes ? FromJson(bytes) : null;
}
