using System.Globalization;
using System.Text.Json;

namespace CustomerData.Lake;

/// <summary>
/// How far the events lake holds one Kafka partition: <c>events/_positions/TOPIC-PPPPP.json</c>, published after a
/// batch's files are durable and before its Kafka commit. Every batch file of <see cref="Epoch"/> whose first offset
/// is below <see cref="NextOffset"/> is committed data; one at or above it was left by a batch that did not finish.
/// The lake, not the group's committed offset, is the truth: offsets can expire, be reset or vanish with the topic.
/// Not a <c>*.parquet</c> file and not under a day folder, so no glob of the table and no day listing picks it up.
/// </summary>
/// <param name="Epoch">The topic incarnation the offsets belong to (batch files carry it in their names, see <see cref="BatchFileName.Epoch"/>).</param>
/// <param name="TopicId">Kafka's topic id when the broker told it; a different one means the topic was recreated.</param>
/// <param name="ClusterId">Kafka's cluster id when the broker told it; a different one means another cluster.</param>
public sealed record PartitionPosition(string Topic, int Partition, int Epoch, long NextOffset, string? TopicId, string? ClusterId, DateTime UpdatedUtc)
{
    public const string Folder = LakeLayout.EventsTable + "/_positions/";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string KeyOf(string topic, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{Folder}{topic}-{partition:D5}.json");

    public string Key => KeyOf(Topic, Partition);

    /// <summary>Whether the batch file's events are committed in the lake by this position.</summary>
    public bool Holds(BatchFileName batch) =>
        batch.Topic == Topic && batch.Partition == Partition
        && (batch.Epoch < Epoch || (batch.Epoch == Epoch && batch.FirstOffset < NextOffset));

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, s_json);

    public static PartitionPosition FromJson(byte[] json) =>
        JsonSerializer.Deserialize<PartitionPosition>(json, s_json) ?? throw new InvalidDataException("empty partition position");

    public static async Task<PartitionPosition?> ReadAsync(ILakeStorage lake, string topic, int partition, CancellationToken cancellationToken = default) =>
        await ReadKeyAsync(lake, KeyOf(topic, partition), cancellationToken) is { } bytes ? FromJson(bytes) : null;

    /// <summary>
    /// A position object is overwritten after every batch: a read racing an overwrite may fail on some stores
    /// (s3rver answers 500 then), so a failed read is tried again a few times before the error counts.
    /// </summary>
    private static async Task<byte[]?> ReadKeyAsync(ILakeStorage lake, string key, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await lake.ReadAsync(key, cancellationToken);
            }
            catch (Exception) when (attempt < 4 && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(25 * attempt, cancellationToken);
            }
        }
    }

    /// <summary>Every partition position the lake holds, by (topic, partition).</summary>
    public static async Task<IReadOnlyDictionary<(string Topic, int Partition), PartitionPosition>> ReadAllAsync(ILakeStorage lake, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<(string, int), PartitionPosition>();
        foreach (var o in await lake.ListAsync(Folder, cancellationToken))
        {
            if (!o.Key.EndsWith(".json", StringComparison.Ordinal)) continue;
            if (await ReadKeyAsync(lake, o.Key, cancellationToken) is not { } bytes) continue; // gone meanwhile
            var p = FromJson(bytes);
            result[(p.Topic, p.Partition)] = p;
        }
        return result;
    }
}
