using System.Collections.Concurrent;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;

namespace CustomerData.Api.Lake;

/// <summary>
/// Lake files read into memory once per version (path, size, write time), so a rewritten day or a compacted one
/// is a new entry and an old answer can never be served for it. Bounded by <see cref="ApiOptions.MaxCachedRows"/>:
/// the least recently used files leave first; files that leave the lake's listing leave the cache. A file that cannot
/// be read is logged once (with its name) and answers 500 for the requests that need it until its version changes.
/// </summary>
public sealed partial class LakeFileCache
{
    private readonly ConcurrentDictionary<LakeFile, Entry> _entries = new();
    private readonly DuckDbPool _pool;
    private readonly long _maxRows;
    private readonly ILogger<LakeFileCache> _logger;
    private readonly SemaphoreSlim _warming = new(1, 1);
    private long _clock;

    public LakeFileCache(DuckDbPool pool, IOptions<ApiOptions> options, ILogger<LakeFileCache> logger)
    {
        _pool = pool;
        _maxRows = options.Value.MaxCachedRows;
        _logger = logger;
        ApiTelemetry.RegisterCache(this);
    }

    /// <summary>Rows of the files in memory now (summed over the entries, so a load that lost a race or left the listing is never counted).</summary>
    public long CachedRows => _entries.Values.Sum(e => e.Rows);

    /// <summary>Files known to be unreadable, by name (health reports them).</summary>
    public IReadOnlyList<string> UnreadableFiles =>
        _entries.Where(e => e.Value.Task.IsFaulted && e.Value.Task.Exception?.InnerException is LakeFileException).Select(e => e.Key.Name).ToList();

    public Task<EventSegment> EventsAsync(DateOnly day, LakeFile file, CancellationToken cancellationToken) =>
        GetAsync(file, "load events file", c => EventSegment.Load(c, day, file.Uri), s => s.Rows, cancellationToken);

    public Task<SummarySegment> SummaryAsync(DateOnly day, LakeFile file, CancellationToken cancellationToken) =>
        GetAsync(file, "load summary file", c => SummarySegment.Load(c, day, file.Uri), s => s.Rows, cancellationToken);

    private async Task<T> GetAsync<T>(LakeFile file, string operation, Func<DuckDBConnection, T> load, Func<T, int> rows, CancellationToken cancellationToken)
        where T : class
    {
        // Lazy: GetOrAdd may run its factory twice under a race; only the entry that won ever starts a load.
        var entry = _entries.GetOrAdd(file, f => new Entry(e => LoadAsync(e, f, operation, load, rows)));
        entry.LastUse = Interlocked.Increment(ref _clock);
        if (entry.Task.IsCompletedSuccessfully) ApiTelemetry.CacheHits.Add(1);
        try
        {
            return (T)await entry.Task.WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is LakeFileVanishedException or ServiceUnavailableException)
        {
            // Not a property of the file's content: the next request tries again.
            _entries.TryRemove(new KeyValuePair<LakeFile, Entry>(file, entry));
            throw;
        }
    }

    private async Task<object> LoadAsync<T>(Entry entry, LakeFile file, string operation, Func<DuckDBConnection, T> load, Func<T, int> rows)
        where T : class
    {
        await Task.Yield(); // the first caller only starts the load; it waits for it like every other caller
        T segment;
        try
        {
            segment = await _pool.RunAsync(operation, load, CancellationToken.None);
        }
        catch (DuckDBException ex)
        {
            throw LakeErrors.Classify(file, ex, _logger);
        }
        ApiTelemetry.CacheLoads.Add(1);
        entry.Rows = rows(segment);
        Evict();
        return segment;
    }

    /// <summary>Drops files that are no longer in the lake's listing.</summary>
    public void Retain(LakeSnapshot snapshot)
    {
        var live = snapshot.AllFiles().ToHashSet();
        foreach (var (file, entry) in _entries)
        {
            if (!live.Contains(file)) Remove(file, entry);
        }
    }

    /// <summary>Loads the snapshot's files in the background, newest days first, while they fit in the budget.</summary>
    public void Warm(LakeSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (!_warming.Wait(0)) return;
        _ = Task.Run(async () =>
        {
            try
            {
                long planned = CachedRows;
                foreach (var (day, files) in snapshot.EventDays.Reverse())
                {
                    foreach (var file in files)
                    {
                        if (_entries.ContainsKey(file)) continue;
                        if (planned >= _maxRows) return;
                        planned += (await EventsAsync(day, file, cancellationToken)).Rows;
                    }
                }
                foreach (var (day, file) in snapshot.SummaryDays.Reverse())
                {
                    if (_entries.ContainsKey(file)) continue;
                    if (planned >= _maxRows) return;
                    planned += (await SummaryAsync(day, file, cancellationToken)).Rows;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Logged where it happened (LakeErrors); the requests that need the file report it.
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                _warming.Release();
            }
        }, CancellationToken.None);
    }

    private void Evict()
    {
        while (CachedRows > _maxRows)
        {
            var victim = _entries.Where(e => e.Value.Task.IsCompletedSuccessfully).MinBy(e => e.Value.LastUse);
            if (victim.Value is null || !Remove(victim.Key, victim.Value)) return;
        }
    }

    private bool Remove(LakeFile file, Entry entry) => _entries.TryRemove(new KeyValuePair<LakeFile, Entry>(file, entry));

    private sealed class Entry
    {
        private readonly Lazy<Task<object>> _load;

        public Entry(Func<Entry, Task<object>> load) => _load = new Lazy<Task<object>>(() => load(this));

        public Task<object> Task => _load.Value;
        public long LastUse;
        /// <summary>Rows once loaded (0 before).</summary>
        public long Rows;
    }
}
