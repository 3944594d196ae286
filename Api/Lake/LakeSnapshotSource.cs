using System.Diagnostics;
using CustomerData.Lake;
using Microsoft.Extensions.Options;

namespace CustomerData.Api.Lake;

/// <summary>
/// Lists the lake every <see cref="ApiOptions.RefreshInterval"/> (after syncing the mirror, for S3 without httpfs) and
/// publishes a new <see cref="LakeSnapshot"/>. Requests never list or sync: an answer reflects the lake as of at most
/// one interval plus one listing ago. An events day is read through its compaction manifest only when its
/// objects changed since the last listing. A request that finds a file of its snapshot gone asks for a refresh now.
/// </summary>
public sealed partial class LakeSnapshotSource(
    LakeReadRoot root,
    IOptions<ApiOptions> options,
    LakeFileCache cache,
    TimeProvider time,
    ILogger<LakeSnapshotSource> logger) : BackgroundService
{
    private readonly TimeSpan _interval = options.Value.RefreshInterval;
    private readonly bool _cacheLakeFiles = options.Value.CacheLakeFiles;
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Dictionary<DateOnly, (List<LakeObject> Objects, IReadOnlyList<LakeFile> Readable)> _eventDays = [];
    private volatile LakeSnapshot _current = LakeSnapshot.Empty;
    private volatile string? _lastError;
    private DateTimeOffset _lastSuccess = DateTimeOffset.MinValue;

    public LakeSnapshot Current => _current;

    /// <summary>Why the last listing failed, or null when it succeeded.</summary>
    public string? LastError => _lastError;

    /// <summary>When the last listing succeeded.</summary>
    public DateTimeOffset LastSuccess => _lastSuccess;

    public TimeSpan Interval => _interval;

    /// <summary>
    /// The snapshot, after the first listing has been taken (the first requests after start wait for it, bounded).
    /// Until a listing has succeeded the lake's content is unknown: 503, not an empty answer.
    /// </summary>
    public async ValueTask<LakeSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        if (!_first.Task.IsCompleted)
        {
            try
            {
                await _first.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
        if (_lastSuccess == DateTimeOffset.MinValue)
        {
            throw new ServiceUnavailableException("The lake has not been listed yet" + (_lastError is { } e ? ": " + e : "."));
        }
        return _current;
    }

    /// <summary>Lists again now (a file of the snapshot vanished); a caller arriving during a listing shares it.</summary>
    public async Task<LakeSnapshot> RefreshNowAsync(LakeSnapshot seen, CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            if (!ReferenceEquals(_current, seen)) return _current;
            await RefreshCoreAsync(cancellationToken);
            return _current;
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ApiTelemetry.RegisterSnapshots(this);
        using var timer = new PeriodicTimer(_interval, time);
        do
        {
            await _refreshGate.WaitAsync(stoppingToken);
            try
            {
                await RefreshCoreAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _lastError = ex.Message;
                ApiTelemetry.LakeRefreshFailures.Add(1);
                LogRefreshFailed(ex);
            }
            finally
            {
                _refreshGate.Release();
                _first.TrySetResult();
            }
            // Uncached (Api:CacheLakeFiles=false) nothing reads the cache: loading the lake into it would only take
            // CPU, memory and pool connections from the requests.
            if (_cacheLakeFiles) cache.Warm(_current, stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task RefreshCoreAsync(CancellationToken cancellationToken)
    {
        using var activity = ApiTelemetry.Source.StartActivity("lake refresh");
        var started = Stopwatch.GetTimestamp();
        if (root.Mirror is { } mirror)
        {
            await mirror.SyncAsync(LakeLayout.SummaryTable + "/", cancellationToken);
            await mirror.SyncAsync(LakeLayout.EventsTable + "/", cancellationToken);
        }
        var lake = root.Readable;
        var summaryDays = new SortedList<DateOnly, LakeFile>();
        foreach (var o in await ListAsync(lake, LakeLayout.SummaryTable + "/", cancellationToken))
        {
            if (o.Key.EndsWith("/" + LakeLayout.SummaryPartFile, StringComparison.Ordinal)
                && LakeLayout.TryParseDay(o.Key, LakeLayout.SummaryPartitionKey, out var day))
            {
                summaryDays[day] = LakeFile.From(root, o);
            }
        }
        var eventDays = await ListEventDaysAsync(lake, cancellationToken);
        var taken = time.GetUtcNow();
        _current = new LakeSnapshot(taken, summaryDays, eventDays);
        _lastSuccess = taken;
        _lastError = null;
        cache.Retain(_current);
        ApiTelemetry.LakeRefreshes.Add(1);
        activity?.SetTag("summary_days", summaryDays.Count);
        activity?.SetTag("event_days", eventDays.Count);
        LogRefreshed(summaryDays.Count, eventDays.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>Per events day the readable files; a day whose objects are as last time keeps its view (no manifest read).</summary>
    private async Task<SortedList<DateOnly, IReadOnlyList<LakeFile>>> ListEventDaysAsync(ILakeStorage lake, CancellationToken cancellationToken)
    {
        var listed = new Dictionary<DateOnly, List<LakeObject>>();
        foreach (var o in await ListAsync(lake, LakeLayout.EventsTable + "/", cancellationToken))
        {
            if (!EventFileNames.TryParseDay(o.Key, out var day)) continue;
            if (!listed.TryGetValue(day, out var list)) listed[day] = list = [];
            list.Add(o);
        }
        var reader = new EventsLakeReader(lake);
        var next = new Dictionary<DateOnly, (List<LakeObject>, IReadOnlyList<LakeFile>)>();
        var result = new SortedList<DateOnly, IReadOnlyList<LakeFile>>();
        foreach (var (day, objects) in listed)
        {
            IReadOnlyList<LakeFile> readable;
            if (_eventDays.TryGetValue(day, out var known) && known.Objects.SequenceEqual(objects))
            {
                readable = known.Readable;
            }
            else
            {
                var view = await reader.ReadDayAsync(day, cancellationToken);
                readable = view.Readable.Select(o => LakeFile.From(root, o)).ToList();
                objects.Clear();
                objects.AddRange(view.Objects);
            }
            next[day] = (objects, readable);
            if (readable.Count > 0) result[day] = readable;
        }
        _eventDays = next;
        return result;
    }

    /// <summary>A folder that does not exist yet is an empty lake.</summary>
    private static async Task<IReadOnlyList<LakeObject>> ListAsync(ILakeStorage lake, string prefix, CancellationToken cancellationToken)
    {
        try
        {
            return await lake.ListAsync(prefix, cancellationToken);
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Lake listed: {SummaryDays} summary days, {EventDays} event days in {ElapsedMs} ms")]
    private partial void LogRefreshed(int summaryDays, int eventDays, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listing the lake failed; answers keep the previous listing")]
    private partial void LogRefreshFailed(Exception exception);
}
