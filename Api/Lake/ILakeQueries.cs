using CustomerData.Api.Contract;

namespace CustomerData.Api.Lake;

/// <summary>The lake reads the API answers from: over the files in memory (<see cref="CachedLakeQueries"/>) or straight through DuckDB (<see cref="DirectLakeQueries"/>).</summary>
public interface ILakeQueries
{
    /// <summary>Every summary row of the day, by customer_id; null when the lake has no such day.</summary>
    Task<IReadOnlyList<DailySummaryDto>?> SummariesAsync(LakeSnapshot snapshot, DateOnly day, CancellationToken cancellationToken);

    /// <summary>The customer's summary row of the day, or null.</summary>
    Task<DailySummaryDto?> SummaryAsync(LakeSnapshot snapshot, DateOnly day, int customerId, CancellationToken cancellationToken);

    /// <summary>The customer's summary row of every day in the inclusive range (null = open), oldest first.</summary>
    Task<IReadOnlyList<DailySummaryDto>> CustomerSummariesAsync(LakeSnapshot snapshot, int customerId, DateOnly? from, DateOnly? to, CancellationToken cancellationToken);

    /// <summary>The customer's first <paramref name="limit"/> events of the inclusive range (null = open), by event_timestamp then event_id.</summary>
    Task<IReadOnlyList<CustomerEventDto>> EventsAsync(LakeSnapshot snapshot, int customerId, DateOnly? from, DateOnly? to, int limit, CancellationToken cancellationToken);
}

/// <summary>Runs a lake read on the current snapshot; when a file of it vanished (compaction clean-up), lists again and retries once.</summary>
public sealed class LakeReads(LakeSnapshotSource snapshots, ILakeQueries queries)
{
    public Task<IReadOnlyList<DailySummaryDto>?> SummariesAsync(DateOnly day, CancellationToken cancellationToken) =>
        WithRetryAsync(s => queries.SummariesAsync(s, day, cancellationToken), cancellationToken);

    public Task<DailySummaryDto?> SummaryAsync(DateOnly day, int customerId, CancellationToken cancellationToken) =>
        WithRetryAsync(s => queries.SummaryAsync(s, day, customerId, cancellationToken), cancellationToken);

    public Task<IReadOnlyList<DailySummaryDto>> CustomerSummariesAsync(int customerId, DateOnly? from, DateOnly? to, CancellationToken cancellationToken) =>
        WithRetryAsync(s => queries.CustomerSummariesAsync(s, customerId, from, to, cancellationToken), cancellationToken);

    public Task<IReadOnlyList<CustomerEventDto>> EventsAsync(int customerId, DateOnly? from, DateOnly? to, int limit, CancellationToken cancellationToken) =>
        WithRetryAsync(s => queries.EventsAsync(s, customerId, from, to, limit, cancellationToken), cancellationToken);

    private async Task<T> WithRetryAsync<T>(Func<LakeSnapshot, Task<T>> read, CancellationToken cancellationToken)
    {
        var snapshot = await snapshots.GetAsync(cancellationToken);
        try
        {
            return await read(snapshot);
        }
        catch (LakeFileVanishedException)
        {
            snapshot = await snapshots.RefreshNowAsync(snapshot, cancellationToken);
            try
            {
                return await read(snapshot);
            }
            catch (LakeFileVanishedException ex)
            {
                throw new ServiceUnavailableException("The lake kept changing while it was read.", ex);
            }
        }
    }
}
