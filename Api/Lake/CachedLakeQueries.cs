using CustomerData.Api.Contract;

namespace CustomerData.Api.Lake;

/// <summary>
/// Answers from the files in memory: a day's summary file is one sorted array; an events day is its readable files,
/// each sorted by customer. One customer's events over a range cost a binary search per file of each day, oldest
/// day first, and stop once <c>limit</c> events are found.
/// </summary>
public sealed class CachedLakeQueries(LakeFileCache cache) : ILakeQueries
{
    public async Task<IReadOnlyList<DailySummaryDto>?> SummariesAsync(LakeSnapshot snapshot, DateOnly day, CancellationToken cancellationToken) =>
        snapshot.SummaryFile(day) is { } file ? (await cache.SummaryAsync(day, file, cancellationToken)).All : null;

    public async Task<DailySummaryDto?> SummaryAsync(LakeSnapshot snapshot, DateOnly day, int customerId, CancellationToken cancellationToken) =>
        snapshot.SummaryFile(day) is { } file ? (await cache.SummaryAsync(day, file, cancellationToken)).Find(customerId) : null;

    public async Task<IReadOnlyList<DailySummaryDto>> CustomerSummariesAsync(LakeSnapshot snapshot, int customerId, DateOnly? from, DateOnly? to, CancellationToken cancellationToken)
    {
        var result = new List<DailySummaryDto>();
        foreach (var (day, file) in snapshot.SummaryDaysIn(from, to))
        {
            if ((await cache.SummaryAsync(day, file, cancellationToken)).Find(customerId) is { } row) result.Add(row);
        }
        return result;
    }

    public async Task<IReadOnlyList<CustomerEventDto>> EventsAsync(LakeSnapshot snapshot, int customerId, DateOnly? from, DateOnly? to, int limit, CancellationToken cancellationToken)
    {
        var result = new List<CustomerEventDto>();
        var day = new List<CustomerEventDto>();
        foreach (var (date, files) in snapshot.EventDaysIn(from, to))
        {
            day.Clear();
            foreach (var file in files) (await cache.EventsAsync(date, file, cancellationToken)).Collect(customerId, day);
            // A day's files each hold their events in order; several files (batches before compaction) are merged here.
            if (files.Count > 1) day.Sort(EventOrder.Instance);
            result.AddRange(day.Count <= limit - result.Count ? day : day.GetRange(0, limit - result.Count));
            if (result.Count >= limit) break;
        }
        return result;
    }
}

/// <summary>SPEC §9: event_timestamp ascending, then event_id ascending (ordinal, as DuckDB sorts VARCHAR).</summary>
public sealed class EventOrder : IComparer<CustomerEventDto>
{
    public static readonly EventOrder Instance = new();

    public int Compare(CustomerEventDto? x, CustomerEventDto? y)
    {
        var byTime = x!.EventTimestamp.UtcTicks.CompareTo(y!.EventTimestamp.UtcTicks);
        return byTime != 0 ? byTime : string.CompareOrdinal(x.EventId, y.EventId);
    }
}
