using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CustomerData.Api.Lake;

/// <summary>The API's traces and metrics (ServiceDefaults exports every <c>CustomerData.*</c> source and meter).</summary>
public static class ApiTelemetry
{
    public const string Name = "CustomerData.Api";

    public static readonly ActivitySource Source = new(Name);
    private static readonly Meter s_meter = new(Name);

    public static readonly Histogram<double> PoolWait = s_meter.CreateHistogram<double>("api.duckdb.pool.wait", "ms", "Time a request waited for a DuckDB connection");
    public static readonly Counter<long> PoolRejected = s_meter.CreateCounter<long>("api.duckdb.pool.rejected", description: "Requests answered 503 because no DuckDB connection freed up in time");
    public static readonly Counter<long> CacheHits = s_meter.CreateCounter<long>("api.lake.cache.hits", description: "Lake file reads answered from memory");
    public static readonly Counter<long> CacheLoads = s_meter.CreateCounter<long>("api.lake.cache.loads", description: "Lake files read into memory");
    public static readonly Counter<long> LakeRefreshes = s_meter.CreateCounter<long>("api.lake.refreshes", description: "Listings of the lake (with the mirror sync for S3 without httpfs)");
    public static readonly Counter<long> LakeRefreshFailures = s_meter.CreateCounter<long>("api.lake.refresh.failures", description: "Listings of the lake that failed");
    public static readonly Counter<long> UnreadableFiles = s_meter.CreateCounter<long>("api.lake.unreadable_files", description: "Lake files that could not be read (corrupt)");

    private static DuckDbPool? s_pool;
    private static LakeSnapshotSource? s_snapshots;
    private static LakeFileCache? s_cache;

    static ApiTelemetry()
    {
        s_meter.CreateObservableGauge("api.duckdb.pool.in_use", () => s_pool?.InUse ?? 0, description: "DuckDB connections running a query");
        s_meter.CreateObservableGauge("api.lake.snapshot.age", () => s_snapshots?.Current is { } s ? (DateTimeOffset.UtcNow - s.TakenUtc).TotalSeconds : 0, "s", "Age of the lake listing answers are read from");
        s_meter.CreateObservableGauge("api.lake.cache.rows", () => s_cache?.CachedRows ?? 0, description: "Lake rows kept in memory");
    }

    internal static void RegisterPool(DuckDbPool pool) => s_pool = pool;
    internal static void RegisterSnapshots(LakeSnapshotSource source) => s_snapshots = source;
    internal static void RegisterCache(LakeFileCache cache) => s_cache = cache;
}
