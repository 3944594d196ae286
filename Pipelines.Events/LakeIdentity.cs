using System.Text.Json;
using CustomerData.Contracts;
using CustomerData.Lake;

namespace CustomerData.Pipelines.Events;

/// <summary>
/// Which consumer group owns the events lake: <c>events/_lake_identity.json</c>, written create-only by the first
/// start. The group's committed offsets say how far the lake holds the topic, so a different group over the same
/// lake would replay the topic from its start and store every compacted event a second time.
/// </summary>
public sealed record LakeIdentity(string GroupId, string Topic, DateTime CreatedUtc, string? AdoptedFrom = null)
{
    public const string Key = LakeLayout.EventsTable + "/_lake_identity.json";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, s_json);

    public static LakeIdentity FromJson(byte[] json) =>
        JsonSerializer.Deserialize<LakeIdentity>(json, s_json) ?? throw new InvalidDataException($"{Key} is empty.");

    /// <summary>The lake's owner: the one already recorded, or <paramref name="ours"/> when the lake has none yet (then recorded).</summary>
    public static async Task<LakeIdentity> ReadOrClaimAsync(ILakeStorage lake, LakeIdentity ours, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await lake.ReadAsync(Key, cancellationToken) is { } existing) return FromJson(existing);
            // Create-only: of two instances starting on an empty lake at once, one claims it and the other reads that claim.
            if (await lake.TryCreateAsync(Key, ours.ToJson(), cancellationToken)) return ours;
        }
        throw new IOException($"{Key} exists but cannot be read.");
    }
}
