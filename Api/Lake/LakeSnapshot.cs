using CustomerData.Lake;

namespace CustomerData.Api.Lake;

/// <summary>A file DuckDB reads: its path or URI, and the size and write time that identify this version of it.</summary>
public sealed record LakeFile(string Uri, long Size, DateTimeOffset LastModified)
{
    public static LakeFile From(LakeReadRoot root, LakeObject o) => new(root.UriOf(o.Key), o.Size, o.LastModified);

    /// <summary>The file name alone, for logs (a path may name the machine's folders).</summary>
    public string Name => Uri[(Uri.LastIndexOf('/') + 1)..];
}

/// <summary>
/// What the lake held at one listing: per summary day its file, per events day the files a reader must read
/// (the compaction manifest's live files plus the batch files it has not replaced). Immutable; requests read the
/// latest one, so every answer is consistent with one listing.
/// </summary>
public sealed class LakeSnapshot(
    DateTimeOffset takenUtc,
    SortedList<DateOnly, LakeFile> summaryDays,
    SortedList<DateOnly, IReadOnlyList<LakeFile>> eventDays)
{
    public static readonly LakeSnapshot Empty = new(DateTimeOffset.MinValue, new(), new());

    public DateTimeOffset TakenUtc { get; } = takenUtc;
    public SortedList<DateOnly, LakeFile> SummaryDays { get; } = summaryDays;
    public SortedList<DateOnly, IReadOnlyList<LakeFile>> EventDays { get; } = eventDays;

    public LakeFile? SummaryFile(DateOnly day) => SummaryDays.GetValueOrDefault(day);

    /// <summary>The event days within the inclusive range (null = open), oldest first.</summary>
    public IEnumerable<KeyValuePair<DateOnly, IReadOnlyList<LakeFile>>> EventDaysIn(DateOnly? from, DateOnly? to) => InRange(EventDays, from, to);

    /// <summary>The summary days within the inclusive range (null = open), oldest first.</summary>
    public IEnumerable<KeyValuePair<DateOnly, LakeFile>> SummaryDaysIn(DateOnly? from, DateOnly? to) => InRange(SummaryDays, from, to);

    /// <summary>Every file of the snapshot (the cache keeps only these).</summary>
    public IEnumerable<LakeFile> AllFiles() => SummaryDays.Values.Concat(EventDays.Values.SelectMany(f => f));

    private static IEnumerable<KeyValuePair<DateOnly, T>> InRange<T>(SortedList<DateOnly, T> days, DateOnly? from, DateOnly? to)
    {
        var keys = days.Keys;
        for (var i = from is { } f ? LowerBound(keys, f) : 0; i < keys.Count; i++)
        {
            if (to is { } t && keys[i] > t) yield break;
            yield return new(keys[i], days.Values[i]);
        }
    }

    private static int LowerBound(IList<DateOnly> keys, DateOnly value)
    {
        int lo = 0, hi = keys.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (keys[mid] < value) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
