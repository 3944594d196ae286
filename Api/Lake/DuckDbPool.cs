using System.Diagnostics;
using System.Diagnostics.Metrics;
using CustomerData.Lake;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;

namespace CustomerData.Api.Lake;

/// <summary>
/// One DuckDB database for the process and a bounded pool of open connections to it. DuckDB.NET serialises (and
/// has failed) when one connection is shared by threads, and every plain <c>:memory:</c> connection is a database of
/// its own, so the pool opens one connection, configures the database once and duplicates it. The database is
/// locked down before any request runs: no file outside the lake root, no setting change
/// (<c>enable_external_access=false</c>, <c>allowed_directories</c>, <c>lock_configuration=true</c>).
/// A request waits at most <see cref="DuckDbSettings.AcquireTimeout"/> for a connection, then gets 503.
/// </summary>
public sealed class DuckDbPool : IDisposable
{
    private readonly DuckDBConnection _primary;
    private readonly Stack<DuckDBConnection> _idle = new();
    private readonly SemaphoreSlim _available;
    private readonly TimeSpan _acquireTimeout;
    private readonly int _size;
    private long _rejected;

    public DuckDbPool(IOptions<ApiOptions> options, LakeReadRoot readRoot, ILogger<DuckDbPool> logger)
    {
        var settings = options.Value.DuckDb;
        _size = settings.Connections;
        _acquireTimeout = settings.AcquireTimeout;
        _primary = new DuckDBConnection("DataSource=:memory:");
        _primary.Open();
        foreach (var statement in Setup(settings, readRoot)) Execute(_primary, statement);
        for (var i = 0; i < _size; i++)
        {
            var connection = _primary.Duplicate();
            connection.Open();
            _idle.Push(connection);
        }
        _available = new SemaphoreSlim(_size, _size);
        // Queries block the thread-pool threads they run on (up to Size at once). With the pool's default minimum
        // (one thread a core) those blocked threads starve Kestrel and the waiting requests until the pool injects
        // more (slowly): measured uncached, 2 or 4 concurrent queries answered fewer requests than 1. Keep a thread
        // a core free besides every connection.
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount + _size), completionPorts);
        ApiTelemetry.RegisterPool(this);
        logger.LogInformation("DuckDB ready: {Connections} connections, {Threads} threads, memory limit {MemoryLimit}, files readable under {ReadRoot} only",
            _size, settings.Threads, settings.MemoryLimit, readRoot.AllowedDirectory);
    }

    public int Size => _size;
    public int InUse => _size - _available.CurrentCount;
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>The statements that configure and then lock the database.</summary>
    internal static IEnumerable<string> Setup(DuckDbSettings settings, LakeReadRoot readRoot)
    {
        foreach (var statement in ExtensionSettings(settings)) yield return statement;
        foreach (var statement in readRoot.DuckDbStatements) yield return statement;
        yield return $"SET threads = {settings.Threads}";
        yield return $"SET memory_limit = {LakeDuckDb.Quote(settings.MemoryLimit)}";
        yield return "SET parquet_metadata_cache = true";
        yield return $"SET allowed_directories = [{LakeDuckDb.Quote(readRoot.AllowedDirectory)}]";
        yield return "SET enable_external_access = false";
        yield return "SET lock_configuration = true";
    }

    /// <summary>Where extensions come from, and never downloaded or loaded behind our back (an explicit <c>LOAD</c> still works).</summary>
    internal static IEnumerable<string> ExtensionSettings(DuckDbSettings settings)
    {
        if (!string.IsNullOrWhiteSpace(settings.ExtensionDirectory)) yield return $"SET extension_directory = {LakeDuckDb.Quote(settings.ExtensionDirectory)}";
        yield return "SET autoinstall_known_extensions = false";
        yield return "SET autoload_known_extensions = false";
    }

    /// <summary>Runs <paramref name="work"/> on a pooled connection; 503 when none frees up within the bound.</summary>
    public async Task<T> RunAsync<T>(string operation, Func<DuckDBConnection, T> work, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.GetTimestamp();
        if (!await _available.WaitAsync(_acquireTimeout, cancellationToken))
        {
            Interlocked.Increment(ref _rejected);
            ApiTelemetry.PoolRejected.Add(1);
            throw new ServiceUnavailableException($"No DuckDB connection became free within {_acquireTimeout.TotalMilliseconds} ms.");
        }
        ApiTelemetry.PoolWait.Record(Stopwatch.GetElapsedTime(waited).TotalMilliseconds);
        DuckDBConnection connection;
        lock (_idle) connection = _idle.Pop();
        using var activity = ApiTelemetry.Source.StartActivity("duckdb " + operation, ActivityKind.Client);
        activity?.SetTag("db.system.name", "duckdb");
        activity?.SetTag("db.operation.name", operation);
        try
        {
            // DuckDB.NET's calls block: they run on this request's pool thread, and at most Size of them at once.
            return work(connection);
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
        finally
        {
            lock (_idle) _idle.Push(connection);
            _available.Release();
        }
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        lock (_idle)
        {
            while (_idle.TryPop(out var connection)) connection.Dispose();
        }
        _primary.Dispose();
        _available.Dispose();
    }
}
