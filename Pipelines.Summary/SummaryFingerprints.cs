using System.Globalization;
using System.Text.Json;
using CustomerData.Lake;

namespace CustomerData.Pipelines.Summary;

/// <summary>
/// The source fingerprint of every day as it was when the day's files were last written, kept in one small JSON
/// object of the lake (<see cref="LakeLayout.SummaryFingerprintsFile"/>): one read tells the reconcile pass what the
/// lake was computed from, without opening a Parquet file.
/// </summary>
public sealed class SummaryFingerprints
{
    private readonly SortedDictionary<string, string> _days;

    private SummaryFingerprints(SortedDictionary<string, string> days, bool existed)
    {
        _days = days;
        Existed = existed;
    }

    /// <summary>False for a lake written before fingerprints existed: then nothing about it is known.</summary>
    public bool Existed { get; }

    public static SummaryFingerprints Empty() => new(new SortedDictionary<string, string>(StringComparer.Ordinal), existed: false);

    public static async Task<SummaryFingerprints> ReadAsync(ILakeStorage lake, CancellationToken cancellationToken)
    {
        var bytes = await lake.ReadAsync(LakeLayout.SummaryFingerprintsFile, cancellationToken);
        if (bytes is null) return Empty();
        var days = JsonSerializer.Deserialize<SortedDictionary<string, string>>(bytes) ?? [];
        return new SummaryFingerprints(new SortedDictionary<string, string>(days, StringComparer.Ordinal), existed: true);
    }

    public async Task WriteAsync(ILakeStorage lake, CancellationToken cancellationToken) =>
        await lake.PublishAsync(LakeLayout.SummaryFingerprintsFile, JsonSerializer.SerializeToUtf8Bytes(_days), cancellationToken);

    public IEnumerable<DateOnly> Days => _days.Keys.Select(k => DateOnly.ParseExact(k, "yyyy-MM-dd", CultureInfo.InvariantCulture));

    public string? Get(DateOnly day) => _days.GetValueOrDefault(LakeLayout.Day(day));

    /// <summary>Records what <paramref name="day"/> was computed from; a day without rows has no entry.</summary>
    public void Set(DateOnly day, DayFingerprint fingerprint)
    {
        if (fingerprint.Count == 0) _days.Remove(LakeLayout.Day(day));
        else _days[LakeLayout.Day(day)] = fingerprint.ToString();
    }

    /// <summary>Forgets days on or after <paramref name="from"/> (all days without it): a rebuild writes them anew.</summary>
    public void Clear(DateOnly? from)
    {
        foreach (var key in _days.Keys.ToList())
        {
            if (from is null || string.CompareOrdinal(key, LakeLayout.Day(from.Value)) >= 0) _days.Remove(key);
        }
    }
}
