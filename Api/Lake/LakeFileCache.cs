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
    private long _rows;

    public LakeFileCache(DuckDbPool pool, IOptions<ApiOptions> options, ILogger<LakeFileCache> logger)
    {
        _pool = pool;
        _maxRows = options.Value.MaxCachedRows;
        _logger = logger;
        ApiTelemetry.RegisterCache(this);
    }

    public long CachedRows => Interlocked.Read(ref _rows);

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
        var entry = _entries.GetOrAdd(file, f => new Entry(LoadAsync(f, operation, load, rows)));
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

    private async Task<object> LoadAsync<T>(LakeFile file, string operation, Func<DuckDBConnection, T> load, Func<T, int> rows)
        where T : class
    {
        await Task.Yield(); // never load on the caller's stack inside GetOrAdd
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
        Interlocked.Add(ref _rows, rows(segment));
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
        while (Interlocked.Read(ref _rows) > _maxRows)
        {
            var victim = _entries.Where(e => e.Value.Task.IsCompletedSuccessfully).MinBy(e => e.Value.LastUse);
            if (victim.Value is null || !Remove(victim.Key, victim.Value)) return;
        }
    }

    private bool Remove(LakeFile file, Entry entry)
    {
        if (!_entries.TryRemove(new KeyValuePair<LakeFile, Entry>(file, entry))) return false;
        if (entry.Task.IsCompletedSuccessfully)
        {
            Interlocked.Add(ref _rows, -(entry.Task.Result switch { EventSegment e => e.Rows, SummarySegment s => s.Rows, _ => 0 }));
        }
        return true;
    }

    private sealed class Entry(Task<object> task)
    {
        public Task<object> Task { get; } = task;
        public long LastUse;
    }
}
